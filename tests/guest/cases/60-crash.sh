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
#   s-crash-default    boot 1: s mode, default watermarks; killed
#   s-crash-lowwm      boot 2: verify boot 1's run; the same devices with
#                      high_watermark 10 low_watermark 5 pause_writeback 0
#                      (a 32 MiB cache, a 96 MiB working set: writeback
#                      runs all the time); killed
#   s-verify-drain     boot 3: verify boot 2's run; "flush" writes everything
#                      back; the origin alone then holds exactly what the
#                      target returned
#   p-*                the same in p mode (64 MiB pmem; no pause_writeback,
#                      which p mode refuses)
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
echo "seed $SEED (WC_CRASH_SEED=$SEED to repeat)"

# Guest side, sourced first by every boot: the devices and helpers.
PROLOGUE=$(cat <<'EOF'
origin=$(disk origin)
rec=$(disk rec)
if [ "$MODE" = s ]; then cache=$(disk cache); else cache=$(pmem_dev); fi
create() {
	dm_create wc "$(wc_table "$MODE" "$origin" "$cache" 4096 $1)"
	log "table: $(dmsetup table wc)"
	log "status: $(dmsetup status wc)"
	expect_eq "$(wc_status_field wc 1)" 0 "error state after loading the table"
}
# the status every 2 s while the workload runs, for the log
status_logger() {
	while :; do
		sleep 2
		log "status: $(dmsetup status wc)"
	done &
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

crash_mode() {
	local mode=$1 low
	local seed1=$SEED seed2=$((SEED + 1)) k
	[[ $mode == p ]] && seed1=$((SEED + 2)) seed2=$((SEED + 3))
	local -a devs=(--disk origin:128 --disk rec:64)
	if [[ $mode == s ]]; then
		devs+=(--disk cache:32)
		low="high_watermark 10 low_watermark 5 pause_writeback 0"
	else
		devs+=(--pmem 64)
		low="high_watermark 10 low_watermark 5"
	fi
	local dir=$WC_WORKDIR/$mode
	local -a gb=("${devs[@]}" --file "$WCIO" --env "MODE=$mode" --env "NBLOCKS=$NBLOCKS"
		--env "HOT=$HOT" --env "LOW=$low" --timeout 300)

	k=$(kill_time)
	guest_case "$mode-crash-default"
	echo "run seed $seed1, kill after ${k}s"
	guest_check guest_boot "$WC_KVER" "$dir" - "${gb[@]}" --kill-after "$k" --kill-from-mark \
		--env "SEED=$seed1" <<EOF
$PROLOGUE
create ""
status_logger
touch /host/kill-clock
/host/wcio run /dev/mapper/wc "\$rec" 0 "\$SEED" "\$NBLOCKS" "\$HOT" zero
EOF
	read_checks

	k=$(kill_time)
	guest_case "$mode-crash-lowwm"
	echo "run seed $seed2, kill after ${k}s"
	guest_check guest_boot "$WC_KVER" "$dir" - "${gb[@]}" --kill-after "$k" --kill-from-mark \
		--env "SEED=$seed2" <<EOF
$PROLOGUE
create "\$LOW"
/host/wcio verify /dev/mapper/wc "\$rec" 0 zero /host/map1
expect_eq "\$(wc_status_field wc 1)" 0 "error state after the verification"
status_logger
touch /host/kill-clock
/host/wcio run /dev/mapper/wc "\$rec" 16 "\$SEED" "\$NBLOCKS" "\$HOT" /host/map1
EOF
	read_checks
	local share2=$GUEST_SHARE

	guest_case "$mode-verify-drain"
	guest_check guest_boot "$WC_KVER" "$dir" - "${gb[@]}" --file "$share2/map1" <<EOF
$PROLOGUE
create "\$LOW"
/host/wcio verify /dev/mapper/wc "\$rec" 16 /host/map1 /host/map2
dm_message wc flush
log "status after flush: \$(dmsetup status wc)"
expect_eq "\$(wc_status_field wc 1)" 0 "error state after flush"
expect_eq "\$(wc_status_field wc 3)" "\$(wc_status_field wc 2)" "all blocks free after flush"
dm_remove wc
/host/wcio exact "\$origin" "\$NBLOCKS" /host/map2
EOF
	read_checks
}

crash_mode s
crash_mode p
guest_finish
