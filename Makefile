# Thin wrapper over CMake. Every target installs missing Debian packages
# first (scripts/setup, needs root) and builds with -j2 (Beast TUs need ~2 GB each).
JOBS      ?= 2
BUILD     ?= build/release
FUZZBUILD ?= build/fuzz
CMAKE_ARGS ?=
CCACHE    := $(shell command -v ccache 2>/dev/null)
LAUNCHER  := $(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache,)
FUZZ_SECONDS ?= 60

.PHONY: all setup configure build test test-unit test-fuzz-replay fuzz bench run clean format

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

# Longer fuzz runs: each target for FUZZ_SECONDS, new inputs kept in the corpus.
fuzz: setup $(FUZZBUILD)/build.ninja
	cmake --build $(FUZZBUILD) -j$(JOBS)
	scripts/fuzz $(FUZZBUILD) $(FUZZ_SECONDS)

bench: build
	scripts/bench $(BUILD)

# Starts ssmc-emulator and opens an interactive `ssmc shell` on it.
run: build
	scripts/run-demo $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf build
