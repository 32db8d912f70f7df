#!/bin/bash
# Persistence across a crash: the guest is SIGKILLed (--kill-after) in the
# middle of a workload, and the next boot checks that every write that was
# acknowledged before a completed flush, and every acknowledged FUA write,
# reads back exactly, in s mode and in p mode.
#
# The workload and its checker are a small C program (wcio,
# tests/guest/tools/wcio.c, built here with the host's cc and passed to the
# guest through the share): an endless seeded sequence of O_DIRECT writes
# of 1-16 blocks (half of them to a small hot area, so blocks are
# overwritten again and again), FUA writes (AIO with RWF_DSYNC: REQ_FUA
# without a flush), flushes (fsync of the block device), discards
# (BLKDISCARD: until a durable write, such a block may hold zeros or any
# proper data of its own) and read-back checks. After each flush and each
# FUA write completes, a record saying what is now durable goes to a
# separate virtio disk (O_DIRECT with FUA) before the next operation
# starts, so the record survives the kill. The checker replays the sequence: each block
# must hold the last durable write to it, or a later write that was not yet
# durable (completed after the last flush, or possibly in flight at the
# kill); nothing else (zeros, stale, torn or misplaced data) is accepted.
#
# What this does and does not test: QEMU runs the disks with cache=writeback
# and the pmem is a MAP_SHARED file, so a SIGKILL of QEMU loses nothing the
# virtual devices acknowledged, flushed or not. Device volatility is not
# tested here (that needs dm-log-writes or dm-flakey drop_writes stacked
# under the target); what is tested is the target's own logic: its
# in-memory state at the kill, what it had committed (superblock seq_count,
# metadata entries), the order of its commits against the acknowledgements
# of flushes and FUA writes, and its recovery of all that on the next table
# load.
#
# Reads: the workload's read checks and the checker read up to 16 blocks
# (workload) or 1 MiB (checker) at a time. A block such a read gets wrong
# is read again alone; if that is right, the multi-block read was at fault:
# wcio prints "READ-CHECK FAILED", carries on (so persistence is still
# checked), and the host fails the boot's case.
#
# Each boot runs s mode and p mode side by side, each on its own devices
# with its own seed (a boot costs 20-30 s under TCG), on the same devices
# from the first cut to the last:
#   cut-1              boot 1: default watermarks; killed
#   cut-K, cut-K-lowwm boot K: verify cut K-1's run, then run again on the
#                      same devices and kill; even cuts use high_watermark
#                      10 low_watermark 5 (and in s mode pause_writeback 0,
#                      which p mode refuses): a 32 MiB cache (64 MiB pmem),
#                      a 96 MiB working set, writeback runs all the time
#   verify-drain       the last boot: verify the last cut's run; "flush"
#                      writes everything back; the origin alone then holds
#                      exactly what the target returned
# make check cuts power 5 times per mode (WC_CRASH_CUTS), make stress
# (WC_GUEST_LONG=1) 50 times.
# Status field 1 (error) must be 0 whenever a table is loaded. The seed and
# the kill times are random; they are printed, and WC_CRASH_SEED /
# WC_CRASH_KILL (seconds) reproduce a run.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 60-crash

WCIO=$WC_WORKDIR/wcio
if ! cc -O2 -Wall -static -o "$WCIO" "$(dirname "$0")/../tools/wcio.c"; then
	echo "cannot build the workload program (needs cc and a static libc)" >&2
	exit 1
fi

NBLOCKS=24576   # 96 MiB working set
HOT=2048        # half of the writes go to the first 8 MiB
SEED=${WC_CRASH_SEED:-$(((RANDOM << 15 | RANDOM) + 1))}
# seconds of workload before the power cut (the clock starts with it)
kill_time() { echo "${WC_CRASH_KILL:-$((6 + RANDOM % 8))}"; }
if [[ ${WC_GUEST_LONG:-0} = 1 ]]; then CUTS=${WC_CRASH_CUTS:-50}; else CUTS=${WC_CRASH_CUTS:-5}; fi
echo "seed $SEED (WC_CRASH_SEED=$SEED to repeat), $CUTS power cuts per mode"

# Guest side, sourced first by every boot: the devices and helpers.  Each
# mode M has its table wcM on the disks Morigin and Mrec, and the cache
# disk "cache" (s) or the pmem (p); its workload's map files are map1-M
# and map2-M.
PROLOGUE=$(cat <<'EOF'
origin_of() { disk "$1origin"; }
rec_of() { disk "$1rec"; }
cache_of() { if [ "$1" = s ]; then disk cache; else pmem_dev; fi; }
low_of() {
	if [ "$1" = s ]; then echo "$LOW pause_writeback 0"; else echo "$LOW"; fi
}
create() {
	dm_create wc$1 "$(wc_table "$1" "$(origin_of $1)" "$(cache_of $1)" 4096 $2)"
	log "table wc$1: $(dmsetup table wc$1)"
	log "status wc$1: $(dmsetup status wc$1)"
	expect_eq "$(wc_status_field wc$1 1)" 0 "error state of wc$1 after loading the table"
}
# the status every 2 s while the workloads run, for the log
status_logger() {
	while :; do
		sleep 2
		log "status wcs: $(dmsetup status wcs)"
		log "status wcp: $(dmsetup status wcp)"
	done &
}
# both modes' verifications side by side: verify_both REC_MIB IN OUT
verify_both() {
	local m pid pids="" rc
	for m in s p; do
		/host/wcio verify /dev/mapper/wc$m "$(rec_of $m)" "$1" "$(map_of "$2" $m)" "/host/$3-$m" &
		pids="$pids $!"
	done
	for pid in $pids; do
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" = 0 ] || die "a verification failed (exit $rc)"
	done
	for m in s p; do
		expect_eq "$(wc_status_field wc$m 1)" 0 "error state of wc$m after the verification"
	done
}
map_of() { if [ "$1" = zero ]; then echo zero; else echo "/host/$1-$2"; fi; }
# both modes' workloads until the power cut: run_both REC_MIB MAP; a
# workload never ends on its own, so one that does has failed
run_both() {
	local ps pp rc
	touch /host/kill-clock
	/host/wcio run /dev/mapper/wcs "$(rec_of s)" "$1" "$SEED_S" "$NBLOCKS" "$HOT" "$(map_of "$2" s)" &
	ps=$!
	/host/wcio run /dev/mapper/wcp "$(rec_of p)" "$1" "$SEED_P" "$NBLOCKS" "$HOT" "$(map_of "$2" p)" &
	pp=$!
	while kill -0 $ps 2>/dev/null && kill -0 $pp 2>/dev/null; do sleep 1; done
	rc=0
	if ! kill -0 $ps 2>/dev/null; then wait $ps || rc=$?; die "the s-mode workload ended (exit $rc)"; fi
	wait $pp || rc=$?
	die "the p-mode workload ended (exit $rc)"
}
EOF
)

