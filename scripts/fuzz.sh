#!/bin/bash
# Runs each libFuzzer target for SECONDS from the committed seed corpus
# (tests/fuzz/corpus/TARGET) plus what earlier runs found
# (BUILD/corpus-TARGET), and prints one summary line per target.  A crash
# fails the run and leaves its input in BUILD (crash-*).
#   scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
build=$1 seconds=$2
top=$(cd "$(dirname "$0")/.." && pwd)

# Inputs must be able to grow to hundreds of operations.
max_len() {
	case $1 in
	table | messages) echo 512 ;;
	ops) echo 4096 ;;
	recovery) echo 9000 ;;
	esac
}

cd "$build"
run_target() {
	local t=$1 log=fuzz-$1.log runs cov
	mkdir -p "corpus-$t"
	if ! "./fuzz_$t" -seed=1 -max_total_time="$seconds" -len_control=0 \
		-max_len="$(max_len "$t")" -print_final_stats=1 \
		"corpus-$t" "$top/tests/fuzz/corpus/$t" >"$log" 2>&1; then
		grep -E "fuzz_[a-z]+:|ERROR|SUMMARY|artifact" "$log" >&2 || tail -20 "$log" >&2
		echo "fuzz: fuzz_$t failed (log: $build/$log)" >&2
		return 1
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'DONE *cov: [0-9]*' "$log" | grep -o '[0-9]*$')
	echo "fuzz: fuzz_$t: ${seconds}s, $runs executions, $cov coverage edges, corpus $(ls "corpus-$t" | wc -l) + $(ls "$top/tests/fuzz/corpus/$t" | wc -l) seeds"
}

# Two targets at a time: one per core.
failed=0
for pair in "table ops" "recovery messages"; do
	pids=()
	for t in $pair; do
		run_target "$t" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || failed=1
	done
done
exit "$failed"
