#!/bin/bash
# Data integrity under fio, with writeback racing the workload: a cache a
# third the size of the working set (below), high_watermark 20
# low_watermark 10.
#
# Each variant, in one boot:
#   1. "fill": random writes of 4k-64k (4k-aligned; the target's block size
#      is 4096) over the whole working set, libaio at queue depth 4, an
#      fsync every 8 writes, fio --verify=crc32c --verify_fatal=1 with
#      verify_backlog (written blocks are read back and checked while the
#      writes go on), and a second fio job reading random 4k-64k ranges
#      of the same area at the same time
#   2. "overwrite": the same with another seed, so every block is written
#      again, at other offsets and sizes (overwrites of cached, committed
#      and written-back blocks)
#   3. fio --verify_only of the overwrite through the target
#   4. the "cleaner" message; wait until no block is used and none is
#      under writeback (status fields 3 == 2, 4 == 0)
#   5. remove the target: fio --verify_only of the overwrite on the origin
#      alone, and the origin holds what 1 MiB reads through the target
#      returned between 3 and 4
# The error state (status field 1) must stay 0.
#   s-default    s mode, writeback pauses until the device is idle for 1 s
#                (the default): the cache fills up and writes go around it
#   s-nopause    s mode with pause_writeback 0: writeback runs all the time
#   p            p mode (32 MiB pmem)
#   p-read-hit-miss
#                p mode: one 16 KiB read of blocks 0-3 where 1 and 3 are
#                cached and 0 and 2 are not returns all four blocks
# fio's seeds are random (printed; WC_FIO_SEED repeats a run).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 70-fio-integrity

# make check: a 16 MiB cache under a 48 MiB working set; WC_GUEST_LONG=1
# (make stress): 32 MiB under 96 MiB.  The same ratio: the cache fills
# and writeback races the writes either way.
if [[ ${WC_GUEST_LONG:-0} = 1 ]]; then CACHE_MIB=32; else CACHE_MIB=16; fi
WS_MIB=$((CACHE_MIB * 3))
SEED=${WC_FIO_SEED:-$(((RANDOM << 15 | RANDOM) + 1))}
echo "fio seeds from $SEED (WC_FIO_SEED=$SEED to repeat)"

GUEST=$(cat <<'EOF'
origin=$(disk origin)
if [ "$MODE" = s ]; then cache=$(disk cache); else cache=$(pmem_dev); fi
wc=/dev/mapper/wc
dm_create wc "$(wc_table "$MODE" "$origin" "$cache" 4096 $ARGS)"
log "table: $(dmsetup table wc)"
log "status: $(dmsetup status wc)"
blocks=$(wc_status_field wc 2)

SIZE=${WS_MIB}M
COMMON="--size=$SIZE --bsrange=4k-64k --blockalign=4k --ioengine=libaio --iodepth=4 --direct=1 --verify_state_save=0"
# writer SEED [more fio args]: the fio options of a writing pass
writer() {
	local seed=$1
	shift
	echo "--name=writer --rw=randwrite --randseed=$seed --fsync=8 --verify=crc32c --verify_fatal=1 $*"
}
run_fio() {
	local what=$1
	shift
	log "fio $what"
	# shellcheck disable=SC2086
	if ! fio $COMMON "$@" >/tmp/fio-$what.out 2>&1; then
		grep -i -m 10 -e verify -e 'err=' -e error /tmp/fio-$what.out
		log "status: $(dmsetup status wc 2>/dev/null)"
		die "fio $what"
	fi
	grep -E '^ +(READ|WRITE):' /tmp/fio-$what.out
}
# about as long as a writer, so reads race with the writes all the time
reader() { echo "--name=reader --rw=randread --randseed=$1 --io_size=$((WS_MIB * 8 / 3))M"; }

while :; do sleep 2; log "status: $(dmsetup status wc)"; done &
logger=$!

run_fio fill --filename=$wc $(writer $SEED1 --verify_backlog=64) $(reader $((SEED1 + 7)))
run_fio overwrite --filename=$wc $(writer $SEED2 --verify_backlog=64) $(reader $((SEED2 + 7)))
run_fio verify-target --filename=$wc $(writer $SEED2 --verify_only=1)
expect_eq "$(wc_status_field wc 1)" 0 "error state after the workload"
dd if=$wc of=/tmp/target.img bs=1M count=$WS_MIB iflag=direct 2>/dev/null

used=$((blocks - $(wc_status_field wc 3)))
log "cleaner, $used blocks used"
dm_message wc cleaner
wait_for_status wc '$3 == $2 && $4 == 0' 240
kill $logger
log "status: $(dmsetup status wc)"
expect_eq "$(wc_status_field wc 1)" 0 "error state after the cleaner"
dm_remove wc
run_fio verify-origin --filename=$origin $(writer $SEED2 --verify_only=1)
# fio has checked the origin: a difference is a wrong read through the target
if ! dd if=$origin bs=1M count=$WS_MIB iflag=direct 2>/dev/null | cmp -l - /tmp/target.img >/tmp/cmp.out 2>&1; then
	log "$(wc -l </tmp/cmp.out) bytes differ; first at byte $(head -n 1 /tmp/cmp.out | awk '{ print $1 - 1 }')"
	awk '{ b = int(($1 - 1) / 4096); if (!(b in seen)) { seen[b] = 1; n++; if (n <= 10) printf "block %d differs\n", b } } END { print n " blocks differ" }' /tmp/cmp.out
	die "1 MiB reads through the target returned data other than what the (fio-verified) origin holds after the cleaner"
fi
EOF
)

