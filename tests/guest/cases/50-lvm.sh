#!/bin/bash
# lvm2 as a real client of the project's "writecache" target: an ext4 LV
# (vg/slow on the "slow" disk) gets a cachevol (vg/fast on the "fast" disk)
# with "lvconvert --type writecache", and loses it again with
# "lvconvert --splitcache" (lvm reloads the table with "cleaner" and polls
# the status until writeback is done). Every file's sha256 is recorded and
# re-checked after each step; the list travels from boot to boot.
#   attach-mounted   attach to the mounted LV (lvm picks the block size;
#                    watermarks, writeback_jobs, autocommit_*); table, status
#                    and "lvs -o writecache_*" agree; files written through
#                    the cache; a deactivate/activate cycle reloads the same
#                    cache contents; splitcache while mounted; fsck + checks
#                    on the plain LV
#   reboot-plain     a new boot: fsck + checks on the plain LV; the same
#                    cachevol attached again to the inactive LV, this time
#                    with 512-byte blocks, low watermarks (writeback races
#                    the file writes), nofua, max_age; the VG is deactivated
#                    with dirty blocks in the cache
#   reboot-cached    a new boot activates the cached LV: the dirty blocks are
#                    still there; fsck + checks; splitcache of the unmounted
#                    LV; fsck + checks on the plain LV, also after the VG is
#                    deactivated and activated again
# lvm runs without udev (lvm.conf in the initramfs: udev_sync=0,
# udev_rules=0, so lvm creates the /dev nodes itself).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 50-lvm
DISKS=(--disk slow:256 --disk fast:64)

# Guest helpers shared by all boots (/host/lvm-common.sh in the guest).
COMMON=$WC_WORKDIR/lvm-common.sh
cat >"$COMMON" <<'EOF'
MNT=/mnt/lv
LV=vg/slow
DM=vg-slow
mkdir -p $MNT

# lvs FIELD: one field of vg/slow, no padding, no units
lvsf() { lvs --noheadings --nosuffix --units b -o "$1" $LV | tr -d ' '; }

# mkfiles PREFIX COUNT KIB: COUNT files of KIB KiB of random data
mkfiles() {
	local i=0
	mkdir -p "$MNT/${1%/*}"
	while [ $i -lt "$2" ]; do
		dd if=/dev/urandom of="$MNT/$1.$i" bs=1k count="$3" 2>/dev/null
		i=$((i + 1))
	done
}

file_list() { (cd $MNT && find . -path ./lost+found -prune -o -type f -print | sort); }

# save_sums: record the sha256 of every file (/host/sums, for the next boot)
save_sums() {
	(cd $MNT && file_list | xargs sha256sum) >/host/sums
	log "recorded $(wc -l </host/sums) files, $(du -sk $MNT | cut -f1) KiB"
}

# check_sums WHAT: the files are exactly those in /host/sums, with those
# checksums
check_sums() {
	file_list >/tmp/now.list
	cut -c67- /host/sums >/tmp/want.list
	diff /tmp/want.list /tmp/now.list >/tmp/list.diff || { cat /tmp/list.diff; die "$1: file list differs"; }
	(cd $MNT && sha256sum -c /host/sums) >/tmp/sums.out 2>&1 ||
		{ grep -v ': OK$' /tmp/sums.out; die "$1: checksums differ"; }
	log "$1: $(wc -l </host/sums) files verified"
}

# remount: drop the page cache so reads come from the device
remount() { umount $MNT; mount /dev/$LV $MNT; }

fsck_lv() {
	e2fsck -f -n /dev/$LV >/tmp/fsck.out 2>&1 || { cat /tmp/fsck.out; die "e2fsck /dev/$LV"; }
	log "e2fsck: $(tail -n 1 /tmp/fsck.out)"
}

table_field() { dmsetup table $DM | awk -v n="$1" '{ print $n }'; }

