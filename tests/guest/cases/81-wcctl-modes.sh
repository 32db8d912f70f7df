#!/bin/bash
# wcctl with this module: detach interrupted and failing, and p mode; the
# phases run in one boot, in this order (the ones that provoke I/O errors
# last, after a check that the kernel log is clean so far):
#   pmem              create picks p mode on DAX pmem and s mode on
#                     virtio-pmem (refusing --mode p there), with
#                     DM_DISABLE_UDEV alone making the nodes; status and
#                     detach in p mode; offline dump and writeback of a
#                     dirty p-mode cache on /dev/pmem0
#   detach-interrupt  the origin is slow (dm-delay, one writeback job at a
#                     time); SIGINT during detach exits 2, the device stays
#                     a writecache with its data; detach again completes
#   detach-error      the origin fails writes (dm-flakey) during detach:
#                     exit 1, the table is unchanged, the data stays
#                     readable from the cache
#   bad-blocks        offline writeback from a cache with an unreadable
#                     block (dm-error over it): the block is listed, exit
#                     1, every other block is written back and freed, the
#                     unreadable one stays dirty; a cache device held by a
#                     table is refused
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 81-wcctl-modes

WCCTL=${WCCTL:-$(cd "$(dirname "$0")/../../.." && pwd)/build/tools/wcctl}
[[ -x $WCCTL ]] || { echo "no $WCCTL: run 'make tools'" >&2; exit 1; }

PROLOGUE=$(cat <<'EOF'
export PATH=/host:$PATH
W="wcctl --noudevsync"
origin=$(disk origin)
osz=$(sectors "$origin")
cache=$(disk cache)
jnum() { grep -o "\"$1\": *[0-9]*" "$2" | head -n1 | sed 's/.*: *//'; }
jstr() { grep -o "\"$1\": \"[^\"]*\"" "$2" | head -n1 | sed 's/.*: "\(.*\)"/\1/'; }
used() { echo $(($(wc_status_field "$1" 2) - $(wc_status_field "$1" 3))); }
# 1024 separate 4 KiB blocks (every other one): 1024 writeback jobs
scattered() {
	fio --name=scattered --filename="$1" --size=8M --bs=4k --rw=write:4k \
		--ioengine=psync --direct=1 --verify=pattern --verify_pattern="\"wc-$2\"%o" \
		--verify_state_save=0 $3 >/tmp/scattered.out 2>&1 ||
		{ cat /tmp/scattered.out; die "scattered $*"; }
}
EOF
)

guest_case detach-and-modes
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - --disk cache:32 --disk origin:64 \
	--pmem 32 --virtio-pmem 16 --file "$WCCTL" \
	--allow 'writecache|flakey|I/O error|Buffer I/O' <<EOF2
$PROLOGUE
log "=== pmem"
pmem=\$(pmem_dev)
vpmem=\$(virtio_pmem_dev)
\$W -y --force create wc --origin "\$origin" --cache "\$pmem" >/dev/null
expect_match "\$(dmsetup table wc)" " writecache p " "p mode by default on DAX pmem"
write_pattern /dev/mapper/wc 1M 4M p1
\$W status --json wc >/tmp/st.json
expect_eq "\$(jstr mode /tmp/st.json)" p "mode (JSON)"
expect_eq "\$(jnum used /tmp/st.json)" 1024 "used (JSON)"
\$W detach wc 2>/dev/null
expect_match "\$(dmsetup table wc)" "^0 \$osz linear " "detached"
verify_pattern "\$origin" 1M 4M p1
dm_remove wc

if \$W -y --force create wv --origin "\$origin" --cache "\$vpmem" --mode p 2>/tmp/err; then
	die "p mode accepted virtio-pmem"
fi
grep -q "asynchronous" /tmp/err || die "the refusal: \$(cat /tmp/err)"
# DM_DISABLE_UDEV alone (no --noudevsync): wcctl makes the node itself
DM_DISABLE_UDEV=1 wcctl -y --force create wv --origin "\$origin" --cache "\$vpmem" >/dev/null
[ -b /dev/mapper/wv ] || die "no /dev/mapper/wv with DM_DISABLE_UDEV"
expect_match "\$(dmsetup table wv)" " writecache s " "s mode by default on virtio-pmem"
DM_DISABLE_UDEV=1 wcctl -q detach --remove wv
[ ! -e /dev/mapper/wv ] || die "/dev/mapper/wv is left after detach --remove"