variant() {
	local name=$1 mode=$2 args=$3 n=$4
	local -a devs=(--disk origin:$((WS_MIB + 64)))
	if [[ $mode == s ]]; then devs+=(--disk cache:$CACHE_MIB); else devs+=(--pmem $CACHE_MIB); fi
	guest_case "$name"
	guest_check guest_boot "$WC_KVER" "$WC_WORKDIR/$name" - "${devs[@]}" --timeout 400 \
		--env "MODE=$mode" --env "ARGS=$args" --env "WS_MIB=$WS_MIB" \
		--env "SEED1=$((SEED + 10 * n))" --env "SEED2=$((SEED + 10 * n + 1))" <<<"$GUEST"
}

variant s-default s "high_watermark 20 low_watermark 10" 0
variant s-nopause s "high_watermark 20 low_watermark 10 pause_writeback 0" 1
variant p p "high_watermark 20 low_watermark 10" 2

guest_case p-read-hit-miss
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR/p-read-hit-miss" - --pmem 32 --disk origin:16 <<'EOF'
dm_create wc "$(wc_table p "$(disk origin)" "$(pmem_dev)" 4096)"
# blocks 1 and 3 in the cache, 0 and 2 only on the (zeroed) origin
write_pattern /dev/mapper/wc 4k 4k one
write_pattern /dev/mapper/wc 12k 4k three
dd if=/dev/mapper/wc of=/tmp/r bs=16k count=1 iflag=direct 2>/dev/null
sum() { sha256sum | cut -d' ' -f1; }
part() { dd if=/tmp/r bs=4k skip="$1" count=1 2>/dev/null | sum; }
zero=$(dd if=/dev/zero bs=4k count=1 2>/dev/null | sum)
blk() { dd if=/dev/mapper/wc bs=4k skip="$1" count=1 iflag=direct 2>/dev/null | sum; }
log "status: $(dmsetup status wc)"
bad=""
[ "$(part 0)" = "$zero" ] || bad="$bad 0"
[ "$(part 1)" = "$(blk 1)" ] || bad="$bad 1"
[ "$(part 2)" = "$zero" ] || bad="$bad 2"
[ "$(part 3)" = "$(blk 3)" ] || bad="$bad 3"
verify_pattern /dev/mapper/wc 4k 4k one
verify_pattern /dev/mapper/wc 12k 4k three
[ -z "$bad" ] || die "a 16 KiB read of blocks 0-3 (1 and 3 cached) returned wrong data for block(s)$bad; read alone they are right"
EOF

guest_finish