# check_lvs_status: "lvs -o writecache_*" reports what "dmsetup status"
# does. lvs reads the status itself, in between two dmsetup calls; a
# background commit may move the numbers, so retry until they hold still.
check_lvs_status() {
	local i=0 s1 s2 l
	while :; do
		s1=$(wc_status $DM)
		l=$(lvs --noheadings -o writecache_error,writecache_total_blocks,writecache_free_blocks,writecache_writeback_blocks,data_percent $LV | awk '{ $1 = $1; print }')
		s2=$(wc_status $DM)
		[ "$s1" = "$s2" ] && break
		i=$((i + 1))
		[ $i -lt 10 ] || die "status does not hold still: $s1 / $s2"
		sleep 0.5
	done
	log "status: $s1"
	expect_eq "${l% *}" "$(echo "$s1" | cut -d' ' -f1-4)" "lvs writecache_error,total,free,writeback vs dmsetup status"
	set -- $s1
	expect_eq "$1" 0 "writecache error"
	[ "$2" -gt 0 ] && [ "$3" -le "$2" ] && [ "$4" -le $(($2 - $3)) ] ||
		die "insane status: $s1"
	# Data% is the used share of the blocks
	awk -v p="${l##* }" -v t="$2" -v f="$3" 'BEGIN { d = p - 100 * (t - f) / t; exit !(d < 0.01 && d > -0.01) }' ||
		die "Data% ${l##* }, but $(($2 - $3)) of $2 blocks are used"
}

# check_total BLOCK_SIZE: the number of blocks fits the cachevol: no more
# than its size in blocks, no fewer than with 64 bytes of metadata a block
check_total() {
	local bytes total
	bytes=$(blockdev --getsize64 /dev/mapper/vg-fast_cvol)
	total=$(wc_status_field $DM 2)
	[ "$total" -le $((bytes / $1)) ] && [ "$total" -ge $((bytes / ($1 + 64))) ] ||
		die "$total blocks of $1 bytes in a $bytes-byte cache"
}

# wait_status_still NAME SECONDS: until the status holds still for 2 s
wait_status_still() {
	local i=0 a b
	b=$(wc_status $1)
	while :; do
		a=$b
		sleep 2
		b=$(wc_status $1)
		[ "$a" = "$b" ] && return 0
		i=$((i + 2))
		[ $i -lt $2 ] || die "status of $1 still moves after $2 s: $b"
	done
}

# check_plain WHAT: vg/slow is a plain linear LV again, its filesystem is
# clean, and it holds exactly the recorded files
check_plain() {
	expect_linear
	fsck_lv
	mount /dev/$LV $MNT
	check_sums "$1"
	umount $MNT
}

used() { echo $(($(wc_status_field $DM 2) - $(wc_status_field $DM 3))); }

expect_linear() {
	expect_eq "$(table_field 3)" linear "target of $DM"
	expect_eq "$(lvsf segtype)" linear "segtype of $LV"
	expect_eq "$(lvs --noheadings -o lv_name vg | tr -d ' ' | sort | tr '\n' ' ')" "fast slow " "LVs after splitcache"
}
EOF
GB=(--file "$COMMON" "${DISKS[@]}" --timeout 400)

guest_case attach-mounted
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${GB[@]}" <<'EOF'
. /host/lvm-common.sh
pvcreate -y "$(disk slow)" "$(disk fast)"
vgcreate vg "$(disk slow)" "$(disk fast)"
lvcreate -y -n slow -L 200M vg "$(disk slow)"
# a cachevol must be inactive when it is attached
lvcreate -y -an -Zn -n fast -L 40M vg "$(disk fast)"
mkfs.ext4 -q -b 4096 /dev/$LV
mount /dev/$LV $MNT
mkfiles a/big 3 2048
mkfiles a/small 40 12
save_sums

lvconvert -y --type writecache --cachevol fast \
	--cachesettings 'high_watermark=60 low_watermark=40 writeback_jobs=64 autocommit_blocks=32 autocommit_time=1000' $LV
dmsetup table
expect_eq "$(table_field 3)" "$WC_TARGET" "target of $DM"
expect_eq "$(table_field 4)" s "mode"
bs=$(table_field 7)
expect_eq "$(lvsf writecache_block_size)" "$bs" "lvs writecache_block_size"
expect_match "$bs" '^(512|4096)$' "block size lvm chose"
expect_eq "$(dmsetup table $DM | cut -d' ' -f8-)" \
	"10 high_watermark 60 low_watermark 40 writeback_jobs 64 autocommit_blocks 32 autocommit_time 1000" "optional args"
expect_eq "$(lvs --noheadings -a -o lv_name vg | tr -d ' ' | sort | tr '\n' ' ')" "[fast_cvol] [slow_wcorig] slow " "LVs"
check_total "$bs"
check_lvs_status
check_sums "after attach"
writes0=$(wc_status_field $DM 7)

mkfiles b/big 2 6144
mkfiles b/small 60 8
sync
check_lvs_status
# 12 MiB of new file data went through the cache (status field 7 counts
# the blocks written)
writes=$(($(wc_status_field $DM 7) - writes0))
[ $writes -ge $((12 * 1048576 / bs)) ] || die "only $writes blocks written to the cache after writing 12 MiB"
save_sums

