// Links against the installed libssmc: the library's version must be the
// headers' version. Prints "ssmc <version>".
// RUN:
// EXPECT: ^ssmc \d+\.\d+\.\d+$
#include <ssmc/version.hpp>

#include <cstdio>
#include <cstring>

static_assert(SSMC_VERSION == SSMC_VERSION_MAJOR * 10000 + SSMC_VERSION_MINOR * 100 + SSMC_VERSION_PATCH);

int main() {
  const char* linked = ssmc::version_string();
  std::printf("ssmc %s\n", linked);
  if (std::strcmp(linked, SSMC_VERSION_STRING) != 0) {
    std::fprintf(stderr, "headers say %s, library says %s\n", SSMC_VERSION_STRING, linked);
    return 1;
  }
  return 0;
}
