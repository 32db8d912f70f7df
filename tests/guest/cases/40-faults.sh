#!/bin/bash
# Device errors, with dm-flakey under the cache or the origin:
#   ssd-cache-errors    a failing cache write latches the error state: that
#                       write and later ones fail with EIO, committed data
#                       stays readable, and survives a reload; the failed
#                       write's block reads its version before the write
#   ssd-origin-errors   writeback to a failing origin latches the error
#                       state ("flush" fails), the cache keeps the data; on a
#                       healthy origin a new table drains it
#   pmem-origin-errors  the same in persistent-memory mode
#   ssd-unreadable-metadata  a cache whose superblock reads but whose
#                       entries do not is refused (in-tree loads it with
#                       every block free, serving the origin's stale data):
#                       dmsetup create fails and leaves no device; a resume
#                       fails and the target stays suspended until the
#                       device heals, then finds every committed block
#   ssd-cache-bad-region  committed blocks whose cache copy turns
#                       unreadable (an error segment under the cache): each
#                       block read alone returns its data or EIO, never
#                       other data; the failed read latches the error
#                       state; on a healed device a reload reads every block
#   {ssd,pmem}-origin-bad-region  an error segment under the origin: read
#                       misses there fail with EIO, cached blocks read
#                       right, "flush" (writeback into the bad segment)
#                       fails and latches; on a healed origin a reload
#                       drains everything
#   {ssd,pmem}-slow-origin  dm-delay under the origin (25 ms per write) with
#                       writeback running all the time: writes, suspends,
#                       resumes and a "flush" finish, with no hung task
#                       (hung_task_timeout_secs is 15 here); the origin then
#                       holds every block
#   ssd-drop-cuts       power cuts inside the boot, on the same devices run
#                       after run: wcio's workload runs with writeback
#                       racing it, is stopped, and from that instant both
#                       devices drop every write (dm-flakey drop_writes: what
#                       a power cut leaves, nothing acknowledged lost); the
#                       target is removed, the devices heal, a new target
#                       loads, and every write wcio's records call durable
#                       must read back (3 cuts; WC_FAULT_CUTS); fio's FUA
#                       writes at depth 16 beside it make the flush thread
#                       commit many flushes and FUA writes at once
#   ssd-fault-then-cut  the cache fails writes during the workload, then the
#                       power is cut the same way: what was durable before
#                       the fault reads back after the reload
# No boot may show an Oops, BUG, WARNING or Call Trace (the harness checks);
# lockdep is not checked: Debian's kernels are built without it.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 40-faults

WCIO=$WC_WORKDIR/wcio
if ! cc -O2 -Wall -static -o "$WCIO" "$(dirname "$0")/../tools/wcio.c"; then
	echo "cannot build the workload program (needs cc and a static libc)" >&2
	exit 1
fi
SEED=${WC_FAULT_SEED:-$(((RANDOM << 15 | RANDOM) + 1))}
CUTS=${WC_FAULT_CUTS:-3}
echo "seed $SEED (WC_FAULT_SEED=$SEED to repeat), $CUTS in-boot power cuts"

common=$(cat <<'END'
up() { echo "0 $(sectors $1) flakey $1 0 1 0"; }
broken() { echo "0 $(sectors $1) flakey $1 0 0 1 1 error_writes"; }
swap_table() { dm_suspend $1; printf '%s\n' "$2" | dmsetup reload $1; dm_resume $1; }
# an empty write with fsync: a flush, so the commit happens now
flush_dev() { dd if=/dev/zero of=$1 bs=4096 count=0 conv=fsync,notrunc 2>/dev/null; }
origin=$(disk origin)
dm_create oflaky "$(up $origin)"
END
)

# The cases run one after the other in one boot, each on what the last
# left (a boot costs 20-30 s under TCG).
guest_case faults
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - --disk cache:64 --disk origin:256 --pmem 64 \
	--disk rec:32 --file "$WCIO" --env "SEED=$SEED" --env "CUTS=$CUTS" --timeout 900 <<EOF
