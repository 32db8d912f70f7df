#!/bin/bash
# Suspend drains the cache when asked to, in both modes:
#   flush_on_suspend  the suspend itself writes everything back, and the
#                     data is on the origin once it returns
#   cleaner           no new block is cached; a suspend drains too
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 15-suspend

# Both modes in one boot, each with its own patterns.
body() {
	local mode=$1
	cat <<EOF
origin=\$(disk origin)
if [ $mode = s ]; then cache=\$(disk cache); else cache=\$(pmem_dev); fi
log "mode $mode"
dm_create wc "\$(wc_table $mode "\$origin" "\$cache" 4096)"
write_pattern /dev/mapper/wc 32M 4M drained-$mode
expect_fail verify_pattern "\$origin" 32M 4M drained-$mode
dm_message wc flush_on_suspend
dm_suspend wc
expect_eq "\$(wc_status_field wc 3)" "\$(wc_status_field wc 2)" "all blocks free once suspended"
expect_eq "\$(wc_status_field wc 1)" 0 "error"
verify_pattern "\$origin" 32M 4M drained-$mode
dm_resume wc
verify_pattern /dev/mapper/wc 32M 4M drained-$mode
dm_message wc cleaner
write_pattern /dev/mapper/wc 40M 1M around-$mode
expect_eq "\$(wc_status_field wc 3)" "\$(wc_status_field wc 2)" "cleaner caches nothing new"
dm_suspend wc
dm_resume wc
dm_remove wc
verify_pattern "\$origin" 40M 1M around-$mode
EOF
}
guest_case suspend-drains
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - --disk cache:64 --disk origin:256 --pmem 64 \
	< <(body s; body p)
guest_finish
