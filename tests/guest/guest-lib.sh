# Guest-side helpers for case scripts (POSIX sh; dash in the guest). Available as
# /host/guest-lib.sh and already sourced before case.sh runs (sourcing it
# again is harmless). case.sh runs with "sh -e" in /host; whatever it writes
# to /host ends up in the boot's share dir on the host (GUEST_SHARE).
#
# Environment (from the host): WC_TARGET (target name, default writecache),
# WC_USE_INTREE, WC_KVER, GUEST_BOOT (1 for the first boot of a WORKDIR),
# GUEST_DISKS (disk names in /dev/vda.. order), plus --env settings.

[ -n "${_GUEST_LIB_SH:-}" ] && return 0
_GUEST_LIB_SH=1

: "${WC_TARGET:=writecache}"

log() { echo "[$(cut -d' ' -f1 /proc/uptime)] $*"; }

die() {
	echo "FAIL: $*" >&2
	exit 1
}

# expect_eq ACTUAL EXPECTED [WHAT]
expect_eq() {
	[ "$1" = "$2" ] || die "${3:-value}: expected '$2', got '$1'"
}

expect_ne() {
	[ "$1" != "$2" ] || die "${3:-value}: expected something other than '$2'"
}

# expect_match STRING EXTENDED_REGEX [WHAT]
expect_match() {
	echo "$1" | grep -q -E -- "$2" || die "${3:-value}: '$1' does not match /$2/"
}

# expect_fail CMD...: CMD must exit nonzero (e.g. a table the target rejects).
# Runs in a subshell so a helper that calls die counts as a failure.
expect_fail() {
	if ("$@") >/tmp/expect_fail.out 2>&1; then
		cat /tmp/expect_fail.out
		die "expected failure: $*"
	fi
	return 0
}

# --- devices ---------------------------------------------------------------

# disk NAME: the /dev/vdX node of the disk the host created with --disk NAME.
disk() {
	local b
	for b in /sys/block/vd*; do
		[ -e "$b/serial" ] || continue
		if [ "$(cat "$b/serial")" = "$1" ]; then
			echo "/dev/${b##*/}"
			return 0
		fi
	done
	die "no virtio disk with serial '$1' (have: $GUEST_DISKS)"
}

# disk_n I: the I-th disk (0-based), /dev/vda for 0.
disk_n() {
	local dev
	dev="/dev/vd$(echo abcdefghijklmnopqrstuvwxyz | cut -c$(($1 + 1)))"
	[ -b "$dev" ] || die "$dev does not exist"
	echo "$dev"
}

# pmem_dev: /dev/pmem0, checked to be DAX-capable (what p mode needs).
pmem_dev() {
	[ -b /dev/pmem0 ] || die "/dev/pmem0 missing (boot with --pmem SIZE)"
	[ "$(cat /sys/block/pmem0/queue/dax 2>/dev/null)" = 1 ] || die "/dev/pmem0 is not DAX-capable"
	echo /dev/pmem0
}

# virtio_pmem_dev: the block device of the virtio-pmem device (boot with
# --virtio-pmem SIZE): DAX-capable, but asynchronous (its flushes go to
# the host), which p mode must refuse. The driver is loaded here, after
# init set up /dev/pmem0, so the new device is the one that appears now.
virtio_pmem_dev() {
	local before d i=0
	before=" $(ls /sys/block | grep '^pmem' | tr '\n' ' ') "
	modprobe nd_pmem
	modprobe virtio_pmem
	while [ $i -lt 50 ]; do
		for d in $(ls /sys/block | grep '^pmem'); do
			case "$before" in *" $d "*) continue ;; esac
			[ "$(cat /sys/block/$d/queue/dax)" = 1 ] || die "/dev/$d (virtio-pmem) is not DAX-capable"
			echo /dev/$d
			return 0
		done
		sleep 0.1
		i=$((i + 1))
	done
	die "no virtio-pmem block device appeared (boot with --virtio-pmem SIZE)"
}

# sectors DEV: size in 512-byte sectors
sectors() { blockdev --getsz "$1"; }

# --- device-mapper (no udev: never wait for it, create nodes ourselves) -----

# dm_create NAME TABLE   (TABLE may have several lines)
dm_create() {
	local name=$1
	shift
	printf '%s\n' "$*" | dmsetup create --noudevsync "$name" || return 1
	dmsetup mknodes "$name"
	[ -b "/dev/mapper/$name" ] || die "/dev/mapper/$name did not appear"
}

# dm_reload NAME TABLE: load a new table and swap it in
dm_reload() {
	local name=$1
	shift
	printf '%s\n' "$*" | dmsetup reload --noudevsync "$name" || return 1
	dmsetup suspend --noudevsync "$name" || return 1
	dmsetup resume --noudevsync "$name"
}

dm_suspend() { dmsetup suspend --noudevsync "$@"; }
dm_resume() { dmsetup resume --noudevsync "$@"; }

# dm_remove NAME: retries briefly because a just-closed device can be busy
dm_remove() {
	local i=0
	while ! dmsetup remove --noudevsync "$1" 2>/tmp/dm_remove.err; do
		i=$((i + 1))
		if [ $i -ge 20 ]; then
			cat /tmp/dm_remove.err >&2
			return 1
		fi
		sleep 0.2
	done
	dmsetup mknodes
}

dm_status() { dmsetup status "$1"; }

# dm_message NAME MESSAGE...
dm_message() {
	local name=$1
	shift
	dmsetup message "$name" 0 "$@"
}

# wc_status NAME: the numbers after the target name in "dmsetup status"
wc_status() {
	dmsetup status "$1" | awk -v t="$WC_TARGET" '{ for (i = 1; i <= NF; i++) if ($i == t) { for (j = i + 1; j <= NF; j++) printf "%s%s", $j, (j < NF ? " " : ""); print ""; exit } }'
}

