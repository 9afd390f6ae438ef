# Thin wrapper over CMake: everything lands in build/.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all build test demo bench bench-quick soak clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

demo: build
	bash tools/demo.sh

bench: build
	python3 bench/run.py $(BENCH_ARGS)

bench-quick: build
	python3 bench/run.py --quick $(BENCH_ARGS)

# Long soak by hand: RSS must stop growing after warm-up (tests/soak/soak.c).
SOAK_MINUTES ?= 30
soak: build
	$(BUILD)/tests/soak --minutes=$(SOAK_MINUTES) $(SOAK_ARGS)

clean:
	rm -rf $(BUILD)
