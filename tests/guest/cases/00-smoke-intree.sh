#!/bin/bash
# Harness self-test with the kernel's own dm-writecache:
#   s-mode-write   s mode on two virtio disks: write/read a pattern, status
#                  shape, "flush" message, remove
#   s-mode-reboot  next boot, same disks: the origin holds the data; the
#                  cache device still loads
#   p-mode         (in the second boot) p mode with emulated fsdax pmem as
#                  cache, fio verify
#
# The guest scripts only use $WC_TARGET and guest-lib helpers, so a copy of
# this case runs against the project module by dropping the pinning below
# (guest_boot then loads $WC_MODULE and forbids the in-tree module).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 00-smoke-intree

# This case checks the harness, so it always uses the in-tree module.
export WC_TARGET=writecache
INTREE=(--modules "" --intree)

guest_case s-mode-write
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - --disk cache:64 --disk origin:128 "${INTREE[@]}" <<'EOF'
cache=$(disk cache)
origin=$(disk origin)
expect_eq "$cache $origin" "/dev/vda /dev/vdb" "disk order"
dm_create wc "$(wc_table s "$origin" "$cache" 4096)"
dmsetup table wc

# 16 MiB stays below the default 50% high watermark of a 64 MiB cache, so
# nothing is written back before the flush
write_pattern /dev/mapper/wc 1M 16M smoke1
verify_pattern /dev/mapper/wc 1M 16M smoke1
expect_fail verify_pattern "$origin" 1M 16M smoke1

status=$(wc_status wc)
log "status: $status"
expect_eq "$(echo "$status" | wc -w)" 14 "number of status fields"
expect_eq "$(wc_status_field wc 1)" 0 "error field"

dm_message wc flush
log "status after flush: $(wc_status wc)"
expect_eq "$(wc_status_field wc 4)" 0 "blocks under writeback after flush"
dm_remove wc
verify_pattern "$origin" 1M 16M smoke1
log "s mode ok"
EOF

guest_case s-mode-reboot
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - --disk cache:64 --disk origin:128 \
	--pmem 64 --disk porigin:128 "${INTREE[@]}" <<'EOF'
expect_eq "$GUEST_BOOT" 2 "boot number"
origin=$(disk origin)
verify_pattern "$origin" 1M 16M smoke1
# a different seed must not verify: the check really looks at the data
expect_fail verify_pattern "$origin" 1M 16M other
# the cache superblock survived: the target loads it and reads through it
dm_create wc "$(wc_table s "$origin" "$(disk cache)" 4096)"
verify_pattern /dev/mapper/wc 1M 16M smoke1
expect_eq "$(wc_status_field wc 1)" 0 "error field"
dm_remove wc
log "origin holds the flushed data"

# p-mode, in the same boot
pmem=$(pmem_dev)
origin=$(disk porigin)
dm_create wcp "$(wc_table p "$origin" "$pmem" 4096)"
dmsetup table wcp
fio_verify /dev/mapper/wcp 24M
status=$(wc_status wcp)
log "status: $status"
expect_eq "$(echo "$status" | wc -w)" 14 "number of status fields"
expect_eq "$(wc_status_field wcp 1)" 0 "error field"
dm_message wcp flush
dm_remove wcp
log "p mode ok"
EOF

guest_finish