# wc_status_field NAME N: the N-th number (1-based) after the target name;
# for dm-writecache: 1 error, 2 blocks, 3 free blocks, 4 blocks under writeback
# (the layout: enum wc_status_field in kernel/include/wc_core.h, 0-based)
wc_status_field() {
	wc_status "$1" | awk -v n="$2" '{ print $n }'
}

# wc_table MODE ORIGIN CACHE [BLOCK_SIZE [OPTIONAL ARGS...]]: a whole-origin
# table line for the writecache target ($WC_TARGET).
wc_table() {
	local mode=$1 origin=$2 cache=$3 bs=${4:-4096}
	shift 3
	[ $# -gt 0 ] && shift
	echo "0 $(sectors "$origin") $WC_TARGET $mode $origin $cache $bs $# $*"
}

# wait_for SECONDS CMD...: retry CMD until it succeeds
wait_for() {
	local secs=$1 i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -ge $((secs * 5)) ] && die "timed out after ${secs}s waiting for: $*"
		sleep 0.2
	done
}

# wait_for_status NAME AWK_CONDITION [SECONDS]: wait until the condition holds
# for the status numbers after the target name, e.g.
#   wait_for_status wc '$4 == 0' 60        (writeback finished)
wait_for_status() {
	local name=$1 cond=$2 secs=${3:-60} i=0
	while ! wc_status "$name" | awk "{ exit !($cond) }"; do
		i=$((i + 1))
		[ $i -ge $((secs * 5)) ] && die "timed out after ${secs}s waiting for status of $name to satisfy '$cond' (now: $(dmsetup status "$name"))"
		sleep 0.2
	done
}

# --- data patterns -----------------------------------------------------------
# Deterministic, seed- and offset-dependent data: every BS block holds the
# string "wc-SEED" and its own byte offset, repeated. Verifying with another
# seed fails (stale data), and so does a block written to the wrong place.
# Sizes and offsets take fio suffixes (4k, 16M...). SEED: letters and digits.

_pattern_fio() {
	local dev=$1 off=$2 len=$3 seed=$4 bs=$5
	shift 5
	fio --name=pattern --filename="$dev" --offset="$off" --size="$len" --bs="$bs" \
		--rw=write --ioengine=psync --direct=1 --verify=pattern \
		--verify_pattern="\"wc-$seed\"%o" --verify_state_save=0 "$@" \
		>/tmp/pattern.out 2>&1
}

# write_pattern DEV OFFSET LEN SEED [BS=4k]
write_pattern() {
	_pattern_fio "$1" "$2" "$3" "$4" "${5:-4k}" --do_verify=0 ||
		{ cat /tmp/pattern.out; die "write_pattern $*"; }
}

# verify_pattern DEV OFFSET LEN SEED [BS=4k]
verify_pattern() {
	_pattern_fio "$1" "$2" "$3" "$4" "${5:-4k}" --verify_only=1 --verify_fatal=1 ||
		{ grep -i -m5 -e verify -e error /tmp/pattern.out; die "verify_pattern $*"; }
}

# fio_verify DEV SIZE [FIO ARGS...]: random writes + read-back verification
# (crc32c, fatal on the first mismatch) in one run
fio_verify() {
	local dev=$1 size=$2
	shift 2
	fio --name=verify --filename="$dev" --size="$size" --rw=randwrite --bs=4k \
		--ioengine=psync --direct=1 --verify=crc32c --verify_fatal=1 \
		--verify_state_save=0 --randseed=1234 "$@" >/tmp/fio_verify.out 2>&1 ||
		{ cat /tmp/fio_verify.out; die "fio_verify $dev $size $*"; }
}

# checksum DEV OFFSET_MiB LEN_MiB: sha256 of a range (compare across boots by
# writing it to /host and passing it back with --env)
checksum() {
	dd if="$1" bs=1M skip="$2" count="$3" iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1
}

# save NAME VALUE: leave a value for the host in the share (GUEST_SHARE/NAME)
save() {
	printf '%s\n' "$2" >"/host/$1"
}

# no_kernel_bugs WHAT: fail unless the kernel log is free of the lines that
# fail a boot (the host's GUEST_BUG_REGEX).  A boot whose later phases
# provoke errors on purpose (guest_boot --allow) calls it before them, so
# the allowance does not cover the phases that came first.
no_kernel_bugs() {
	if dmesg | grep -a -E "$GUEST_BUG_REGEX" >/tmp/bugs.txt; then
		cat /tmp/bugs.txt
		die "kernel bug lines before $1"
	fi
}

# use_intree / use_project: swap the kernel's own dm-writecache and the
# project's module (both are "dm_writecache" to the kernel, so only one is
# loaded at a time); boots with guest_boot --intree-swap.  No table may
# be using the target.
# the kernel marks an out-of-tree module "O": the in-tree one has no mark
_wc_module_out_of_tree() {
	case $(cat /sys/module/dm_writecache/taint) in *O*) return 0 ;; esac
	return 1
}
use_intree() {
	rmmod dm_writecache 2>/dev/null || true
	modprobe dm-writecache || die "cannot load the in-tree dm-writecache"
	! _wc_module_out_of_tree || die "modprobe loaded an out-of-tree dm_writecache, not the kernel's"
	log "target: in-tree dm-writecache"
}
use_project() {
	local m
	rmmod dm_writecache 2>/dev/null || true
	for m in $WC_MODULES; do
		insmod "/host/modules/$m" || die "cannot insmod $m"
	done
	_wc_module_out_of_tree || die "the dm_writecache loaded is not the project's (out-of-tree) module"
	log "target: the project's module ($WC_MODULES)"
}
