# Thin wrapper over CMake: the build lives in build/, programs in build/bin/.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
DURATION ?=
CMAKE_ARGS ?=

.PHONY: all deps configure check unit demo bench footprint drain lint clean sanitize deb soak-vfs

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@sh scripts/deps.sh check

configure:
	@sh scripts/deps.sh check
	@if [ ! -f $(BUILD)/CMakeCache.txt ]; then \
	  cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_ARGS); fi

# Every suite through ctest: unit tests, then integration tests with real processes.
check: all
	cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 300

unit: all
	cd $(BUILD) && ctest --output-on-failure -L unit

# The demo: mosquitto, both simulators and fieldgated on loopback. Ctrl-C stops it all;
# DURATION=30s stops it after that long and exits 0 only if readings reached the cloud simulator.
demo: all
	@python3 scripts/demo.py --build $(BUILD) $(if $(DURATION),--duration $(DURATION))

footprint: all
	@python3 bench/footprint --build $(BUILD)

drain: all
	@python3 bench/drain --build $(BUILD)

bench: footprint drain

# The Debian package for this machine's architecture, in $(BUILD)/.
deb: configure
	cmake --build $(BUILD) -j $(JOBS) --target fieldgated fieldgatectl
	cd $(BUILD) && cpack -G DEB

# The power-cut test (tests/unit/store/store_crash_test.cpp) with many more cuts than `make check`.
CUTS ?= 5000
soak-vfs: all
	cd $(BUILD) && FG_CRASH_CUTS=$(CUTS) ./tests/fieldgate_unit -v -sg StoreCrash

sanitize:
	$(MAKE) BUILD=build-asan BUILD_TYPE=Debug CMAKE_ARGS=-DFG_SANITIZE=ON check

lint:
	@sh scripts/lint.sh

clean:
	rm -rf $(BUILD)
