#!/bin/bash
# Side by side with the in-tree target, in one guest boot:
#   tests/bench/compare-intree.sh KVER MODULE.ko
# MODULE.ko must be built with WC_NAME=wcx (target "wcx"), so that it loads
# beside the kernel's dm-writecache.  Each target gets its own identical
# devices (brd ramdisks for SSD mode, halves of one emulated pmem for PMEM
# mode, in guest RAM, not a host file); every fio job runs on both three
# times, in alternating order.  Numbers only:
# this never fails on performance.  TCG emulation makes absolute figures
# meaningless; the ratio between the two targets is what to read.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../guest/lib.sh"

kver=$1 module=$2
workdir=$here/../../build/guest/work/bench-$kver
rm -rf "$workdir"
script=$(mktemp)
trap 'rm -f "$script"; _guest_kill_all' EXIT
cat >"$script" <<'END'
modprobe brd rd_nr=4 rd_size=131072
p=$(pmem_dev)
half=$(( $(sectors $p) / 2 ))
dm_create pa "0 $half linear $p 0"
dm_create pb "0 $half linear $p $half"
run() {	# target mode origin cache job...
	local t=$1 mode=$2 o=$3 c=$4
	shift 4
	dd if=/dev/zero of=$c bs=4096 count=1 oflag=direct 2>/dev/null
	printf '%s\n' "0 $(sectors $o) $t $mode $o $c 4096 0" | dmsetup create --noudevsync b
	dmsetup mknodes b
	# "--prefill": the 48 MiB are written (cached) first, not measured
	if [ "$1" = --prefill ]; then
		shift
		fio --name=fill --filename=/dev/mapper/b --ioengine=psync --direct=1 \
			--rw=write --bs=1M --size=48M >/dev/null 2>&1 || exit 1
	fi
	fio --name=j --filename=/dev/mapper/b --ioengine=psync --direct=1 \
		--output-format=terse --terse-version=3 "$@" >/tmp/t.out 2>&1 ||
		{ cat /tmp/t.out; exit 1; }
	dmsetup remove --noudevsync b
	# terse v3: field 8 read IOPS, 49 write IOPS
	awk -F';' '{ printf "%.0f", $8 + $49 }' /tmp/t.out
}
jobs='randwrite-4k:--rw=randwrite --bs=4k --size=48M --runtime=10 --time_based
seqwrite-64k:--rw=write --bs=64k --size=48M --runtime=10 --time_based
randrw-4k-70r:--rw=randrw --rwmixread=70 --bs=4k --size=48M --runtime=10 --time_based
randwrite-4k-fsync8:--rw=randwrite --bs=4k --size=48M --fsync=8 --runtime=10 --time_based
seqread-64k-cached:--prefill --rw=read --bs=64k --size=48M --runtime=10 --time_based'
printf '%-6s %-22s %10s %10s %6s  %s\n' mode job in-tree project ratio "ratio per round" >/host/bench.txt
for mode in s p; do
	echo "$jobs" | while IFS=: read -r name args; do
		a=0 b=0 rounds=""
		for round in 1 2 3; do
			# each target has its own devices; the order alternates so
			# that neither always runs on a warmer guest
			if [ $mode = s ]; then
				set -- "writecache s /dev/ram0 /dev/ram1" "wcx s /dev/ram2 /dev/ram3"
			else
				set -- "writecache p /dev/ram0 /dev/mapper/pa" "wcx p /dev/ram2 /dev/mapper/pb"
			fi
			if [ $((round % 2)) = 1 ]; then
				x=$(run $1 $args) y=$(run $2 $args)
			else
				y=$(run $2 $args) x=$(run $1 $args)
			fi
			a=$((a + x)) b=$((b + y))
			rounds="$rounds $(awk -v a=$x -v b=$y 'BEGIN { printf "%.2f", a ? b / a : 0 }')"
		done
		printf '%-6s %-22s %10s %10s %6s %s\n' $mode $name $((a / 3)) $((b / 3)) \
			$(awk -v a=$a -v b=$b 'BEGIN { printf "%.2f", a ? b / a : 0 }') "$rounds" >>/host/bench.txt
	done
done
cat /host/bench.txt
END
guest_boot "$kver" "$workdir" "$script" --pmem 256 --pmem-volatile --modules "$module" --intree \
	--mem 2048 --timeout 2400
echo "IOPS (reads + writes), mean of three rounds, kernel $kver:"
cat "$GUEST_SHARE/bench.txt"
