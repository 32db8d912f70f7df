#!/bin/bash
# A short tour: boots a guest with the module, creates a writecache on
# emulated devices, runs a workload, and prints the status in plain words
# (wcctl status: make tools first, the initramfs takes build/tools/wcctl).
#   demo.sh KVER MODULE.ko
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
. "$here/guest/lib.sh"

kver=$1
export WC_MODULE=$2 WC_TARGET=writecache
workdir=$top/build/guest/work/demo
rm -rf "$workdir"
script=$(mktemp)
trap 'rm -f "$script"; _guest_kill_all' EXIT
{
	cat <<'EOF2'
cache=$(disk cache)
origin=$(disk origin)
say() { echo; echo "### $*"; }
say "creating a writecache: origin $origin (256 MiB), cache $cache (64 MiB), SSD mode"
dm_create demo "$(wc_table s "$origin" "$cache" 4096)"
dmsetup table demo
say "writing 16 MiB of random 4-64 KiB writes with fio, verifying them"
fio --name=demo --filename=/dev/mapper/demo --size=16M --rw=randwrite \
	--bsrange=4k-64k --ioengine=psync --direct=1 --verify=crc32c \
	--verify_fatal=1 --fsync=32 >/tmp/fio.out 2>&1 || { cat /tmp/fio.out; exit 1; }
grep -E 'WRITE:|READ:' /tmp/fio.out || true
wcctl --noudevsync status demo
say "writing everything back to the origin (dmsetup message demo 0 flush)"
dmsetup message demo 0 flush
wcctl --noudevsync status demo
dm_remove demo
EOF2
} >"$script"
guest_boot "$kver" "$workdir" "$script" --disk cache:64 --disk origin:256
sed -n '/^###/,/^==== dmesg/p' "$GUEST_SHARE/output.log" | grep -v -e '^\[' -e '^==== dmesg'