$common
cache=\$(disk cache)
log "=== ssd-cache-errors"
dm_create cflaky "\$(up \$cache)"
table=\$(wc_table s /dev/mapper/oflaky /dev/mapper/cflaky 4096)
write_pattern /dev/mapper/oflaky 8M 1M o
dm_create wc "\$table"
write_pattern /dev/mapper/wc 1M 4M a
flush_dev /dev/mapper/wc
swap_table cflaky "\$(broken \$cache)"
dmesg -c >/dev/null
expect_fail write_pattern /dev/mapper/wc 8M 1M b
# the failed write's block reads the version before it (the origin's),
# not what the failed write left in the cache block
verify_pattern /dev/mapper/wc 8M 1M o
expect_eq "\$(wc_status_field wc 1)" 1 "error state"
dmesg | grep -q "writecache: I/O error writing to the cache device" || die "no error message"
# later writes fail at once, even to a cached block
expect_fail write_pattern /dev/mapper/wc 1M 64k c
verify_pattern /dev/mapper/wc 1M 4M a
swap_table cflaky "\$(up \$cache)"
dm_remove wc
dm_create wc "\$table"
expect_eq "\$(wc_status_field wc 1)" 0 "error state after a reload"
verify_pattern /dev/mapper/wc 1M 4M a
expect_fail verify_pattern "\$origin" 1M 4M a
dm_remove wc
dm_remove cflaky

log "=== ssd-origin-errors"
table=\$(wc_table s /dev/mapper/oflaky \$cache 4096)
dm_create wc "\$table"
verify_pattern /dev/mapper/wc 1M 4M a
swap_table oflaky "\$(broken \$origin)"
expect_fail dm_message wc flush
expect_eq "\$(wc_status_field wc 1)" 1 "error state"
verify_pattern /dev/mapper/wc 1M 4M a
swap_table oflaky "\$(up \$origin)"
dm_remove wc
dm_create wc "\$table"
verify_pattern /dev/mapper/wc 1M 4M a
dm_message wc flush
expect_eq "\$(wc_status_field wc 3)" "\$(wc_status_field wc 2)" "all blocks free"
dm_remove wc
verify_pattern "\$origin" 1M 4M a

# pmem-origin-errors, in the same boot
table=\$(wc_table p /dev/mapper/oflaky \$(pmem_dev) 4096)
dm_create wc "\$table"
write_pattern /dev/mapper/wc 1M 4M p
flush_dev /dev/mapper/wc
swap_table oflaky "\$(broken \$origin)"
expect_fail dm_message wc flush
expect_eq "\$(wc_status_field wc 1)" 1 "error state"
expect_fail write_pattern /dev/mapper/wc 8M 64k q
verify_pattern /dev/mapper/wc 1M 4M p
swap_table oflaky "\$(up \$origin)"
dm_remove wc
dm_create wc "\$table"
verify_pattern /dev/mapper/wc 1M 4M p
dm_message wc flush
dm_remove wc
verify_pattern "\$origin" 1M 4M p

log "=== ssd-unreadable-metadata"
n=\$(sectors \$cache)
good="0 \$n linear \$cache 0"
# the first block reads (the constructor's superblock), the rest does not
bad="0 8 linear \$cache 0
8 \$((n - 8)) error"
dm_create cdev "\$good"
table=\$(wc_table s /dev/mapper/oflaky /dev/mapper/cdev 4096)
dm_create wc "\$table"
write_pattern /dev/mapper/wc 1M 4M a
flush_dev /dev/mapper/wc
dm_remove wc
swap_table cdev "\$bad"
dmesg -c >/dev/null
expect_fail dm_create wc "\$table"
dmesg | grep -q "writecache: refusing to load the cache" || die "no refusal in dmesg"
dmesg | grep -q "writecache: unable to read metadata" || die "no read error in dmesg"
if dmsetup info wc >/dev/null 2>&1; then die "the refused device was left behind"; fi
swap_table cdev "\$good"
dm_create wc "\$table"
expect_eq "\$(wc_status_field wc 1)" 0 "error state"
verify_pattern /dev/mapper/wc 1M 4M a
# the same target: its resume is refused, and works once the device heals
dm_suspend wc
swap_table cdev "\$bad"
expect_fail dm_resume wc
dmsetup info wc | grep -q "State: *SUSPENDED" || die "a refused resume left the target running"
swap_table cdev "\$good"
dm_resume wc
verify_pattern /dev/mapper/wc 1M 4M a
expect_eq "\$(wc_status_field wc 1)" 1 "error state after the refused resume"
expect_fail write_pattern /dev/mapper/wc 8M 64k b
dm_remove wc

# readcheck DEV START COUNT ID [ID2]: wcio's check of each block alone;
# prints its summary, sets eio to its count of EIO reads
readcheck() {
	/host/wcio readcheck "\$@" >/tmp/rc.out || { cat /tmp/rc.out; die "readcheck \$*: wrong data"; }
	tail -n1 /tmp/rc.out
	eio=\$(tail -n1 /tmp/rc.out | awk '{print \$6}')
}

