#!/bin/bash
# wcctl against this module and against the in-tree target, in two boots:
# the first runs the phases up to powercut-run (swapping the targets in
# the guest) and ends in the power cut; the second runs powercut-offline.
#   module-online     create refuses a cache holding ext4 (and says so)
#                     unless --force; flush, clear-stats, list --json;
#                     create, status --json, list, set
#                     (changed, back to default, refused with the kernel's
#                     own reason), detach to a linear table with the data
#                     on the origin, detach --remove
#   intree-online     the same commands drive the in-tree target; create
#                     refuses an existing writecache superblock unless
#                     --force or --load
#   intree-offline    a cache the in-tree target left dirty: offline check,
#                     dump and writeback; the origin then holds exactly what
#                     the device read, and the cache loads empty
#   powercut-run      this module, writes after the last flush (their data
#                     is on the cache, their entries are not committed),
#                     and QEMU is SIGKILLed
#   powercut-offline  offline check, dump and writeback of what the power
#                     cut left; the expected data is what the module reads
#                     from copies of both devices
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 80-wcctl

WCCTL=${WCCTL:-$(cd "$(dirname "$0")/../../.." && pwd)/build/tools/wcctl}
[[ -x $WCCTL ]] || { echo "no $WCCTL: run 'make tools'" >&2; exit 1; }
DISKS=(--disk cache:32 --disk origin:64 --disk spare:16 --file "$WCCTL")

