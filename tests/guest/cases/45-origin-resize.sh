#!/bin/bash
# The origin shrinks under a cache that holds blocks past its new end:
# writeback skips those blocks (a write past the end of the origin would
# fail and latch the error state) and frees them; blocks below the end are
# written back.  Then the origin grows again and a larger table works.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 45-origin-resize

# Both modes in one boot, each over its own origin disk.
guest_case shrink-and-grow
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - --disk cache:64 --disk origin-s:128 \
	--disk origin-p:128 --pmem 64 <<'EOF'
for mode in s p; do
log "mode $mode"
if [ $mode = s ]; then cache=$(disk cache); else cache=$(pmem_dev); fi
dd if=/dev/zero of=$cache bs=4096 count=1 oflag=direct 2>/dev/null
origin=$(disk origin-$mode)
dm_create o "0 131072 linear $origin 0"
dm_create wc "$(wc_table $mode /dev/mapper/o $cache 4096)"
write_pattern /dev/mapper/wc 16M 4M low
write_pattern /dev/mapper/wc 56M 4M high
dm_remove wc
# 64 MiB -> 32 MiB
dm_suspend o
printf '%s\n' "0 65536 linear $origin 0" | dmsetup reload o
dm_resume o
dm_create wc "$(wc_table $mode /dev/mapper/o $cache 4096)"
verify_pattern /dev/mapper/wc 16M 4M low
dm_message wc flush
expect_eq "$(wc_status_field wc 1)" 0 "error state"
expect_eq "$(wc_status_field wc 3)" "$(wc_status_field wc 2)" "all blocks free"
dm_remove wc
verify_pattern /dev/mapper/o 16M 4M low
# the data past the old end never reached the origin
expect_fail verify_pattern $origin 56M 4M high
# grow back: a larger table on the same cache works
dm_suspend o
printf '%s\n' "0 131072 linear $origin 0" | dmsetup reload o
dm_resume o
dm_create wc "$(wc_table $mode /dev/mapper/o $cache 4096)"
write_pattern /dev/mapper/wc 60M 1M grown
dm_message wc flush
dm_remove wc
verify_pattern /dev/mapper/o 60M 1M grown
dm_remove o
done
EOF
guest_finish
