#!/bin/bash
# The project's module in SSD mode, end to end:
#   write-read    writes land in the cache (not the origin), read back;
#                 table and status lines; a table reload keeps the data
#   reboot        a new boot on the same disks finds the data in the cache;
#                 the "flush" message drains it to the origin; then (same
#                 boot) every O_DSYNC write is committed when it completes
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 10-ssd-io
DISKS=(--disk cache:64 --disk origin:256)

guest_case write-read
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DISKS[@]}" <<'EOF2'
cache=$(disk cache)
origin=$(disk origin)
table=$(wc_table s "$origin" "$cache" 4096)
dm_create wc "$table"
cdev=$(cat /sys/block/${cache#/dev/}/dev)
odev=$(cat /sys/block/${origin#/dev/}/dev)
expect_eq "$(dmsetup table wc)" "0 $(sectors "$origin") $WC_TARGET s $odev $cdev 4096 0" "table"

blocks=$(wc_status_field wc 2)
expect_eq "$(wc_status_field wc 3)" "$blocks" "all blocks free on a fresh cache"
write_pattern /dev/mapper/wc 1M 8M first
verify_pattern /dev/mapper/wc 1M 8M first
expect_fail verify_pattern "$origin" 1M 8M first
expect_eq "$(wc_status_field wc 1)" 0 "error"
expect_eq "$(wc_status_field wc 3)" $((blocks - 2048)) "free blocks after 8 MiB"
expect_eq "$(wc_status_field wc 7)" 2048 "writes"
expect_eq "$(wc_status_field wc 11)" 2048 "writes_allocate"

# a table reload: suspend commits, resume reloads the metadata
dm_suspend wc
printf '%s\n' "$table" | dmsetup reload wc
dm_resume wc
verify_pattern /dev/mapper/wc 1M 8M first
expect_eq "$(wc_status_field wc 3)" $((blocks - 2048)) "free blocks after reload"

# overwrite part of it, then remove and create again
write_pattern /dev/mapper/wc 2M 1M second
dm_remove wc
dm_create wc "$table"
verify_pattern /dev/mapper/wc 1M 1M first
verify_pattern /dev/mapper/wc 2M 1M second
verify_pattern /dev/mapper/wc 3M 6M first
expect_fail verify_pattern "$origin" 1M 1M first
dm_remove wc
EOF2

guest_case reboot
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DISKS[@]}" <<'EOF2'
cache=$(disk cache)
origin=$(disk origin)
dm_create wc "$(wc_table s "$origin" "$cache" 4096)"
verify_pattern /dev/mapper/wc 2M 1M second
verify_pattern /dev/mapper/wc 3M 6M first
expect_fail verify_pattern "$origin" 3M 6M first
dm_message wc flush
expect_eq "$(wc_status_field wc 3)" "$(wc_status_field wc 2)" "all blocks free after flush"
dm_remove wc
verify_pattern "$origin" 1M 1M first
verify_pattern "$origin" 2M 1M second
verify_pattern "$origin" 3M 6M first

# fua-writes, in the same boot
dm_create wc "$(wc_table s "$origin" "$cache" 4096)"
sb_seq() { blockdev --flushbufs "$cache"; dd if="$cache" bs=512 count=1 iflag=direct 2>/dev/null | od -An -tu8 -j24 -N8 | tr -d ' '; }
before=$(sb_seq)
# O_DSYNC direct writes carry REQ_FUA: each must be committed when it
# completes, not at the next flush (in-tree defers that to the next flush).
fio --name=fua --filename=/dev/mapper/wc --offset=16M --size=2M --bs=4k \
	--rw=randwrite --ioengine=psync --direct=1 --sync=dsync \
	--verify=crc32c --verify_fatal=1 --number_ios=64 >/tmp/fio.out 2>&1 ||
	{ cat /tmp/fio.out; die "fio with O_DSYNC"; }
after=$(sb_seq)
log "status: $(dmsetup status wc)"
log "superblock seq_count: $before -> $after"
[ "$after" -ge $((before + 64)) ] || die "64 FUA writes made only $((after - before)) commits"
expect_eq "$(wc_status_field wc 1)" 0 "error"
dm_remove wc
EOF2

guest_finish
