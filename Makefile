# SPDX-License-Identifier: GPL-2.0
#
# One way to build, one way to test:
#   make module [KVER=...] [WC_NAME=...]   the kernel module, dm-$(WC_NAME).ko
#   make check                             everything CI runs
#   make demo                              a guest with a writecache, in words
# The rest are the steps of those.

SHELL := /bin/bash
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(TOP)/build
WC_NAME ?= writecache
CXX ?= g++

# The kernel to build against: the running one if its headers are there,
# else the newest installed headers.
KVER ?= $(shell if [ -d /lib/modules/$$(uname -r)/build ]; then uname -r; \
	else ls -1d /lib/modules/*/build /usr/src/linux-headers-*-amd64 2>/dev/null | \
	sed -E 's,^/lib/modules/([^/]*)/build$$,\1,; s,^/usr/src/linux-headers-,,' | \
	sort -V | tail -n1; fi)
KDIR = $(if $(wildcard /lib/modules/$(KVER)/build),/lib/modules/$(KVER)/build,/usr/src/linux-headers-$(KVER))

# The two kernels the project supports: Debian's 6.1 and its newest 6.12.
KVER_61 = $(shell ls -1d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sed 's,.*/linux-headers-,,' | sort -V | tail -n1)
KVER_612 = $(shell ls -1d /usr/src/linux-headers-6.12.*+deb12-amd64 2>/dev/null | sed 's,.*/linux-headers-,,' | sort -V | tail -n1)

.PHONY: all module deps modules-both userspace tools install-tools uninstall-tools install uninstall deb deb-check unit mutants fuzz bench bench-guest bench-load lint guest-test stress dkms-check check demo clean

all: module

deps:
	$(TOP)/scripts/install-deps.sh

# Kbuild writes its objects next to the sources; each kernel gets its own
# copy of the tree so that the two builds never share an object.
module:
	@test -n "$(KVER)" || { echo "no kernel headers found: run 'make deps'" >&2; exit 1; }
	@test -d "$(KDIR)" || { echo "no headers for $(KVER) at $(KDIR)" >&2; exit 1; }
	$(TOP)/scripts/build-module.sh "$(KDIR)" "$(BUILD)/kbuild/$(KVER)-$(WC_NAME)" "$(WC_NAME)"
	cp "$(BUILD)/kbuild/$(KVER)-$(WC_NAME)/dm-$(WC_NAME).ko" "$(TOP)/dm-$(WC_NAME).ko"

modules-both:
	$(MAKE) module KVER=$(KVER_61)
	cp dm-$(WC_NAME).ko $(BUILD)/dm-$(WC_NAME)-$(KVER_61).ko
	$(MAKE) module KVER=$(KVER_612)
	cp dm-$(WC_NAME).ko $(BUILD)/dm-$(WC_NAME)-$(KVER_612).ko

userspace:
	cmake -S $(TOP)/userspace-model -B $(BUILD)/userspace -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD)/userspace -j2
	cmake -S $(TOP)/userspace-model -B $(BUILD)/userspace-asan -DCMAKE_BUILD_TYPE=Debug -DWC_SANITIZE=ON >/dev/null
	cmake --build $(BUILD)/userspace-asan -j2

# wcctl, on the same core and model as the tests: build/tools/wcctl.
tools:
	cmake -S $(TOP)/userspace-model -B $(BUILD)/userspace -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD)/userspace -j2 --target wcctl
	install -D -m 755 $(BUILD)/userspace/tools/wcctl $(BUILD)/tools/wcctl

PREFIX ?= /usr/local
install-tools: tools
	install -D -m 755 $(BUILD)/tools/wcctl $(DESTDIR)$(PREFIX)/sbin/wcctl
	install -D -m 644 $(TOP)/tools/wcctl/wcctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/wcctl.8
	install -D -m 644 $(TOP)/tools/wcctl/wcctl.bash-completion \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/wcctl

uninstall-tools:
	rm -f $(DESTDIR)$(PREFIX)/sbin/wcctl $(DESTDIR)$(PREFIX)/share/man/man8/wcctl.8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/wcctl

# The module through dkms (for every kernel with headers) and the tools.
install: install-tools
	$(TOP)/scripts/dkms-install.sh install