log "=== ssd-cache-bad-region"
# cdev: the last case's linear map of the cache, readable again
table=\$(wc_table s /dev/mapper/oflaky /dev/mapper/cdev 4096)
/host/wcio fill /dev/mapper/oflaky 0 2048 10
dm_create wc "\$table"
# 8 MiB: cache blocks 0-2047 in allocation order, committed by the fsync
/host/wcio fill /dev/mapper/wc 0 2048 11
# the cache device's 4-5 MiB (data blocks in the middle of those) fail
swap_table cdev "0 8192 linear \$cache 0
8192 2048 error
10240 \$((n - 10240)) linear \$cache 10240"
dmesg -c >/dev/null
readcheck /dev/mapper/wc 0 2048 11
[ "\$eio" -ge 1 ] && [ "\$eio" -le 256 ] || die "\$eio reads failed, expected 1-256 (the bad segment's blocks)"
expect_eq "\$(wc_status_field wc 1)" 1 "error state after failed cache reads"
dmesg | grep -q "writecache: I/O error reading from the cache device" || die "no error message"
swap_table cdev "\$good"
dm_remove wc
dm_create wc "\$table"
expect_eq "\$(wc_status_field wc 1)" 0 "error state after a reload on the healed device"
readcheck /dev/mapper/wc 0 2048 11
expect_eq "\$eio" 0 "failed reads on the healed device"
dm_remove wc
dm_remove cdev

for mode in s p; do
	log "=== \${mode}-origin-bad-region"
	if [ \$mode = s ]; then cdev=\$cache; else cdev=\$(pmem_dev); fi
	dd if=/dev/zero of=\$cdev bs=1M count=1 oflag=direct 2>/dev/null
	table=\$(wc_table \$mode /dev/mapper/oflaky \$cdev 4096)
	/host/wcio fill /dev/mapper/oflaky 0 4096 20
	dm_create wc "\$table"
	# blocks 2048-4095 cached, 0-2047 only on the origin
	/host/wcio fill /dev/mapper/wc 2048 2048 21
	# origin sectors 0-32767 (blocks 0-4095) fail
	swap_table oflaky "0 32768 error
32768 \$((\$(sectors \$origin) - 32768)) linear \$origin 32768"
	readcheck /dev/mapper/wc 0 2048 20
	expect_eq "\$eio" 2048 "failed read misses on the bad origin segment"
	readcheck /dev/mapper/wc 2048 2048 21
	expect_eq "\$eio" 0 "failed reads of cached blocks"
	expect_fail dm_message wc flush
	expect_eq "\$(wc_status_field wc 1)" 1 "error state after writeback into the bad segment"
	readcheck /dev/mapper/wc 2048 2048 21
	expect_eq "\$eio" 0 "failed reads of cached blocks after the failed writeback"
	swap_table oflaky "\$(up \$origin)"
	dm_remove wc
	dm_create wc "\$table"
	dm_message wc flush
	expect_eq "\$(wc_status_field wc 3)" "\$(wc_status_field wc 2)" "all blocks free after flush"
	dm_remove wc
	readcheck /dev/mapper/oflaky 0 2048 20
	readcheck /dev/mapper/oflaky 2048 2048 21
done

if [ -w /proc/sys/kernel/hung_task_timeout_secs ]; then
	echo 15 >/proc/sys/kernel/hung_task_timeout_secs
else
	log "no hung task detector in this kernel"
fi
for mode in s p; do
	log "=== \${mode}-slow-origin"
	if [ \$mode = s ]; then cdev=\$cache; else cdev=\$(pmem_dev); fi
	dd if=/dev/zero of=\$cdev bs=1M count=1 oflag=direct 2>/dev/null
	swap_table oflaky "0 \$(sectors \$origin) delay \$origin 0 0 \$origin 0 25"
	table=\$(wc_table \$mode /dev/mapper/oflaky \$cdev 4096 high_watermark 10 low_watermark 5)
	dm_create wc "\$table"
	id=30
	for round in 1 2 3; do
		/host/wcio fill /dev/mapper/wc 0 6144 \$id >/dev/null &
		pid=\$!
		sleep 2
		dm_suspend wc
		log "suspended during writes and writeback: \$(dmsetup status wc)"
		dm_resume wc
		wait \$pid || die "writes during suspend and resume failed"
		id=\$((id + 1))
	done
	readcheck /dev/mapper/wc 0 6144 \$((id - 1))
	dm_message wc flush
	expect_eq "\$(wc_status_field wc 1)" 0 "error state"
	expect_eq "\$(wc_status_field wc 3)" "\$(wc_status_field wc 2)" "all blocks free after flush"
	dm_remove wc
	swap_table oflaky "\$(up \$origin)"
	readcheck /dev/mapper/oflaky 0 6144 \$((id - 1))