# Guest helpers: wcctl from the share, without udev.
PROLOGUE=$(cat <<'EOF'
export PATH=/host:$PATH
W="wcctl --noudevsync"
cache=$(disk cache)
origin=$(disk origin)
spare=$(disk spare)
cdev=$(cat /sys/block/${cache#/dev/}/dev)
odev=$(cat /sys/block/${origin#/dev/}/dev)
osz=$(sectors "$origin")
# jnum KEY FILE / jstr KEY FILE: a value from wcctl's JSON
jnum() { grep -o "\"$1\": *[0-9]*" "$2" | head -n1 | sed 's/.*: *//'; }
jstr() { grep -o "\"$1\": \"[^\"]*\"" "$2" | head -n1 | sed 's/.*: "\(.*\)"/\1/'; }
# online_checks [CREATE FLAGS]: create, status, list, set, detach on the
# cache disk
online_checks() {
	dev=$($W "$@" create wc --origin "$origin" --cache "$cache" -o high_watermark=60 -o max_age=60000)
	expect_eq "$dev" /dev/mapper/wc "create prints the device"
	[ -b /dev/mapper/wc ] || die "no /dev/mapper/wc node"
	expect_eq "$(dmsetup table wc)" "0 $osz writecache s $odev $cdev 4096 4 high_watermark 60 max_age 60000" "table"
	write_pattern /dev/mapper/wc 1M 8M first
	$W status --json wc >/tmp/st.json
	expect_eq "$(jnum used /tmp/st.json)" 2048 "used blocks (JSON)"
	expect_eq "$(jnum writes /tmp/st.json)" 2048 "writes (JSON)"
	expect_eq "$(jnum error /tmp/st.json)" 0 "error (JSON)"
	expect_eq "$(jnum blocks /tmp/st.json)" "$(wc_status_field wc 2)" "blocks (JSON)"
	expect_eq "$(jnum high_watermark /tmp/st.json)" 60 "options (JSON)"
	expect_eq "$(jstr mode /tmp/st.json)" s "mode (JSON)"
	expect_eq "$(jstr cache /tmp/st.json)" "$cache" "cache (JSON)"
	expect_eq "$(jstr origin /tmp/st.json)" "$origin" "origin (JSON)"
	$W status wc >/tmp/st.txt
	grep -q "2048 used" /tmp/st.txt || die "status in words: $(cat /tmp/st.txt)"
	grep -q "state: healthy" /tmp/st.txt || die "status in words: $(cat /tmp/st.txt)"
	expect_match "$($W list)" "^wc +s +$origin +$cache" "list"

	$W set wc low_watermark=10 writeback_jobs=64
	expect_eq "$(dmsetup table wc)" "0 $osz writecache s $odev $cdev 4096 8 high_watermark 60 low_watermark 10 writeback_jobs 64 max_age 60000" "set (the target orders the options)"
	$W set wc high_watermark= max_age=
	expect_eq "$(dmsetup table wc)" "0 $osz writecache s $odev $cdev 4096 4 low_watermark 10 writeback_jobs 64" "set back to defaults"
	if $W set wc high_watermark=5 2>/tmp/set.err; then die "set accepted high < low"; fi
	grep -q "High watermark must be greater than or equal to low watermark" /tmp/set.err ||
		die "set's reason: $(cat /tmp/set.err)"
	expect_eq "$(dmsetup table wc)" "0 $osz writecache s $odev $cdev 4096 4 low_watermark 10 writeback_jobs 64" "a refused set changes nothing"
	verify_pattern /dev/mapper/wc 1M 8M first

	$W detach wc 2>/tmp/detach.err || { cat /tmp/detach.err; die "detach"; }
	expect_eq "$(dmsetup table wc)" "0 $osz linear $odev 0" "detach leaves a linear table"
	verify_pattern /dev/mapper/wc 1M 8M first
	verify_pattern "$origin" 1M 8M first
	dm_remove wc
}
EOF
)

guest_case online-then-powercut
# the power cut comes a second after the workload is done, not at a fixed
# time after the boot (which cost a minute and more of idle guest)
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DISKS[@]}" --intree-swap \
	--kill-after 1 --kill-from-mark <<EOF2
$PROLOGUE
log "=== module-online"
mkfs.ext4 -q -F "\$spare"
if \$W create wx --origin "\$origin" --cache "\$spare" 2>/tmp/err; then die "create took a cache holding ext4"; fi
grep -q "ext4" /tmp/err || die "create's reason: \$(cat /tmp/err)"
[ ! -e /dev/mapper/wx ] || die "a refused create left a device"
expect_eq "\$(\$W -y --force create wx --origin "\$origin" --cache "\$spare")" /dev/mapper/wx "create --force"
write_pattern /dev/mapper/wx 0 2M fl
expect_eq "\$(wc_status_field wx 7)" 512 "writes before clear-stats"
\$W clear-stats wx
expect_eq "\$(wc_status_field wx 7)" 0 "writes after clear-stats"
\$W flush wx 2>/dev/null
expect_eq "\$(wc_status_field wx 3)" "\$(wc_status_field wx 2)" "flush writes everything back"
verify_pattern "\$origin" 0 2M fl
\$W list --json >/tmp/list.json
expect_eq "\$(jstr name /tmp/list.json)" wx "list --json"
expect_eq "\$(jstr cache /tmp/list.json)" "\$spare" "list --json: cache"
\$W detach --remove wx
[ ! -e /dev/mapper/wx ] || die "detach --remove left the device"
online_checks
log "=== intree-online"
use_intree
if \$W create wc --origin "\$origin" --cache "\$cache" 2>/tmp/err; then die "create took a used cache"; fi
grep -q "holds a writecache superblock" /tmp/err || die "create's reason: \$(cat /tmp/err)"
\$W create wc --origin "\$origin" --cache "\$cache" --load >/dev/null
expect_eq "\$(wc_status_field wc 3)" "\$(wc_status_field wc 2)" "the detached cache loads empty"
dm_remove wc
online_checks -y --force
log "=== intree-offline"
\$W -y --force create wc --origin "\$origin" --cache "\$cache" >/dev/null
write_pattern "\$origin" 0 64M stale
write_pattern /dev/mapper/wc 2M 6M dirty
write_pattern /dev/mapper/wc 20M 2M dirty2
expected=\$(checksum /dev/mapper/wc 0 64)
used=\$((\$(wc_status_field wc 2) - \$(wc_status_field wc 3)))
dm_remove wc
expect_eq "\$used" 2048 "dirty blocks left by in-tree"
\$W check "\$cache" --origin "\$origin" >/tmp/check.out || die "check: \$(cat /tmp/check.out)"
grep -q "committed dirty blocks: 2048" /tmp/check.out || die "check: \$(cat /tmp/check.out)"
\$W dump --json "\$cache" >/tmp/dump.json
expect_eq "\$(jnum dirty_blocks /tmp/dump.json)" 2048 "dump's dirty blocks"
expect_eq "\$(grep -c origin_sector /tmp/dump.json)" 2048 "dump's entries"
\$W -y writeback "\$cache" "\$origin" 2>/tmp/wb.err || die "writeback: \$(cat /tmp/wb.err)"
expect_eq "\$(checksum "\$origin" 0 64)" "\$expected" "the origin holds what the device read"
\$W check "\$cache" >/tmp/check.out || die "check after writeback"
grep -q "committed dirty blocks: 0" /tmp/check.out || die "check: \$(cat /tmp/check.out)"
\$W create wc --origin "\$origin" --cache "\$cache" --load >/dev/null
expect_eq "\$(wc_status_field wc 3)" "\$(wc_status_field wc 2)" "the cache loads empty"
expect_eq "\$(checksum /dev/mapper/wc 0 64)" "\$expected" "the device reads the same"
dm_remove wc
log "=== powercut-run"
use_project
\$W -y --force create wc --origin "\$origin" --cache "\$cache" -o autocommit_time=3600000 >/dev/null
write_pattern "\$origin" 0 64M old
_pattern_fio /dev/mapper/wc 0 8M committed 4k --do_verify=0 --end_fsync=1
write_pattern /dev/mapper/wc 4M 8M uncommitted
save ready 1
touch /host/kill-clock
EOF2
[[ -f $GUEST_SHARE/ready ]] || guest_case_fail "the workload had not finished when QEMU was killed"

guest_case powercut-offline
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DISKS[@]}" <<EOF2
$PROLOGUE
# What the module makes of this: a load over copies of both devices.
dd if="\$cache" of=/tmp/cache.img bs=1M 2>/dev/null
dd if="\$origin" of=/tmp/origin.img bs=1M 2>/dev/null
modprobe loop
lc=\$(losetup --show -f /tmp/cache.img)
lo=\$(losetup --show -f /tmp/origin.img)
dm_create copy "\$(wc_table s "\$lo" "\$lc" 4096)"
expected=\$(checksum /dev/mapper/copy 0 64)
verify_pattern /dev/mapper/copy 0 4M committed
dm_remove copy
losetup -d "\$lc"
losetup -d "\$lo"

\$W check "\$cache" --origin "\$origin" >/tmp/check.out || die "check: \$(cat /tmp/check.out)"
grep -q "committed dirty blocks: 2048" /tmp/check.out || die "check: \$(cat /tmp/check.out)"
\$W dump --json "\$cache" >/tmp/dump.json
expect_eq "\$(jnum dirty_blocks /tmp/dump.json)" 2048 "dump's dirty blocks"
\$W -y writeback "\$cache" "\$origin" 2>/tmp/wb.err || die "writeback: \$(cat /tmp/wb.err)"
expect_eq "\$(checksum "\$origin" 0 64)" "\$expected" "the origin holds what the device read"
verify_pattern "\$origin" 0 4M committed
dm_create wc "\$(wc_table s "\$origin" "\$cache" 4096)"
expect_eq "\$(wc_status_field wc 3)" "\$(wc_status_field wc 2)" "the cache loads empty"
expect_eq "\$(checksum /dev/mapper/wc 0 64)" "\$expected" "the device reads the same"
dm_remove wc
EOF2

guest_finish