# deactivate + activate: the cache comes back as it was. When the writes
# took the use above the high watermark (60%), writeback runs until it is
# below the low one (40%); wait until it has stopped, or the count moves.
umount $MNT
wait_for_status $DM '$4 == 0 && $2 - $3 <= $2 * 0.60' 120
wait_status_still $DM 120
used_before=$(used)
[ "$used_before" -gt 0 ] || die "writeback emptied the cache: nothing left to reload"
log "status before deactivation: $(wc_status $DM)"
lvchange -an $LV
[ ! -e /dev/mapper/$DM ] || die "$DM still there after lvchange -an"
lvchange -ay $LV
expect_eq "$(table_field 3)" "$WC_TARGET" "target after reactivation"
expect_eq "$(used)" "$used_before" "used blocks after reactivation"
check_lvs_status
fsck_lv
mount /dev/$LV $MNT
check_sums "after reactivation"

# more changes: new files, a deleted one, one appended to
mkfiles c/new 4 1024
rm $MNT/a/big.1
dd if=/dev/urandom bs=1k count=300 2>/dev/null >>$MNT/a/small.3
sync
check_lvs_status
save_sums

lvconvert -y --splitcache $LV
expect_linear
remount
check_sums "after splitcache"
umount $MNT
fsck_lv
mount /dev/$LV $MNT
check_sums "after splitcache + fsck"
umount $MNT
vgchange -an vg
EOF

guest_case reboot-plain
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${GB[@]}" --file "$GUEST_SHARE/sums" <<'EOF'
. /host/lvm-common.sh
# only vg/slow: the cachevol-to-be must stay inactive
lvchange -ay $LV
check_plain "plain LV after reboot"

# the same cachevol again, attached to the inactive LV: 512-byte blocks,
# low watermarks so that writeback runs while files are written (no "nofua":
# lvm accepts it, but like the in-tree target ours refuses it in s mode)
lvchange -an $LV
lvconvert -y --type writecache --cachevol fast \
	--cachesettings 'block_size=512 high_watermark=30 low_watermark=10 autocommit_blocks=128 max_age=600000' $LV
lvchange -ay $LV
dmsetup table
expect_eq "$(table_field 3)" "$WC_TARGET" "target of $DM"
expect_eq "$(table_field 7)" 512 "block size"
expect_eq "$(lvsf writecache_block_size)" 512 "lvs writecache_block_size"
expect_eq "$(dmsetup table $DM | cut -d' ' -f8-)" \
	"8 high_watermark 30 low_watermark 10 autocommit_blocks 128 max_age 600000" "optional args"
check_total 512
check_lvs_status
# a reused cachevol starts empty: nothing stale from the first attach
expect_eq "$(used)" 0 "used blocks of a freshly attached cache"
fsck_lv
mount /dev/$LV $MNT
check_sums "after attach"
mkfiles d/big 4 5120
mkfiles d/small 50 20
rm -r $MNT/c
sync
check_lvs_status
# 20 MiB went through a cache whose high watermark is at ~12 MiB: once the
# writes pause (writeback waits for 1 s of idleness in s mode), writeback
# brings the use down to the low watermark
log "status after the writes: $(wc_status $DM)"
wait_for_status $DM '$2 - $3 <= $2 * 0.10 + 1' 120
check_lvs_status
save_sums
umount $MNT
used_before=$(used)
[ "$used_before" -gt 0 ] || die "no dirty blocks left for the next boot"
log "leaving $used_before dirty blocks in the cache"
save used "$used_before"
vgchange -an vg
EOF
USED=$(cat "$GUEST_SHARE/used" 2>/dev/null || echo missing)

guest_case reboot-cached
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${GB[@]}" --file "$GUEST_SHARE/sums" --env "USED=$USED" <<'EOF'
. /host/lvm-common.sh
vgchange -ay vg
expect_eq "$(table_field 3)" "$WC_TARGET" "target of $DM"
expect_eq "$(used)" "$USED" "dirty blocks found in the cache after a reboot"
check_lvs_status
fsck_lv
mount /dev/$LV $MNT
check_sums "cached LV after reboot"
umount $MNT
lvconvert -y --splitcache $LV
check_plain "after splitcache"
vgchange -an vg
# what a reboot would find (lvm keeps no state in memory between commands)
vgchange -ay vg
check_plain "plain LV after reactivation"
vgchange -an vg
EOF

guest_finish
