#!/bin/bash
# The guest suite against one kernel:  run-guest-tests.sh KVER MODULE.ko
# Every case in tests/guest/cases boots that kernel under QEMU (TCG) with
# the module; see tests/guest/run-suite.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/guest/run-suite.sh" "$1" "$2"
