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
# No boot may show an Oops, BUG, WARNING or Call Trace (the harness checks).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 40-faults

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
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - --disk cache:64 --disk origin:256 --pmem 64 <<EOF
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
EOF

guest_finish
