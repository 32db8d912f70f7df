#!/bin/bash
# Run guest test cases against one kernel:
#
#   tests/guest/run-suite.sh KVER MODULE_KO [CASE ...]
#
# KVER       a kernel version from "tests/guest/kernels.sh list"
# MODULE_KO  the project's module, loaded into every guest ("" = none: cases
#            then use the kernel's in-tree dm-writecache)
# CASE       names of tests/guest/cases/*.sh, with or without .sh
#            (default: all of them, in name order)
#
# Each case runs as "bash CASE.sh" in a fresh WORKDIR
# (build/guest/work/KVER/CASE) with WC_KVER, WC_MODULE, WC_WORKDIR and
# WC_TARGET in its environment; its exit code decides PASS/FAIL. The case's
# output is shown indented and kept in build/guest/work/KVER/CASE.log. The
# last line is "N passed, M failed"; the exit code is nonzero if any failed.
set -euo pipefail

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$GUEST_DIR/../.." && pwd)
BUILD_DIR=${GUEST_BUILD_DIR:-$ROOT_DIR/build/guest}
export GUEST_BUILD_DIR=$BUILD_DIR

die() { echo "run-suite.sh: error: $*" >&2; exit 2; }

usage() {
    echo "usage: run-suite.sh KVER MODULE_KO [CASE ...]   (MODULE_KO may be \"\")" >&2
    exit 2
}

# Fills the global CASES with case names (validated here, not in a
# subshell, so a typo aborts the run).
resolve_cases() {
    local c
    CASES=()
    if [[ $# -eq 0 ]]; then
        for c in "$GUEST_DIR"/cases/*.sh; do
            [[ -f $c ]] && CASES+=("$(basename "$c" .sh)")
        done
        return 0
    fi
    for c in "$@"; do
        c=$(basename "$c" .sh)
        [[ -f $GUEST_DIR/cases/$c.sh ]] || die "no such case: tests/guest/cases/$c.sh"
        CASES+=("$c")
    done
}

run_case() {
    local kver=$1 module=$2 name=$3
    local workdir=$BUILD_DIR/work/$kver/$name
    local log=$BUILD_DIR/work/$kver/$name.log
    rm -rf "$workdir"
    mkdir -p "$workdir"
    # pipefail: the pipeline fails with the case's status (tee/sed don't fail)
    local start=$SECONDS rc=0
    WC_KVER=$kver WC_MODULE=$module WC_WORKDIR=$workdir WC_TARGET=${WC_TARGET:-writecache} \
        bash "$GUEST_DIR/cases/$name.sh" </dev/null 2>&1 | tee "$log" | sed -u 's/^/  | /' || rc=$?
    echo "  ($name: $((SECONDS - start))s, log: $log)"
    return "$rc"
}

main() {
    [[ $# -ge 2 ]] || usage
    local kver=$1 module=$2
    shift 2
    [[ -n $kver ]] || usage
    if [[ -n $module ]]; then
        [[ -f $module ]] || die "module '$module' not found"
        module=$(cd "$(dirname "$module")" && pwd)/$(basename "$module")
    fi
    resolve_cases "$@"
    [[ ${#CASES[@]} -gt 0 ]] || die "no cases found"

    # Prepare once up front so a missing kernel fails the run clearly
    # instead of failing every case.
    "$GUEST_DIR/kernels.sh" fetch "$kver" || die "cannot fetch kernel $kver"
    "$GUEST_DIR/initramfs.sh" "$kver" >/dev/null || die "cannot build the initramfs for $kver"

    local passed=0 failed=0 c
    for c in "${CASES[@]}"; do
        echo "--- $c ($kver${module:+, $(basename "$module")})"
        if run_case "$kver" "$module" "$c"; then
            echo "PASS $c"
            passed=$((passed + 1))
        else
            echo "FAIL $c"
            failed=$((failed + 1))
        fi
    done
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 ]]
}

main "$@"
