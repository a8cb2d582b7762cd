# Thin wrapper over CMake. Every target installs missing Debian packages
# first (scripts/setup, needs root) and builds with -j2 (Beast TUs need ~2 GB each).
JOBS      ?= 2
BUILD     ?= build/release
FUZZBUILD ?= build/fuzz
STATICBUILD ?= build/static
PREFIX    ?= /usr/local
CMAKE_ARGS ?=
CCACHE    := $(shell command -v ccache 2>/dev/null)
LAUNCHER  := $(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache,)
# `make fuzz`: seconds per target (the issue asks for at least 10 minutes each),
# and which targets (default: all). Results: $(FUZZBUILD)/fuzz-logs/.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=

.PHONY: all setup configure build test test-unit test-fuzz-replay fuzz bench soak run clean format \
        package install release test-deb

all: build

setup:
	@scripts/setup --check >/dev/null 2>&1 || scripts/setup

$(BUILD)/build.ninja: CMakeLists.txt | setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSSMC_WERROR=ON $(LAUNCHER) $(CMAKE_ARGS)

configure: setup $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j$(JOBS)

$(FUZZBUILD)/build.ninja: CMakeLists.txt | setup
	cmake -S . -B $(FUZZBUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DSSMC_FUZZ=ON -DSSMC_WERROR=ON -DSSMC_BENCH=OFF -DSSMC_IO=OFF $(LAUNCHER)

# Unit, property and transcript tests (g++), then the same core tests plus a
# replay of every committed fuzz corpus under clang-14 ASan+UBSan.
test: build $(FUZZBUILD)/build.ninja
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)
	cmake --build $(FUZZBUILD) -j$(JOBS)
	ctest --test-dir $(FUZZBUILD) --output-on-failure -j$(JOBS)

# Longer fuzz runs: each target for FUZZ_SECONDS, one at a time; new inputs
# kept in $(FUZZBUILD)/fuzz-corpus (scripts/fuzz-minimize folds them into
# tests/fuzz/corpus). Ends with a summary table.
fuzz: setup $(FUZZBUILD)/build.ninja
	cmake --build $(FUZZBUILD) -j$(JOBS)
	scripts/fuzz $(FUZZBUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Micro-benchmarks (bench/*_bench.cpp, scripts/bench), then the end-to-end
# suite (scripts/bench-e2e: ssmc and ssmc-emulator on loopback, a few minutes;
# sizes via BENCH_* variables, see scripts/bench-e2e --help). Both write
# bench/results/ and rewrite their sections of docs/benchmarks.md (plots in
# docs/benchmarks/, drawn with gnuplot).
bench: build
	scripts/bench $(BUILD)
	scripts/bench-e2e $(BUILD)

# The long fault run (issue #7, not part of `make test`): 1 GiB through 8
# forwarded connections plus an active shell, on an emulator with frame loss,
# duplication, reordering, a WebSocket drop every 10 s and one 90 s stall.
# Checks every byte's SHA-256, the shell's answers, flat RSS and that no
# session or process is left; figures in bench/results/soak.json. Sizes and
# faults: SOAK_* variables (docs/soak.md, scripts/soak).
soak: build
	scripts/soak $(BUILD)

# Starts ssmc-emulator and opens an interactive `ssmc shell` on it.
run: build
	scripts/run-demo $(BUILD)

# The .deb of $(BUILD) (CPack): $(BUILD)/ssmc_<version>_<arch>.deb with ssmc,
# ssmc-emulator, the session-manager-plugin link, libssmc.a, headers, CMake
# and pkg-config files, man pages and bash/zsh completions.
package: build
	cmake --build $(BUILD) --target package

# Installs $(BUILD) under PREFIX (default /usr/local; DESTDIR works too).
install: build
	cmake --install $(BUILD) --prefix $(PREFIX) --strip

# Release build that needs only libc at run time (SSMC_STATIC_RUNTIME,
# stack.md §1.2) in $(STATICBUILD), and its .deb; checks and reports the
# runtime dependencies and stripped sizes. -O2 as in the other builds (g++ 12
# at -O3 reports a false -Wstringop-overread in std::map<std::vector<...>>).
release: setup
	cmake -S . -B $(STATICBUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" \
	  -DSSMC_STATIC_RUNTIME=ON \
	  -DSSMC_TESTS=OFF -DSSMC_BENCH=OFF -DSSMC_WERROR=ON $(LAUNCHER) $(CMAKE_ARGS)
	cmake --build $(STATICBUILD) -j$(JOBS)
	cmake --build $(STATICBUILD) --target package
	scripts/check-static $(STATICBUILD)

# Installs the .deb of $(BUILD) with apt-get (root), runs `aws ssm
# start-session` through the installed session-manager-plugin against the
# installed ssmc-emulator, removes the package. Refuses if ssmc is already
# installed or a /usr/bin/session-manager-plugin exists.
test-deb: package
	scripts/test-deb $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build
