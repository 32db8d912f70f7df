#!/bin/bash
# Power cuts that lose what was never flushed, from the kernel's own I/O.
#
# A SIGKILL of QEMU (60-crash) loses nothing a virtual disk acknowledged, so
# it cannot catch a missing flush.  Here the origin, the cache and wcio's
# record area are three slices of one dm-log-writes device: its log holds
# every write of all three in the order they became durable (a plain write
# once a later flush completes, a FUA write at once), so replaying the
# log's first N entries gives a state a power cut could have left, with
# every unflushed write lost.  wcio (tests/guest/tools/wcio.c) writes its
# records with FUA, never with a flush: a flush of the shared device would
# also make the target's unflushed writes durable.
#
#   s-logwrites-run     s mode, low watermarks (writeback races the writes),
#                       wcio's workload for a while; the log is then
#                       replayed (tests/guest/tools/lwreplay.c) to a sample
#                       of record writes, and at each the target is loaded
#                       on a snapshot of the replayed devices: every write
#                       a record says was durable must read back (wcio
#                       verify), with the error flag clear.
#
# s mode only: p mode writes its cache with stores, which no log sees (the
# userspace PMEM model covers those: the pmem_* configurations of
# tests/unit/crash_test.cpp).
# scripts/mutants.sh --guest shows this case failing on a module
# built without the commit's cache flush.  WC_LW_SEED, WC_LW_RUN (seconds)
# and WC_LW_POINTS (replay points) reproduce or widen a run.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 62-logwrites

tools=$(dirname "$0")/../tools
for t in wcio lwreplay; do
	if ! cc -O2 -Wall -static -o "$WC_WORKDIR/$t" "$tools/$t.c"; then
		echo "cannot build $t (needs cc and a static libc)" >&2
		exit 1
	fi
done

SEED=${WC_LW_SEED:-$(((RANDOM << 15 | RANDOM) + 1))}
RUN=${WC_LW_RUN:-20}
POINTS=${WC_LW_POINTS:-12}
echo "seed $SEED (WC_LW_SEED=$SEED to repeat), run ${RUN}s, $POINTS replay points"

guest_case s-logwrites-run
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR/s" - --disk data:112 --disk log:1536 \
	--disk replay:112 --disk cow:128 --file "$WC_WORKDIR/wcio" \
	--file "$WC_WORKDIR/lwreplay" --env "SEED=$SEED" --env "RUN=$RUN" \
	--env "POINTS=$POINTS" --timeout 900 <<'EOF'
data=$(disk data)
lwlog=$(disk log)
replay=$(disk replay)
cow=$(disk cow)
OS=$((64 * 2048))	# origin: 64 MiB
CS=$((16 * 2048))	# cache: 16 MiB, so writeback runs
RS=$((32 * 2048))	# records: wcio's 16 MiB region and room
NBLOCKS=8192		# a 32 MiB working set
HOT=1024
LOW="high_watermark 20 low_watermark 10"

# The three slices of BASE, and the target on them.
slices() {
	dm_create origin "0 $OS linear $1 0"
	dm_create cache "0 $CS linear $1 $OS"
	dm_create rec "0 $RS linear $1 $((OS + CS))"
	dm_create wc "$(wc_table s /dev/mapper/origin /dev/mapper/cache 4096 $LOW)"
}
unslice() {
	dm_remove wc
	dm_remove rec
	dm_remove cache
	dm_remove origin
}

modprobe dm-log-writes
modprobe dm-snapshot
dm_create lw "0 $(sectors "$data") log-writes $data $lwlog"
slices /dev/mapper/lw
log "table: $(dmsetup table wc)"
/host/wcio run /dev/mapper/wc /dev/mapper/rec 0 "$SEED" "$NBLOCKS" "$HOT" zero &
pid=$!
sleep "$RUN"
kill -0 "$pid" 2>/dev/null || die "wcio run ended by itself: the workload failed"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
log "status at the end: $(dmsetup status wc)"
unslice
dm_message lw mark end
log "log-writes: $(dmsetup status lw)"
dm_remove lw

# Record writes are the FUA writes to the record slice; the first few
# records hold no flush yet.
/host/lwreplay scan "$lwlog" >/tmp/entries
total=$(wc -l </tmp/entries)
awk -v r=$((OS + CS)) '$2 % 4 >= 2 && $3 >= r { print $1 }' /tmp/entries >/tmp/records
nrec=$(wc -l </tmp/records)
log "$total log entries, $nrec record writes"
[ "$nrec" -gt 20 ] || die "only $nrec record writes: the workload did not get far enough"

prev=0 k=1 failed=0
while [ "$k" -le "$POINTS" ]; do
	# evenly spaced record writes, from the tenth on, the last included
	line=$((10 + (nrec - 10) * k / POINTS))
	point=$(sed -n "${line}p" /tmp/records)
	/host/lwreplay apply "$lwlog" "$replay" "$prev" $((point + 1))
	prev=$((point + 1))
	# The load and the verification write nothing to the replay itself.
	dm_create snap "0 $(sectors "$replay") snapshot $replay $cow N 8"
	slices /dev/mapper/snap
	err=$(wc_status_field wc 1)
	if /host/wcio verify /dev/mapper/wc /dev/mapper/rec 0 zero /tmp/map >/tmp/verify 2>&1 &&
	   [ "$err" = 0 ]; then
		log "point $k (log entry $point of $total): $(tail -n1 /tmp/verify)"
	else
		cat /tmp/verify
		log "FAILED at point $k (log entry $point of $total), error flag $err"
		failed=$((failed + 1))
	fi
	unslice
	dm_remove snap
	k=$((k + 1))
done
[ "$failed" = 0 ] || die "$failed of $POINTS replayed power cuts lost durable writes"
EOF
guest_finish
