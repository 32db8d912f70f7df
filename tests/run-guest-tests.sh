#!/bin/bash
# The guest suite against one or more kernels, side by side:
#
#   run-guest-tests.sh KVER MODULE.ko [KVER MODULE.ko ...]
#
# Every case in tests/guest/cases boots that kernel under QEMU (TCG) with
# the module; see tests/guest/run-suite.sh.  With two kernels the two
# suites run at the same time (each guest is mostly one busy vCPU, and the
# machine has two cores): their lines are prefixed with the kernel, and
# each suite's full output is also kept in build/guest/suite-KVER.log.
# The exit code is nonzero if any suite failed.  WC_GUEST_CASES="A B"
# runs only those cases.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[[ $# -ge 2 && $(($# % 2)) -eq 0 ]] || {
	echo "usage: run-guest-tests.sh KVER MODULE.ko [KVER MODULE.ko ...]" >&2
	exit 2
}
if [[ $# -eq 2 ]]; then
	# shellcheck disable=SC2086
	exec "$here/guest/run-suite.sh" "$1" "$2" ${WC_GUEST_CASES:-}
fi

logdir=${GUEST_BUILD_DIR:-$(cd "$here/.." && pwd)/build/guest}
mkdir -p "$logdir"
pids=() kvers=()
while [[ $# -gt 0 ]]; do
	kver=$1 module=$2
	shift 2
	(
		# shellcheck disable=SC2086
		"$here/guest/run-suite.sh" "$kver" "$module" ${WC_GUEST_CASES:-} 2>&1 |
			tee "$logdir/suite-$kver.log" | sed -u "s/^/[$kver] /"
	) &
	pids+=($!)
	kvers+=("$kver")
done
rc=0
for i in "${!pids[@]}"; do
	if wait "${pids[$i]}"; then
		echo "guest suite on ${kvers[$i]}: passed"
	else
		echo "guest suite on ${kvers[$i]}: FAILED (log: $logdir/suite-${kvers[$i]}.log)"
		rc=1
	fi
done
# the failures of both suites together, at the end where CI shows them
for k in "${kvers[@]}"; do
	grep -E '^(FAIL|[0-9]+ passed)' "$logdir/suite-$k.log" | sed "s/^/[$k] /" || true
done
exit "$rc"