# A read that returns a wrong block which is right when read alone is a
# read-path failure, not a persistence one: wcio reports it as
# "READ-CHECK FAILED" and carries on, so both get checked.
read_checks() {
	local n
	n=$(grep -c '^READ-CHECK FAILED' "$GUEST_SHARE/output.log" 2>/dev/null || true)
	if [[ ${n:-0} -gt 0 ]]; then
		grep -m 3 -B 2 '^READ-CHECK FAILED' "$GUEST_SHARE/output.log" >&2 || true
		guest_case_fail "$n multi-block reads returned wrong data for blocks that read back right alone"
	fi
}

dir=$WC_WORKDIR/both
gb=(--disk sorigin:128 --disk srec:64 --disk cache:32
	--disk porigin:128 --disk prec:64 --pmem 64
	--file "$WCIO" --env "NBLOCKS=$NBLOCKS" --env "HOT=$HOT"
	--env "LOW=high_watermark 10 low_watermark 5" --timeout 300)

# Cut k (1..CUTS): boot k verifies cut k-1's run (its records at
# REC_MIB (k-1)%2*16, what the blocks held before it in map(k-2), written
# by boot k-1) into map(k-1), then runs cut k's workload (records at
# k%2*16) until the power cut.  The seeds differ from run to run, so a
# record area holds the run before last's records only under a header
# that names another seed: verify stops at the first record of the wrong
# seed.  Even cuts use the low watermarks: writeback races the writes.
rec_mib() { echo $(($1 % 2 * 16)); }
# verify_of K OUT: the guest's verification of cut K's run, into map OUT
verify_of() {
	echo "verify_both $(rec_mib "$1") $([[ $1 = 1 ]] && echo zero || echo map$(($1 - 1))) $2"
}
tables() {
	if [[ $(($1 % 2)) = 0 ]]; then
		# shellcheck disable=SC2016  # the guest expands these
		printf 'create s "$(low_of s)"\ncreate p "$(low_of p)"\n'
	else
		printf 'create s ""\ncreate p ""\n'
	fi
}
prev_share="" prev_files=()
for ((cut = 1; cut <= CUTS; cut++)); do
	k=$(kill_time)
	seed_s=$((SEED + 2 * (cut - 1))) seed_p=$((SEED + 2 * (cut - 1) + 1))
	if [[ $((cut % 2)) = 0 ]]; then guest_case "cut-$cut-lowwm"; else guest_case "cut-$cut"; fi
	echo "run seeds s $seed_s, p $seed_p; kill after ${k}s"
	if ((cut == 1)); then
		verify="" map_in=zero
	else
		verify=$(verify_of $((cut - 1)) map$((cut - 1)))
		map_in=map$((cut - 1))
	fi
	guest_check guest_boot "$WC_KVER" "$dir" - "${gb[@]}" "${prev_files[@]}" \
		--kill-after "$k" --kill-from-mark --env "SEED_S=$seed_s" --env "SEED_P=$seed_p" <<EOF
$PROLOGUE
$(tables "$cut")
$verify
status_logger
run_both $(rec_mib "$cut") $map_in
EOF
	read_checks
	[[ ${GUEST_ANY_FAILED:-0} = 0 ]] || break
	prev_share=$GUEST_SHARE
	prev_files=()
	((cut == 1)) || prev_files=(--file "$prev_share/map$((cut - 1))-s" --file "$prev_share/map$((cut - 1))-p")
done

# The last boot verifies the last cut's run and drains the cache: the
# origin alone then holds exactly what the target returned.
last=$((cut - 1))
if [[ ${GUEST_ANY_FAILED:-0} = 0 ]]; then
	guest_case verify-drain
	guest_check guest_boot "$WC_KVER" "$dir" - "${gb[@]}" "${prev_files[@]}" <<EOF
$PROLOGUE
$(tables $((last + 1)))
$(verify_of "$last" final)
for m in s p; do
	dm_message wc\$m flush
	log "status of wc\$m after flush: \$(dmsetup status wc\$m)"
	expect_eq "\$(wc_status_field wc\$m 1)" 0 "error state of wc\$m after flush"
	expect_eq "\$(wc_status_field wc\$m 3)" "\$(wc_status_field wc\$m 2)" "all blocks of wc\$m free after flush"
	dm_remove wc\$m
	/host/wcio exact "\$(origin_of \$m)" "\$NBLOCKS" /host/final-\$m
done
EOF
	read_checks
	echo "$last power cuts per mode verified"
fi
guest_finish