done

# The workload's devices for the cuts: origin and cache through dm-flakey
# (up, or dropping writes), wcio's records on their own disk.
rec=\$(disk rec)
dm_create cflaky "\$(up \$cache)"
dd if=/dev/zero of=/dev/mapper/cflaky bs=1M count=1 oflag=direct 2>/dev/null
dd if=/dev/zero of=\$rec bs=1M count=32 oflag=direct 2>/dev/null
dd if=/dev/zero of=/dev/mapper/oflaky bs=1M count=64 oflag=direct 2>/dev/null
dropping() { echo "0 \$(sectors \$1) flakey \$1 0 0 1 1 drop_writes"; }
cut_table=\$(wc_table s /dev/mapper/oflaky /dev/mapper/cflaky 4096 high_watermark 10 low_watermark 5 pause_writeback 0)
# what the blocks hold before the next run: zeros, then what the last
# verification found
map_in=zero
# start_run SEED REC_MIB: wcio's workload on a fresh target, in the background
start_run() {
	dm_create wc "\$cut_table"
	expect_eq "\$(wc_status_field wc 1)" 0 "error state at load"
	/host/wcio run /dev/mapper/wc \$rec \$2 \$1 16384 2048 \$map_in >/tmp/run.out 2>&1 &
	run_pid=\$!
	# FUA writes at depth 16 beside it, in blocks wcio does not use: the
	# flush thread then commits many FUA writes and flushes at once (a
	# thread, not a child process: the signals below stop all of fio)
	fio --name=fua --thread --filename=/dev/mapper/wc --ioengine=libaio --direct=1 --iodepth=16 \
		--rw=randwrite --bs=4k --sync=dsync --offset=128M --size=64M --time_based \
		--runtime=600 >/dev/null 2>&1 &
	fio_pid=\$!
}
# power_cut: stop the workload (what it recorded as durable is then fixed),
# make both devices drop every write from now on, and throw the target
# away; its last writes are dropped too
power_cut() {
	kill -STOP \$run_pid \$fio_pid 2>/dev/null || true
	dm_suspend cflaky
	dm_suspend oflaky
	printf '%s\n' "\$(dropping \$cache)" | dmsetup reload cflaky
	printf '%s\n' "\$(dropping \$origin)" | dmsetup reload oflaky
	dm_resume cflaky
	dm_resume oflaky
	kill -KILL \$run_pid \$fio_pid 2>/dev/null || true
	wait \$run_pid \$fio_pid 2>/dev/null || true
	tail -n 2 /tmp/run.out
	dm_remove wc
	swap_table cflaky "\$(up \$cache)"
	swap_table oflaky "\$(up \$origin)"
}
# verify_run REC_MIB OUT: a new target on the healed devices; what the
# records call durable must read back
verify_run() {
	dm_create wc "\$cut_table"
	expect_eq "\$(wc_status_field wc 1)" 0 "error state after the cut"
	/host/wcio verify /dev/mapper/wc \$rec \$1 \$map_in /tmp/\$2 || die "writes durable before the cut were lost"
	dm_remove wc
	map_in=/tmp/\$2
}

log "=== ssd-drop-cuts"
k=1
while [ \$k -le \$CUTS ]; do
	start_run \$((SEED + k)) \$((k % 2 * 16))
	sleep \$((4 + (SEED + k) % 5))
	kill -0 \$run_pid || { cat /tmp/run.out; die "the workload ended by itself"; }
	log "cut \$k: \$(dmsetup status wc)"
	power_cut
	verify_run \$((k % 2 * 16)) map\$k
	k=\$((k + 1))
done

log "=== ssd-fault-then-cut"
start_run \$((SEED + k)) \$((k % 2 * 16))
sleep 3
swap_table cflaky "\$(broken \$cache)"
# (a process that ended is a zombie until waited for: kill -0 finds it)
wait_for 60 sh -c "case \\\$(cut -d' ' -f3 /proc/\$run_pid/stat 2>/dev/null) in Z|'') exit 0;; esac; exit 1"
grep -q "wcio: " /tmp/run.out || { cat /tmp/run.out; die "the workload did not fail"; }
expect_eq "\$(wc_status_field wc 1)" 1 "error state after the cache failed a write"
power_cut
verify_run \$((k % 2 * 16)) map\$k
k=\$((k + 1))

dm_remove cflaky
EOF

guest_finish
