#!/bin/bash
# The same script against the in-tree dm-writecache and against the
# project's module, on identical fresh disks; their outputs must be equal:
# ti->error texts of bad table lines, the table echo of every option, the
# status line after fixed workloads (discards, partial hits, FUA, reloads,
# metadata_only, 512-byte blocks), queue limits, message results (also
# while suspended).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 20-compare-intree

script=$(mktemp)
trap 'rm -f "$script"; _guest_kill_all' EXIT
cat >"$script" <<'EOF2'
cache=$(disk cache)
origin=$(disk origin)
vpmem=$(virtio_pmem_dev)

# compare OUT: the whole comparison on fresh (zeroed) devices
compare() {
out=$1
: >"$out"
n=0
for d in "$cache" "$origin" "$(pmem_dev)" "$vpmem"; do
	dd if=/dev/zero of="$d" bs=1M count=$(($(sectors "$d") / 2048)) oflag=direct 2>/dev/null
done

# One table line: record whether it loads, its ti->error, its table echo.
try_table() {
	n=$((n + 1))
	dmesg -c >/dev/null
	if printf '%s\n' "0 $(sectors "$origin") writecache $*" |
		dmsetup create --noudevsync t$n 2>/dev/null; then
		dmsetup mknodes t$n
		echo "table $n: ok: $(dmsetup table t$n | cut -d' ' -f3-)" >>"$out"
		dmsetup remove --noudevsync t$n
	else
		err=$(dmesg | sed -n 's/.*writecache: //p' | tail -n1)
		echo "table $n: refused: $err" >>"$out"
	fi
}

# The queue limits the target sets (io_hints) and inherits.
limits() {
	local q=/sys/block/dm-$(dmsetup info -c --noheadings -o minor $1)/queue f v line=
	for f in logical_block_size physical_block_size minimum_io_size optimal_io_size \
		discard_granularity discard_max_bytes write_cache fua dax; do
		v=$(cat $q/$f 2>/dev/null || echo -)
		line="$line $f=$v"
	done
	echo "$2 limits:$line" >>"$out"
}

# msg NAME WORDS...: a message's result, and the status after it
msg() {
	local name=$1
	shift
	if dmsetup message $name 0 "$@" 2>/dev/null; then r=ok; else r=failed; fi
	echo "message '$*': $r; status $(dmsetup status $name | cut -d' ' -f4-)" >>"$out"
}

# create NAME TABLE-ARGS...: a fresh cache (the cache device zeroed first)
create() {
	local name=$1 dev=$4
	shift
	dd if=/dev/zero of="$dev" bs=4096 count=1 oflag=direct 2>/dev/null
	printf '%s\n' "0 $(sectors "$origin") writecache $*" | dmsetup create --noudevsync $name
	dmsetup mknodes $name
}

# sync_write NAME BLOCK COUNT: O_DIRECT|O_SYNC 4 KiB writes (FUA)
sync_write() {
	fio --name=s --filename=/dev/mapper/$1 --rw=write --bs=4k --offset=$(($2 * 4096)) \
		--size=$(($3 * 4096)) --direct=1 --sync=1 --ioengine=psync >/dev/null
}

st() { echo "$1: $(dmsetup status $2 | cut -d' ' -f4-)" >>"$out"; }

o=$origin c=$cache
try_table s
try_table x $o $c 4096 0
try_table s $o
try_table s $o /dev/nonexistent 4096 0
try_table s $o $c
try_table s $o $c 1000 0
try_table s $o $c 256 0
try_table s $o $c 8192 0
try_table s $o $c 4096
try_table s $o $c 4096 x
try_table s $o $c 4096 19
try_table s $o $c 4096 2 cleaner
try_table s $o $c 4096 1 fua
try_table s $o $c 4096 1 nofua
try_table s $o $c 4096 1 bogus
try_table s $o $c 4096 1 high_watermark
try_table s $o $c 4096 2 high_watermark 101
try_table s $o $c 4096 2 high_watermark -1
try_table s $o $c 4096 2 low_watermark 60
try_table s $o $c 4096 2 autocommit_time 3600001
try_table s $o $c 4096 2 max_age 86400001
try_table s $o $c 4096 2 pause_writeback 60001
try_table s $o $c 4096 2 start_sector 999999999
try_table s $o $c 4096 2 writeback_jobs 12x
try_table S $o $c 4096 0
try_table s $o $c 512 0
try_table s $o $c 4096 4 HIGH_WATERMARK 60 low_watermark 60
try_table s $o $c 4096 18 pause_writeback 100 metadata_only cleaner max_age 5000 autocommit_time 20 autocommit_blocks 9 writeback_jobs 7 low_watermark 10 high_watermark 60 start_sector 8
try_table s $o $c 4096 2 autocommit_blocks 0
try_table s $o $c 4096 2 writeback_jobs 4294967297

# A fixed workload and its status line.
dd if=/dev/zero of="$cache" bs=4096 count=1 conv=fsync 2>/dev/null
printf '%s\n' "0 $(sectors "$origin") writecache s $o $c 4096 0" | dmsetup create --noudevsync w
dmsetup mknodes w
echo "fresh: $(dmsetup status w | cut -d' ' -f4-)" >>"$out"
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=64 seek=16 oflag=direct 2>/dev/null
dd if=/dev/mapper/w of=/dev/null bs=4096 count=128 iflag=direct 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=8 seek=16 oflag=direct 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=8 seek=200 oflag=direct conv=fsync 2>/dev/null
echo "workload: $(dmsetup status w | cut -d' ' -f4-)" >>"$out"
for m in bogus "flush now" clear_stats flush_on_suspend cleaner flush; do
	if dmsetup message w 0 $m 2>/dev/null; then r=ok; else r=failed; fi
	echo "message '$m': $r" >>"$out"
done
echo "after messages: $(dmsetup status w | cut -d' ' -f4-)" >>"$out"
echo "table after cleaner message: $(dmsetup table w | cut -d' ' -f4-)" >>"$out"
dmsetup remove --noudevsync w

# SSD: limits, discards over cached and uncached blocks, partial-hit
# reads, a reload with other options, messages while suspended.
create w s $o $c 4096 0
limits w "ssd 4096"
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=32 seek=16 oflag=direct conv=fsync 2>/dev/null
blkdiscard -o $((8 * 4096)) -l $((16 * 4096)) /dev/mapper/w
st "ssd after discard" w
dd if=/dev/mapper/w of=/dev/null bs=65536 count=4 iflag=direct 2>/dev/null
st "ssd after partial-hit reads" w
sync_write w 30 4
st "ssd after dsync writes" w
blockdev --flushbufs /dev/mapper/w
st "ssd after flushbufs" w
printf '%s\n' "0 $(sectors "$origin") writecache s $o $c 4096 4 high_watermark 90 low_watermark 80" |
	dmsetup reload --noudevsync w
dmsetup resume --noudevsync w
echo "reloaded: $(dmsetup table w | cut -d' ' -f4-); $(dmsetup status w | cut -d' ' -f4-)" >>"$out"
dmsetup suspend --noudevsync w
msg w flush
msg w cleaner
msg w clear_stats
dmsetup resume --noudevsync w
msg w flush_on_suspend extra
msg w cleaner
msg w flush
dmsetup remove --noudevsync w

# SSD metadata_only: data writes go around the cache; cached blocks are
# still overwritten in the cache
create w s $o $c 4096 0
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=8 oflag=direct conv=fsync 2>/dev/null
dmsetup suspend --noudevsync w
printf '%s\n' "0 $(sectors "$origin") writecache s $o $c 4096 1 metadata_only" |
	dmsetup reload --noudevsync w
dmsetup resume --noudevsync w
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=16 oflag=direct conv=fsync 2>/dev/null
st "metadata_only" w
dmsetup remove --noudevsync w

# 512-byte blocks
create w s $o $c 512 0
limits w "ssd 512"
dd if=/dev/urandom of=/dev/mapper/w bs=512 count=24 seek=3 oflag=direct conv=fsync 2>/dev/null
dd if=/dev/mapper/w of=/dev/null bs=1024 count=20 iflag=direct 2>/dev/null
st "ssd 512" w
dmsetup remove --noudevsync w

# Persistent-memory mode: table lines, and a fixed workload.
p=$(pmem_dev)
dd if=/dev/zero of="$p" bs=4096 count=1 oflag=direct 2>/dev/null
try_table p $o $p 4096 0
try_table p $o $p 4096 1 nofua
try_table p $o $p 4096 2 fua pause_writeback 5
try_table p $o $p 4096 3 pause_writeback 5 fua
try_table p $o $p 4096 8 fua metadata_only autocommit_blocks 7 autocommit_time 100 max_age 1000
try_table p $o $p 512 0
# asynchronous DAX (virtio-pmem)
try_table p $o "$vpmem" 4096 0
printf '%s\n' "0 $(sectors "$origin") writecache p $o $p 4096 0" | dmsetup create --noudevsync w
dmsetup mknodes w
echo "pmem fresh: $(dmsetup status w | cut -d' ' -f4-)" >>"$out"
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=64 seek=16 oflag=direct 2>/dev/null
dd if=/dev/mapper/w of=/dev/null bs=4096 count=128 iflag=direct 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=8 seek=16 oflag=direct 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/w bs=8192 count=4 seek=100 oflag=direct conv=fsync 2>/dev/null
echo "pmem workload: $(dmsetup status w | cut -d' ' -f4-)" >>"$out"
dmsetup message w 0 flush
echo "pmem after flush: $(dmsetup status w | cut -d' ' -f4-)" >>"$out"
dmsetup remove --noudevsync w

# PMEM: limits, discards, FUA, metadata_only, messages while suspended
create w p $o $p 4096 0
limits w "pmem 4096"
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=32 seek=16 oflag=direct conv=fsync 2>/dev/null
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=8 seek=20 oflag=direct conv=fsync 2>/dev/null
blkdiscard -o $((8 * 4096)) -l $((16 * 4096)) /dev/mapper/w
st "pmem after discard" w
dd if=/dev/mapper/w of=/dev/null bs=65536 count=4 iflag=direct 2>/dev/null
st "pmem after partial-hit reads" w
sync_write w 30 4
st "pmem after dsync writes" w
dmsetup suspend --noudevsync w
msg w flush
dmsetup resume --noudevsync w
msg w clear_stats
dmsetup suspend --noudevsync w
printf '%s\n' "0 $(sectors "$origin") writecache p $o $p 4096 1 metadata_only" |
	dmsetup reload --noudevsync w
dmsetup resume --noudevsync w
dd if=/dev/urandom of=/dev/mapper/w bs=4096 count=40 seek=8 oflag=direct conv=fsync 2>/dev/null
st "pmem metadata_only" w
msg w cleaner
msg w flush
dmsetup remove --noudevsync w
}

use_intree
compare /host/intree.txt
use_project
compare /host/project.txt
EOF2

guest_case compare
ok=1
# one boot: the script runs against the in-tree target, then against the
# project's module (guest-lib's use_intree / use_project swap them)
rm -rf "$WC_WORKDIR/both"
guest_boot "$WC_KVER" "$WC_WORKDIR/both" "$script" --disk cache:32 --disk origin:128 \
	--pmem 32 --virtio-pmem 16 --intree-swap || ok=0
if [[ $ok = 1 ]]; then
	cp "$GUEST_SHARE/intree.txt" "$GUEST_SHARE/project.txt" "$WC_WORKDIR/"
	if diff -u "$WC_WORKDIR/intree.txt" "$WC_WORKDIR/project.txt"; then
		echo "outputs are identical ($(wc -l <"$WC_WORKDIR/project.txt") lines)"
	else
		echo "the project's module differs from the in-tree target (diff above)" >&2
		ok=0
	fi
fi
guest_check test "$ok" = 1
guest_finish
