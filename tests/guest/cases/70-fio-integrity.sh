#!/bin/bash
# Data integrity under fio, with writeback racing the workload: a cache a
# third the size of the working set (below), high_watermark 20
# low_watermark 10.
#
# Each variant (all of them in one boot, on their own disks):
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
wc=/dev/mapper/wc
# variant NAME MODE ORIGIN CACHE "TABLE ARGS" SEED1 SEED2: steps 1-5 on a
# fresh origin and cache
variant() {
log "=== $1"
MODE=$2 origin=$3 cache=$4 ARGS=$5 SEED1=$6 SEED2=$7
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
}

# p-read-hit-miss, on a fresh p-mode cache (the superblock zeroed: the
# target formats it) over an origin whose blocks 0-3 are zeroed
read_hit_miss() {
log "=== p-read-hit-miss"
origin=$1 cache=$2
dd if=/dev/zero of="$cache" bs=4k count=1 oflag=direct 2>/dev/null
dd if=/dev/zero of="$origin" bs=4k count=4 oflag=direct 2>/dev/null
dm_create wc "$(wc_table p "$origin" "$cache" 4096)"
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
dm_remove wc
}
EOF
)

# All variants in one boot, each on its own fresh disks (a boot costs
# 20-30 s under TCG).
guest_case fio-integrity
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - --timeout 1200 \
	--disk origin1:$((WS_MIB + 64)) --disk cache1:$CACHE_MIB \
	--disk origin2:$((WS_MIB + 64)) --disk cache2:$CACHE_MIB \
	--disk origin3:$((WS_MIB + 64)) --pmem $CACHE_MIB \
	--env "WS_MIB=$WS_MIB" <<EOF
$GUEST
variant s-default s "\$(disk origin1)" "\$(disk cache1)" "high_watermark 20 low_watermark 10" $((SEED)) $((SEED + 1))
variant s-nopause s "\$(disk origin2)" "\$(disk cache2)" "high_watermark 20 low_watermark 10 pause_writeback 0" $((SEED + 10)) $((SEED + 11))
variant p p "\$(disk origin3)" "\$(pmem_dev)" "high_watermark 20 low_watermark 10" $((SEED + 20)) $((SEED + 21))
read_hit_miss "\$(disk origin3)" "\$(pmem_dev)"
EOF

guest_finish
