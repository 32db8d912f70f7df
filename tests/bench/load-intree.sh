#!/bin/bash
# Load plus resume of a full cache, the in-tree target against this
# module, in one guest boot:
#   tests/bench/load-intree.sh KVER MODULE.ko [ROUNDS]
# MODULE.ko must be built with WC_NAME=wcx (target "wcx"), so that it loads
# beside the kernel's dm-writecache.  Per mode, one cache of about 1 GiB in
# 512-byte blocks (about two million): p mode on the emulated pmem, s mode
# on a brd ramdisk (both in guest RAM, not a host file).  The in-tree target
# fills it with one sequential write to all but 2048-4095 of its blocks, so
# that with high_watermark 100 writeback never starts and every round
# loads the same image (the format is the same for both targets).  Then,
# ROUNDS times (default 5) in alternating order, each target's
# "dmsetup create" (table load and resume: the whole metadata scan) is
# timed, its dirty block count checked, and the device removed.
# Numbers only: this never fails on performance.  TCG makes absolute times
# meaningless; the ratio between the two targets is what to read.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../guest/lib.sh"

kver=$1 module=$2 rounds=${3:-5}
workdir=$here/../../build/guest/work/bench-load-$kver
rm -rf "$workdir"
script=$(mktemp)
trap 'rm -f "$script"; _guest_kill_all' EXIT
cat >"$script" <<'END'
# centiseconds of uptime
now_cs() { cut -d' ' -f1 /proc/uptime | tr -d .; }
# 1.2 GiB ramdisks: the origin, and the s-mode cache (the pmem: 1152 MiB, a
# multiple of the 16 MiB namespace alignment)
modprobe brd rd_nr=2 rd_size=1258291
origin=/dev/ram0
osz=$(sectors $origin)
table() { echo "0 $osz $1 $2 $origin $3 512 4 high_watermark 100 low_watermark 99"; }
used() { dmsetup status "$1" | awk '{ print $5 - $6 }'; }
# the module's own open and load times (DMDEBUG), per round in the log
echo 'module dm_wcx +p' >/sys/kernel/debug/dynamic_debug/control ||
	log "no dynamic debug: the module's own times are not logged"
printf '%-4s %8s %12s %12s %7s  %s\n' mode blocks "in-tree s" "project s" ratio \
	"in-tree/project per round" >/host/load.txt
for mode in p s; do
	if [ $mode = p ]; then cache=$(pmem_dev); else cache=/dev/ram1; fi
	dd if=/dev/zero of=$cache bs=1M count=1 oflag=direct 2>/dev/null
	dm_create fill "$(table writecache $mode $cache)"
	blocks=$(wc_status_field fill 2)
	fill_mib=$(((blocks - 2048) / 2048))
	log "$mode: $blocks blocks; filling $fill_mib MiB"
	fio --name=fill --filename=/dev/mapper/fill --rw=write --bs=1M --size=${fill_mib}M \
		--ioengine=psync --direct=1 >/tmp/fill.out 2>&1 || { cat /tmp/fill.out; exit 1; }
	want=$(used fill)
	dm_remove fill
	log "$mode: $want dirty blocks"
	times_a="" times_b="" per_round=""
	r=1
	while [ $r -le $ROUNDS ]; do
		if [ $((r % 2)) = 1 ]; then order="writecache wcx"; else order="wcx writecache"; fi
		for t in $order; do
			t0=$(now_cs)
			table $t $mode $cache | dmsetup create --noudevsync b
			t1=$(now_cs)
			dmsetup mknodes b
			expect_eq "$(used b)" "$want" "$t: dirty blocks after the load"
			[ $t = wcx ] && log "$(dmesg | grep -E ': (open|load): [0-9]+ ms' | tail -n 2 | sed 's/.*: open:/open/; s/.*: load:/load/' | tr '\n' ' ')"
			dm_remove b
			cs=$((t1 - t0))
			if [ $t = writecache ]; then a=$cs; times_a="$times_a $cs"; else b=$cs; times_b="$times_b $cs"; fi
		done
		per_round="$per_round $(awk -v a=$a -v b=$b 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
		log "$mode round $r: in-tree $a cs, project $b cs"
		r=$((r + 1))
	done
	med() { echo $1 | tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
	ma=$(med "$times_a") mb=$(med "$times_b")
	printf '%-4s %8s %12.2f %12.2f %7.2f %s\n' $mode $blocks $(awk -v a=$ma 'BEGIN { print a / 100 }') \
		$(awk -v b=$mb 'BEGIN { print b / 100 }') $(awk -v a=$ma -v b=$mb 'BEGIN { print b ? a / b : 0 }') \
		"$per_round" >>/host/load.txt
done
cat /host/load.txt
END
guest_boot "$kver" "$workdir" "$script" --pmem 1152 --pmem-volatile --modules "$module" --intree \
	--mem 4096 --timeout 3600 --env "ROUNDS=$rounds"
echo "load + resume of a full cache, median seconds of $rounds rounds, kernel $kver"
echo "(ratio: in-tree time / project time, above 1 = the project is faster):"
cat "$GUEST_SHARE/load.txt"
