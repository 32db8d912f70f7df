#!/bin/bash
# The project's module in persistent-memory mode (emulated fsdax nvdimm):
#   write-read   data in the cache, not on the origin; fio verify with
#                FUA and flushes; a reload keeps the data
#   reboot       a new boot on the same pmem finds it; "flush" drains it;
#                then (no-dax, same boot) a cache device without DAX, or
#                with asynchronous DAX (virtio-pmem), is refused with a
#                clear error
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 11-pmem-io
DEVS=(--pmem 64 --disk origin:256)

guest_case write-read
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" <<'EOF2'
pmem=$(pmem_dev)
origin=$(disk origin)
table=$(wc_table p "$origin" "$pmem" 4096)
dm_create wc "$table"
expect_eq "$(dmsetup table wc | cut -d' ' -f3,4,7,8)" "$WC_TARGET p 4096 0" "table"
blocks=$(wc_status_field wc 2)
write_pattern /dev/mapper/wc 1M 8M first
verify_pattern /dev/mapper/wc 1M 8M first
expect_fail verify_pattern "$origin" 1M 8M first
expect_eq "$(wc_status_field wc 3)" $((blocks - 2048)) "free blocks after 8 MiB"
fio --name=mix --filename=/dev/mapper/wc --offset=16M --size=8M --bsrange=4k-32k \
	--rw=randrw --ioengine=psync --direct=1 --fsync=7 --verify=crc32c \
	--verify_fatal=1 >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; die "fio"; }
dm_suspend wc
printf '%s\n' "$table" | dmsetup reload wc
dm_resume wc
verify_pattern /dev/mapper/wc 1M 8M first
expect_eq "$(wc_status_field wc 1)" 0 "error"
dm_remove wc
EOF2

guest_case reboot
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" --disk small:16 --virtio-pmem 64 <<'EOF2'
pmem=$(pmem_dev)
origin=$(disk origin)
dm_create wc "$(wc_table p "$origin" "$pmem" 4096 autocommit_blocks 16)"
verify_pattern /dev/mapper/wc 1M 8M first
expect_fail verify_pattern "$origin" 1M 8M first
dm_message wc flush
expect_eq "$(wc_status_field wc 3)" "$(wc_status_field wc 2)" "all blocks free after flush"
dm_remove wc
verify_pattern "$origin" 1M 8M first

# no-dax, in the same boot
dmesg -c >/dev/null
expect_fail dm_create wc "$(wc_table p "$(disk origin)" "$(disk small)" 4096)"
dmesg | grep -q "writecache: Cache device does not support DAX" || die "no clear error: $(dmesg | tail -3)"
# asynchronous DAX (virtio-pmem): refused as in-tree refuses it; s mode
# on the same device works
vp=$(virtio_pmem_dev)
dmesg -c >/dev/null
expect_fail dm_create wc "$(wc_table p "$(disk origin)" "$vp" 4096)"
dmesg | grep -q "writecache: Asynchronous persistent memory not supported as pmem cache" ||
	die "no clear error: $(dmesg | tail -3)"
dd if=/dev/zero of="$vp" bs=4096 count=1 oflag=direct 2>/dev/null
dm_create wc "$(wc_table s "$(disk origin)" "$vp" 4096)"
write_pattern /dev/mapper/wc 0 4M async
verify_pattern /dev/mapper/wc 0 4M async
dm_remove wc
EOF2

guest_finish
