# Thin wrapper over CMake: the build lives in build/, programs in build/bin/.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
DURATION ?=
CMAKE_ARGS ?=
FUZZ_SECONDS ?= 60
KILLS ?= 1000
FLAP_SECONDS ?= 600
# ARCH=arm64|armhf: cross-build for ARM gateways in build-$(ARCH)/ (cmake/toolchain-$(ARCH).cmake,
# the target's libraries in build-$(ARCH)/sysroot/, filled by scripts/deps.sh cross).
ARCH ?=
ifneq ($(ARCH),)
BUILD := build-$(ARCH)
SYSROOT := $(CURDIR)/$(BUILD)/sysroot
DEPS := cross $(ARCH) $(SYSROOT)
override CMAKE_ARGS += -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/toolchain-$(ARCH).cmake -DFG_SYSROOT=$(SYSROOT)
# dpkg-shlibdeps reads the target's dpkg database in the library root.
DEB_ENV := DPKG_ADMINDIR=$(SYSROOT)/var/lib/dpkg DEB_HOST_ARCH=$(ARCH)
else
DEPS := check
DEB_ENV :=
endif

.PHONY: all deps configure check unit demo bench footprint drain acquisition lint clean sanitize deb check-cross fuzz soak soak-vfs writes

all: configure
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@sh scripts/deps.sh check

configure:
	@sh scripts/deps.sh $(DEPS)
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

acquisition: all
	@python3 bench/acquisition --build $(BUILD)

writes: all
	@python3 bench/writes --build $(BUILD)

bench: footprint drain acquisition writes

# The Debian packages fieldgate and fieldgate-tools, in $(BUILD)/: for this machine, or with
# ARCH=arm64|armhf for the ARM gateways. lintian must find no error and no warning.
deb: configure
	cmake --build $(BUILD) -j $(JOBS) --target fieldgated fieldgatectl fieldgate-modbus-sim fieldgate-cloud-sim \
	  fieldgate_package_docs
	cd $(BUILD) && rm -f fieldgate*.deb && $(DEB_ENV) cpack -G DEB
	lintian --fail-on error,warning $(BUILD)/fieldgate*.deb

# The unit and integration tests with the cross-built programs under qemu-user (ARCH=arm64|armhf),
# against native mosquitto and simulators (from build/).
check-cross:
	@if [ -z "$(ARCH)" ]; then echo "usage: make check-cross ARCH=arm64|armhf" >&2; exit 2; fi
	$(MAKE) ARCH= BUILD=build JOBS=$(JOBS) CMAKE_ARGS= all
	$(MAKE) ARCH=$(ARCH) JOBS=$(JOBS) all
	cd $(BUILD) && ctest --output-on-failure -j 2 -L 'unit|integration'

# The power-cut test (tests/unit/store/store_crash_test.cpp) with many more cuts than `make check`.
CUTS ?= 5000
soak-vfs: all
	cd $(BUILD) && FG_CRASH_CUTS=$(CUTS) ./tests/fieldgate_unit -v -sg StoreCrash

sanitize:
	$(MAKE) BUILD=build-asan BUILD_TYPE=Debug CMAKE_ARGS=-DFG_SANITIZE=ON check

# libFuzzer targets (tests/fuzz/), clang + ASan + UBSan in build-fuzz/, FUZZ_SECONDS each.
fuzz:
	@sh scripts/deps.sh fuzz
	@if [ ! -f build-fuzz/CMakeCache.txt ]; then \
	  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DFG_SANITIZE=ON -DFG_FUZZ=ON -DFG_WERROR=OFF; fi
	cmake --build build-fuzz -j $(JOBS) --target fuzz-targets
	sh scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Not in `make check`: KILLS SIGKILLs with restarts and, at the same time in a second process, a
# FLAP_SECONDS broker flap under the ASan build (tests/soak/soak.py says how it judges; SOAK_ARGS
# adds options, e.g. --seed N, --sequential, --samples FILE). Long: about 45 min with the defaults
# on a loaded 2-core machine (the kills decide; the flap takes FLAP_SECONDS + about 2 min).
SOAK_ARGS ?=
soak: all
	$(MAKE) BUILD=build-asan BUILD_TYPE=Debug CMAKE_ARGS=-DFG_SANITIZE=ON all
	python3 -u tests/soak/soak.py --build $(BUILD) --asan-build build-asan --kills $(KILLS) \
	  --flap-seconds $(FLAP_SECONDS) $(SOAK_ARGS)

# clang-tidy reads the compilation database of $(BUILD), which configure writes.
lint: configure
	@sh scripts/deps.sh lint
	@LINT_BUILD=$(BUILD) LINT_JOBS=$(JOBS) sh scripts/lint.sh

clean:
	rm -rf $(BUILD)

.PHONY: footprint-tls
# The same with ssl:// to a TLS listener (issue 7: RSS at most 3 MB above the plain run).
footprint-tls: all
	@python3 bench/footprint --build $(BUILD) --tls
