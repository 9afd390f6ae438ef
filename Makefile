# Thin wrapper over CMake: everything lands in build/.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build secure test demo bench bench-quick clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Only the hardened library, build/libtidemalloc-secure.so (`make build`
# builds it too, with everything else; docs/SECURITY.md).
secure: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target tidemalloc_secure

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

demo: build
	bash tools/demo.sh

bench: build
	python3 bench/run.py $(BENCH_ARGS)

bench-quick: build
	python3 bench/run.py --quick $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
