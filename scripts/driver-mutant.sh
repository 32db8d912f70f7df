#!/bin/bash
# Shows that the tests run the kernel's own sequencing: builds the shared
# driver (kernel/driver) with a deliberate ordering bug,
# WC_DRV_MUTANT_SKIP_CACHE_FLUSH (the commit writes the superblock without
# flushing the cache first, breaking I1), and requires the tests to fail.
#
#   driver-mutant.sh                the userspace crash tests (make check)
#   driver-mutant.sh --guest KVER   the module, under the guest's
#                                   log-writes power cuts (62-logwrites)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mutant=WC_DRV_MUTANT_SKIP_CACHE_FLUSH

if [[ ${1:-} == --guest ]]; then
	kver=${2:?usage: driver-mutant.sh --guest KVER}
	kdir=/lib/modules/$kver/build
	[[ -d $kdir ]] || kdir=/usr/src/linux-headers-$kver
	out=$top/build/kbuild/$kver-mutant
	WC_DRIVER_DEFINES=$mutant "$top/scripts/build-module.sh" "$kdir" "$out" writecache >/dev/null
	if "$top/tests/guest/run-suite.sh" "$kver" "$out/dm-writecache.ko" 62-logwrites \
		>"$out/guest.log" 2>&1; then
		echo "driver-mutant: 62-logwrites PASSED on a module without the commit's cache flush" >&2
		echo "driver-mutant: see $out/guest.log" >&2
		exit 1
	fi
	echo "driver-mutant: caught on $kver: 62-logwrites fails without the commit's cache flush:"
	grep -m 4 -E 'MISMATCH|FAILED at' "$out/guest.log" | sed 's/^/  /' || true
	exit 0
fi

build=$top/build/mutant
cmake -S "$top/userspace-model" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DWC_DRIVER_DEFINES=$mutant >/dev/null
cmake --build "$build" -j2 --target unit_tests >/dev/null
log=$build/crash.log
if "$build/unit_tests" --gtest_filter='Crash.*' >"$log" 2>&1; then
	echo "driver-mutant: the crash tests PASSED without the commit's cache flush" >&2
	echo "driver-mutant: they do not test the driver's ordering; see $log" >&2
	exit 1
fi
echo "driver-mutant: caught: the crash tests fail without the commit's cache flush:"
grep -m 3 -E 'Failure|block [0-9]+' "$log" | sed 's/^/  /' || true
