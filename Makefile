# Thin wrapper over CMake: everything lands in build/.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# make install: where to (DESTDIR, if set, is put in front of it).
PREFIX ?= /usr/local

.PHONY: all build build-san build-debug secure test test-deps demo bench bench-quick bench-rocksdb soak clean \
        install uninstall deb

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Only the hardened library, build/libtidemalloc-secure.so (`make build`
# builds it too, with everything else; docs/SECURITY.md).
secure: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target tidemalloc_secure

# Sanitizer builds of the core with the prefixed-API tests (see tests/README.md).
$(BUILD)-asan/CMakeCache.txt:
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDE_SANITIZE=address,undefined
$(BUILD)-tsan/CMakeCache.txt:
	cmake -S . -B $(BUILD)-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDE_SANITIZE=thread

build-san: $(BUILD)-asan/CMakeCache.txt $(BUILD)-tsan/CMakeCache.txt
	cmake --build $(BUILD)-asan -j $(JOBS)
	cmake --build $(BUILD)-tsan -j $(JOBS)

# The invariant validators on (core/debug.h): the stress and fuzz tests run here.
$(BUILD)-debug/CMakeCache.txt:
	cmake -S . -B $(BUILD)-debug -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDE_DEBUG=ON

build-debug: $(BUILD)-debug/CMakeCache.txt
	cmake --build $(BUILD)-debug -j $(JOBS)

# What the build and the tests need from Debian (the one list, shared with
# .ci/run): installed when missing if we are root, else the one apt-get
# line to run is printed and make test stops before anything is built.
test-deps:
	@bash tools/install-test-deps.sh

# make test installs the test dependencies before anything else, even
# under make -j.
ifneq ($(filter test,$(MAKECMDGOALS)),)
$(BUILD)/CMakeCache.txt $(BUILD)-asan/CMakeCache.txt $(BUILD)-tsan/CMakeCache.txt $(BUILD)-debug/CMakeCache.txt build build-san build-debug: | test-deps
endif

# Everything: the main build's tests (unit, conformance, stress, faults,
# fuzz, real programs, suites), then every test of the prefixed library
# (layer tests, prefixed conformance and bad input, stress, fuzz replay,
# fault injection) under ASan+UBSan, the concurrency tests (label stress)
# under TSan, and the stress and fuzz tests with the invariant validators
# on.  All four always run; the exit status is nonzero if any failed.
test: test-deps build build-san build-debug
	@rc=0; \
	echo "=== tests: $(BUILD)/"; \
	(cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)) || rc=1; \
	echo "=== ASan+UBSan: $(BUILD)-asan/ (every prefixed-library test: unit, conformance, stress, fuzz, faults)"; \
	(cd $(BUILD)-asan && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)) || rc=1; \
	echo "=== TSan: $(BUILD)-tsan/ (concurrency tests, prefixed API)"; \
	(cd $(BUILD)-tsan && ctest --output-on-failure -j $(JOBS) -L stress $(CTEST_ARGS)) || rc=1; \
	echo "=== TIDE_DEBUG: $(BUILD)-debug/ (stress and fuzz tests, invariant validators on)"; \
	(cd $(BUILD)-debug && ctest --output-on-failure -j $(JOBS) -L 'stress|fuzz' $(CTEST_ARGS)) || rc=1; \
	if [ $$rc != 0 ]; then echo "=== make test: FAILURES (see above)"; else echo "=== make test: all passed"; fi; \
	exit $$rc

demo: build
	bash tools/demo.sh

bench: build
	python3 bench/run.py $(BENCH_ARGS)

bench-quick: build
	python3 bench/run.py --quick $(BENCH_ARGS)

# The RocksDB matrix by hand (hours; bench/README.md): e.g.
# make bench-rocksdb BENCH_ARGS="--cells base,threads-8 --seconds 30 --repeat 1"
bench-rocksdb: build
	python3 bench/run.py --rocksdb-matrix $(BENCH_ARGS)

# Long soak by hand: RSS must stop growing after warm-up (tests/soak/soak.c).
SOAK_MINUTES ?= 30
soak: build
	$(BUILD)/tests/soak --minutes=$(SOAK_MINUTES) $(SOAK_ARGS)

# Install into $(DESTDIR)$(PREFIX) (README.md, "Install"); uninstall removes
# exactly the files that install wrote (the build directory's
# install_manifest.txt; give it the same DESTDIR). ldconfig runs for a real
# install as root, so that programs linked against the library find it.
install: build
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

uninstall:
	DESTDIR="$(DESTDIR)" cmake -DMANIFEST=$(BUILD)/install_manifest.txt -P cmake/uninstall.cmake
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then ldconfig; fi

# The Debian packages tidemalloc and tidemalloc-dev, built with dpkg-deb in
# $(BUILD)-deb/ (a build of its own, for prefix /usr; packaging/deb/).
deb:
	BUILD_DIR=$(BUILD)-deb JOBS=$(JOBS) bash packaging/deb/build-deb.sh

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-debug $(BUILD)-deb