uninstall: uninstall-tools
	$(TOP)/scripts/dkms-install.sh remove

# Debian packages: writecache-dkms (dh-dkms) and wcctl, in build/deb.
deb:
	$(TOP)/scripts/deb-build.sh $(BUILD)/deb

# They install with dpkg -i, dkms builds the module, and they purge clean;
# make install and make uninstall likewise.
deb-check: deb
	$(TOP)/scripts/deb-check.sh $(BUILD)/deb

unit: userspace
	cd $(BUILD)/userspace && ctest --output-on-failure -j2
	@grep -h '^crash sweep\|^fault sweep' $(BUILD)/userspace/Testing/Temporary/LastTest.log | sort
	cd $(BUILD)/userspace-asan && ctest --output-on-failure -j2

# The tests must catch each ordering bug of tests/mutants.list.
mutants:
	$(TOP)/scripts/mutants.sh

# libFuzzer (clang, ASan and fatal UBSan): each target (table lines,
# operation sequences with faults and power cuts, recovery from metadata
# images, messages) for FUZZ_SECONDS from its committed corpus.  make
# check runs a bounded FUZZ_SECONDS=30.
FUZZ_SECONDS ?= 600
fuzz:
	cmake -S $(TOP)/userspace-model -B $(BUILD)/fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DWC_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD)/fuzz -j2
	$(TOP)/scripts/fuzz.sh $(BUILD)/fuzz $(FUZZ_SECONDS)

# Benchmarks print numbers; they never fail a build.
# bench_core: Google Benchmark, at 1M, 16M and 100M blocks (about 6 GiB of
# RAM at 100M; WC_BENCH_MAX_BLOCKS=N skips the larger ones).
bench: userspace
	$(BUILD)/userspace/bench_memory
	$(BUILD)/userspace/bench_core

# The module beside the in-tree target in one guest, fio side by side.
bench-guest: deps
	$(MAKE) module KVER=$(KVER_61) WC_NAME=wcx
	$(TOP)/tests/bench/compare-intree.sh $(KVER_61) $(TOP)/dm-wcx.ko

# Load plus resume of a full cache of two million blocks, in-tree against
# this module, per mode (BENCH_ROUNDS interleaved rounds, default 5).
bench-load: deps
	$(MAKE) module KVER=$(KVER_61) WC_NAME=wcx
	$(TOP)/tests/bench/load-intree.sh $(KVER_61) $(TOP)/dm-wcx.ko $(BENCH_ROUNDS)

# The kernel C follows the kernel's style (checkpatch from linux-source-6.1).
lint:
	$(TOP)/scripts/checkpatch.sh

# Both kernels' suites at once (see tests/run-guest-tests.sh).
GUEST_SUITES = $(KVER_61) $(BUILD)/dm-$(WC_NAME)-$(KVER_61).ko \
	$(KVER_612) $(BUILD)/dm-$(WC_NAME)-$(KVER_612).ko
guest-test: modules-both tools
	$(TOP)/tests/run-guest-tests.sh $(GUEST_SUITES)

# The long campaigns, which make check runs smaller: the crash sweep at
# full size (docs/RELIABILITY.md) and the guest suites with WC_GUEST_LONG=1.
stress: modules-both tools userspace
	$(TOP)/scripts/crash-sweep.sh $(BUILD)/userspace
	WC_GUEST_LONG=1 $(TOP)/tests/run-guest-tests.sh $(GUEST_SUITES)

# dkms add/build of a copy of the tree, for both kernels, in a private
# dkms tree; the module it builds passes a guest case.
dkms-check: modules-both
	$(TOP)/scripts/dkms-check.sh $(BUILD) $(KVER_61) $(KVER_612)

check: deps
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) mutants
	$(MAKE) install-tools DESTDIR=$(BUILD)/install-check
	$(MAKE) fuzz FUZZ_SECONDS=30
	$(MAKE) guest-test
	$(MAKE) dkms-check
	$(MAKE) deb-check

demo: deps
	$(MAKE) modules-both tools
	$(TOP)/tests/demo.sh $(KVER_61) $(BUILD)/dm-$(WC_NAME)-$(KVER_61).ko

clean:
	rm -rf $(BUILD) dm-*.ko