# A p-mode cache left dirty, rescued offline from /dev/pmem0.
\$W -y --force create wc --origin "\$origin" --cache "\$pmem" >/dev/null
write_pattern /dev/mapper/wc 8M 2M p2
expected=\$(checksum /dev/mapper/wc 0 64)
dm_remove wc
\$W dump --json "\$pmem" >/tmp/dump.json
expect_eq "\$(jnum dirty_blocks /tmp/dump.json)" 512 "dump's dirty blocks"
\$W check "\$pmem" --origin "\$origin" >/dev/null
\$W -y writeback "\$pmem" "\$origin" 2>/dev/null
expect_eq "\$(checksum "\$origin" 0 64)" "\$expected" "the origin holds what the device read"
\$W create wc --origin "\$origin" --cache "\$pmem" --load >/dev/null
expect_eq "\$(used wc)" 0 "the cache loads empty"
dm_remove wc
log "=== detach-interrupt"
dm_create slow "0 \$osz delay \$origin 0 50"
\$W create wc --origin /dev/mapper/slow --cache "\$cache" -o writeback_jobs=1 >/dev/null
scattered /dev/mapper/wc a --do_verify=0
expect_eq "\$(used wc)" 1024 "dirty blocks"
\$W detach wc 2>/tmp/detach.err &
pid=\$!
sleep 3
kill -INT \$pid
rc=0
wait \$pid || rc=\$?
cat /tmp/detach.err
expect_eq "\$rc" 2 "detach's exit code after SIGINT"
grep -q "run 'wcctl detach wc' again" /tmp/detach.err || die "no hint to run detach again"
expect_match "\$(dmsetup table wc)" " writecache s " "still a writecache"
[ "\$(used wc)" -gt 0 ] || die "everything was written back before the interrupt: no test"
expect_eq "\$(wc_status_field wc 1)" 0 "error state"
scattered /dev/mapper/wc a --verify_only=1
# the origin fast again: detach continues and completes
printf '0 %s linear %s 0\n' "\$osz" "\$origin" | dmsetup reload slow
dm_suspend slow
dm_resume slow
\$W -q detach wc
expect_match "\$(dmsetup table wc)" "^0 \$osz linear " "detached"
scattered /dev/mapper/wc a --verify_only=1
scattered /dev/mapper/slow a --verify_only=1
dm_remove wc
dm_remove slow
# the phases above provoke no errors: only the ones below are --allow'ed
no_kernel_bugs "detach-error"
log "=== detach-error"
dm_create fl "0 \$osz linear \$origin 0"
\$W -y --force create wc --origin /dev/mapper/fl --cache "\$cache" >/dev/null
write_pattern /dev/mapper/wc 0 4M b
printf '0 %s flakey %s 0 0 1 1 error_writes\n' "\$osz" "\$origin" | dmsetup reload fl
dm_suspend fl
dm_resume fl
rc=0
\$W -q detach wc 2>/tmp/detach.err || rc=\$?
cat /tmp/detach.err
expect_eq "\$rc" 1 "detach's exit code when writeback fails"
grep -q "error state" /tmp/detach.err || die "detach does not say why"
expect_match "\$(dmsetup table wc)" " writecache s " "the table is unchanged"
expect_eq "\$(wc_status_field wc 1)" 1 "error state"
verify_pattern /dev/mapper/wc 0 4M b
dm_remove wc
dm_remove fl
log "=== bad-blocks"
\$W -y --force create wc --origin "\$origin" --cache "\$cache" >/dev/null
scattered /dev/mapper/wc c --do_verify=0
dm_remove wc
\$W dump --json "\$cache" >/tmp/dump.json
expect_eq "\$(jnum dirty_blocks /tmp/dump.json)" 1024 "dirty blocks"
meta=\$(\$W check "\$cache" | sed -n 's/.*geometry: metadata \([0-9]*\) bytes.*/\1/p')
index=\$(jnum index /tmp/dump.json)
bad=\$((meta / 512 + index * 8))
csz=\$(sectors "\$cache")
dm_create badcache "0 \$bad linear \$cache 0
\$bad 8 error
\$((bad + 8)) \$((csz - bad - 8)) linear \$cache \$((bad + 8))"
rc=0
\$W check "\$cache" 2>/tmp/err || rc=\$?
expect_eq "\$rc" 8 "check of a cache device held by a table"
grep -q "in use" /tmp/err || die "check's reason: \$(cat /tmp/err)"
rc=0
\$W -y writeback /dev/mapper/badcache "\$origin" >/tmp/wb.out 2>/tmp/wb.err || rc=\$?
cat /tmp/wb.out /tmp/wb.err
expect_eq "\$rc" 1 "writeback's exit code with an unreadable block"
grep -q "1 block could not be read" /tmp/wb.err || die "not listed"
grep -q "cache block \$index " /tmp/wb.err || die "the unreadable block is not named"
grep -q "wrote back 1023 of 1024" /tmp/wb.out || die "not every readable block was written back"
dm_remove badcache
\$W dump --json "\$cache" >/tmp/dump.json
expect_eq "\$(jnum dirty_blocks /tmp/dump.json)" 1 "the unreadable block stays dirty"
\$W create wc --origin "\$origin" --cache "\$cache" --load >/dev/null
expect_eq "\$(used wc)" 1 "used blocks after the rescue"
scattered /dev/mapper/wc c --verify_only=1
dm_remove wc
EOF2

guest_finish
