#!/bin/bash
# Shows that the tests catch ordering bugs in the kernel's own sequencing:
# each mutant of tests/mutants.list (one deliberate persistence-ordering
# bug in the shared driver or the core) is linked with the unit tests'
# objects, and the tests the list names must fail against it.
#
#   mutants.sh                      every mutant, the userspace tests
#                                   (make mutants, part of make check)
#   mutants.sh --guest KVER [NAME]  the module built with mutant NAME
#                                   (default skip-cache-flush), under the
#                                   guest's log-writes power cuts
#                                   (62-logwrites)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
list=$top/tests/mutants.list

# mutant NAME -> "DEFINITION FILTER"
mutant() { awk -v n="$1" '$1 == n { print $2, $3 }' "$list"; }

if [[ ${1:-} == --guest ]]; then
	kver=${2:?usage: mutants.sh --guest KVER [NAME]}
	name=${3:-skip-cache-flush}
	read -r def _ <<<"$(mutant "$name")"
	[[ -n ${def:-} ]] || { echo "mutants: no mutant '$name' in $list" >&2; exit 1; }
	kdir=/lib/modules/$kver/build
	[[ -d $kdir ]] || kdir=/usr/src/linux-headers-$kver
	out=$top/build/kbuild/$kver-mutant-$name
	WC_DRIVER_DEFINES=$def "$top/scripts/build-module.sh" "$kdir" "$out" writecache >/dev/null
	if "$top/tests/guest/run-suite.sh" "$kver" "$out/dm-writecache.ko" 62-logwrites \
		>"$out/guest.log" 2>&1; then
		echo "mutants: 62-logwrites PASSED on the module with mutant $name" >&2
		echo "mutants: see $out/guest.log" >&2
		exit 1
	fi
	echo "mutants: $name caught on $kver: 62-logwrites fails:"
	grep -m 4 -E 'MISMATCH|FAILED at' "$out/guest.log" | sed 's/^/  /' || true
	exit 0
fi

# The unit build's test objects (make unit), linked with each mutant's
# core and driver: only those are compiled again.
build=$top/build/userspace
cmake -S "$top/userspace-model" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
names=$(awk '/^[a-z]/ { print $1 }' "$list")
[[ -n $names ]] || { echo "mutants: $list lists no mutant" >&2; exit 1; }
targets=()
for name in $names; do targets+=("unit_tests_mutant_$name"); done
cmake --build "$build" -j2 --target "${targets[@]}" >/dev/null

survived=0
for name in $names; do
	read -r def filter <<<"$(mutant "$name")"
	log=$build/mutant-$name.log
	# the first failure is enough
	if "$build/unit_tests_mutant_$name" --gtest_filter="$filter" --gtest_fail_fast \
		>"$log" 2>&1; then
		echo "mutants: $name ($def) SURVIVED: $filter passed against it; see $log" >&2
		survived=$((survived + 1))
		continue
	fi
	echo "mutants: $name caught: $(grep -m 1 -E '^\[  FAILED  \]' "$log" | sed 's/^\[  FAILED  \] //')"
done
total=$(wc -w <<<"$names")
echo "mutants: $((total - survived)) of $total caught"
[[ $survived = 0 ]]
