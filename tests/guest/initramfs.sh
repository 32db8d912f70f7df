#!/bin/bash
# Build the guest initramfs for one kernel:
#
#   tests/guest/initramfs.sh KVER      -> prints build/guest/initramfs-KVER.cpio.gz
#
# Contents: host tools (with the shared libraries ldd reports) needed to
# drive device-mapper / nvdimm / lvm / ext4 tests, dash as /bin/sh,
# busybox-static applets for everything else, the kernel modules of KVER
# that the tests use (dependencies resolved from the kernel's own
# modules.dep), tests/guest/init as /init, and a udev-less lvm.conf.
#
# The image is cached: it is rebuilt only when the recipe changes (this
# script, init, the host binaries it copies) or the unpacked kernel changes.
# Set GUEST_INITRAMFS_FORCE=1 to force a rebuild.
set -euo pipefail

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$GUEST_DIR/../.." && pwd)
BUILD_DIR=${GUEST_BUILD_DIR:-$ROOT_DIR/build/guest}

die() { echo "initramfs.sh: error: $*" >&2; exit 1; }
log() { echo "initramfs.sh: $*" >&2; }

# Host tools. Missing REQUIRED ones abort the build; OPTIONAL ones are
# included when the host happens to have them.
REQUIRED_BINS=(dash dmsetup fio ndctl lvm mke2fs e2fsck blockdev kmod blkdiscard wipefs losetup)
OPTIONAL_BINS=(daxctl sfdisk tune2fs dumpe2fs debugfs lsblk fstrim xxd hexdump strace blkid)

# Project binaries that reach the guest through the share (--file): only
# their shared libraries go into the image, so that rebuilding one does not
# rebuild the image.
SHARED_BINS=("$ROOT_DIR/build/tools/wcctl")

# name=target symlinks created next to the real binary.
TOOL_LINKS=(
    "sbin/mkfs.ext4=mke2fs" "sbin/mkfs.ext3=mke2fs" "sbin/mkfs.ext2=mke2fs"
    "sbin/fsck.ext4=e2fsck" "sbin/fsck.ext3=e2fsck" "sbin/fsck.ext2=e2fsck"
    "sbin/dmstats=dmsetup"
    "sbin/modprobe=/bin/kmod" "sbin/insmod=/bin/kmod" "sbin/rmmod=/bin/kmod"
    "sbin/lsmod=/bin/kmod" "sbin/depmod=/bin/kmod" "sbin/modinfo=/bin/kmod"
)
LVM_LINKS=(lvcreate lvconvert lvs lvdisplay lvchange lvremove lvextend lvreduce lvresize lvrename lvscan
           vgcreate vgchange vgremove vgs vgdisplay vgscan vgextend vgreduce vgmknodes
           pvcreate pvremove pvs pvdisplay pvscan pvchange)

# Kernel modules (modprobe names). REQUIRED_MODS must exist in every tested
# kernel; OPTIONAL_MODS are copied when the kernel has them.
REQUIRED_MODS=(dm-mod dm-writecache dm-flakey dm-delay dm-bufio dm-zero dm-log-writes
               brd loop virtio_blk virtio_pci
               libnvdimm nd_pmem nd_btt nfit dax_pmem device_dax
               9p 9pnet 9pnet_virtio
               ext4 jbd2 mbcache crc16 crc32c crc32c_generic)
OPTIONAL_MODS=(dm-persistent-data dm-cache dm-cache-smq dm-snapshot dm-dust dm-ebs
               crc32c-intel netfs fscache virtio_pci_modern_dev virtio_pci_legacy_dev
               dax nd_e820 virtio_balloon virtio_pmem nd_virtio)

# udev does not run in the guest: lvm must create nodes itself and not wait
# for udev.
LVM_CONF='config {
    checks = 1
}
devices {
    dir = "/dev"
    scan = [ "/dev" ]
    obtain_device_list_from_udev = 0
    external_device_info_source = "none"
    use_devicesfile = 0
    multipath_component_detection = 0
    md_component_detection = 0
    fw_raid_component_detection = 0
    sysfs_scan = 1
}
global {
    use_lvmpolld = 0
    event_activation = 0
    locking_dir = "/run/lock/lvm"
}
activation {
    udev_sync = 0
    udev_rules = 0
    verify_udev_operations = 0
    monitoring = 0
    activation_mode = "degraded"
}
backup {
    # the rootfs is writable; keeping backups avoids a warning per command
    backup = 1
    archive = 0
}
log {
    verbose = 0
    syslog = 0
}
'

usage() { echo "usage: initramfs.sh KVER" >&2; exit 2; }

host_bin() {
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v "$1" 2>/dev/null || true
}

# Everything that changes the image goes into the stamp. Host binaries are
# identified by path+size+mtime, which changes whenever apt upgrades them.
recipe_stamp() {
    local kdir=$1 b p
    {
        cat "${BASH_SOURCE[0]}" "$GUEST_DIR/init"
        echo "kernel: $(stat -c '%n %Y' "$kdir/.complete" "$kdir/vmlinuz")"
        for b in busybox "${REQUIRED_BINS[@]}" "${OPTIONAL_BINS[@]}"; do
            p=$(host_bin "$b")
            [[ -n $p ]] && stat -L -c "$b %n %s %Y" "$p" || echo "$b absent"
        done
        for b in "${SHARED_BINS[@]}"; do
            if [[ -x $b ]]; then shared_libs "$b" | xargs -r stat -L -c "%n %s %Y"; fi
        done
    } | sha256sum | cut -d' ' -f1
}

# Copy a host file to the same path inside the image. The image has
# merged-/usr symlinks (bin -> usr/bin, lib -> usr/lib...), so /lib/x/libc.so
# and /usr/lib/x/libc.so land in the same place either way.
copy_host_file() {
    local src=$1 root=$2
    [[ -e $root$src ]] && return 0
    mkdir -p "$(dirname "$root$src")"
    cp -L "$src" "$root$src"
}

shared_libs() {
    # ldd prints "name => /path (addr)" and "/lib64/ld-linux... (addr)".
    ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | grep -v '^/proc' | sort -u || true
}

copy_binary_with_libs() {
    local bin=$1 root=$2 lib
    copy_host_file "$bin" "$root"
    # ldd prints "name => /path (addr)" and "/lib64/ld-linux... (addr)".
    while read -r lib; do
        copy_host_file "$lib" "$root"
    done < <(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' | grep -v '^/proc' || true)
}

make_skeleton() {
    local root=$1 d
    for d in usr/bin usr/sbin usr/lib usr/lib64 dev proc sys tmp run host etc/lvm etc/modprobe.d mnt root var; do
        mkdir -p "$root/$d"
    done
    ln -s usr/bin "$root/bin"
    ln -s usr/sbin "$root/sbin"
    ln -s usr/lib "$root/lib"
    ln -s usr/lib64 "$root/lib64"
    ln -s /proc/self/mounts "$root/etc/mtab"
    ln -s /run "$root/var/run"
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\ndisk:x:6:\n' >"$root/etc/group"
    printf '%s' "$LVM_CONF" >"$root/etc/lvm/lvm.conf"
    # /init needs stdio before devtmpfs is mounted. The kernel's built-in
    # initramfs already has /dev/console; these are belt and braces.
    mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
    mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true
}

install_tools() {
    local root=$1 b p link name target
    local bb
    bb=$(host_bin busybox)
    [[ -n $bb ]] || die "busybox not found (install busybox-static)"
    [[ $(ldd "$bb" 2>&1 || true) == *"not a dynamic executable"* ]] ||
        die "$bb is not statically linked (install busybox-static)"
    cp -L "$bb" "$root/bin/busybox"

    for b in "${REQUIRED_BINS[@]}"; do
        p=$(host_bin "$b")
        [[ -n $p ]] || die "required host tool '$b' not found"
        copy_binary_with_libs "$p" "$root"
    done
    for b in "${OPTIONAL_BINS[@]}"; do
        p=$(host_bin "$b")
        [[ -n $p ]] && copy_binary_with_libs "$p" "$root"
    done
    for b in "${SHARED_BINS[@]}"; do
        [[ -x $b ]] || continue
        while read -r p; do
            copy_host_file "$p" "$root"
        done < <(shared_libs "$b")
    done
    # kmod lives in /bin on Debian; make sure the links below resolve.
    [[ -e $root/bin/kmod ]] || die "kmod missing from image"

    for link in "${TOOL_LINKS[@]}"; do
        name=${link%%=*}
        target=${link#*=}
        [[ -e $root/$name || -L $root/$name ]] && continue
        # Only link tools whose target was actually installed.
        case $target in
            /*) [[ -e $root$target ]] || continue ;;
            *) [[ -e $root/$(dirname "$name")/$target ]] || continue ;;
        esac
        ln -s "$target" "$root/$name"
    done
    for name in "${LVM_LINKS[@]}"; do
        [[ -e $root/sbin/$name ]] || ln -s lvm "$root/sbin/$name"
    done

    # /bin/sh is dash, not busybox: Debian's static busybox prefers its own
    # applets over PATH inside its shell, so "losetup --show", "modprobe" of
    # a .ko.xz with modprobe.d rules, "mke2fs" etc. would silently run the
    # busybox versions. (busybox ash stays available as /bin/ash.)
    ln -s dash "$root/bin/sh"

    # busybox applets fill in whatever the host tools don't cover; real tools
    # win (they behave like on a normal system).
    local applet
    while read -r applet; do
        [[ -e $root/$applet || -L $root/$applet ]] && continue
        mkdir -p "$root/$(dirname "$applet")"
        ln -s /bin/busybox "$root/$applet"
    done < <("$root/bin/busybox" --list-full)
}

# Resolve module dependencies with the guest kernel's own modules.dep.
# -C /dev/null keeps the host's modprobe.d (e.g. ndctl's install hooks) out.
module_files() {
    local kdir=$1 kver=$2 mod=$3
    modprobe -C /dev/null -d "$kdir" -S "$kver" --show-depends "$mod" 2>/dev/null |
        awk '$1 == "insmod" { print $2 }'
}

install_modules() {
    local root=$1 kdir=$2 kver=$3 mod f rel
    local src=$kdir/lib/modules/$kver dst=$root/lib/modules/$kver
    mkdir -p "$dst"
    local files=()
    for mod in "${REQUIRED_MODS[@]}"; do
        if ! modprobe -C /dev/null -d "$kdir" -S "$kver" --show-depends "$mod" >/dev/null 2>&1; then
            die "kernel $kver has no module '$mod'"
        fi
        mapfile -t -O "${#files[@]}" files < <(module_files "$kdir" "$kver" "$mod")
    done
    for mod in "${OPTIONAL_MODS[@]}"; do
        mapfile -t -O "${#files[@]}" files < <(module_files "$kdir" "$kver" "$mod")
    done
    for f in $(printf '%s\n' "${files[@]}" | sort -u); do
        rel=${f#"$src"/}
        mkdir -p "$dst/$(dirname "$rel")"
        cp "$f" "$dst/$rel"
    done
    for f in modules.order modules.builtin modules.builtin.modinfo; do
        [[ -f $src/$f ]] && cp "$src/$f" "$dst/$f"
    done
    depmod -b "$root" "$kver"
}

build() {
    local kver=$1 kdir=$2 out=$3 stamp=$4
    local tmp
    tmp=$(mktemp -d "$BUILD_DIR/initramfs-$kver.tmp.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" EXIT
    local root=$tmp/root
    mkdir -p "$root"
    make_skeleton "$root"
    install_tools "$root"
    install_modules "$root" "$kdir" "$kver"
    install -m 755 "$GUEST_DIR/init" "$root/init"
    echo "$kver" >"$root/etc/guest-kver"

    (cd "$root" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc --quiet -R 0:0) | gzip -6 -n >"$tmp/image.cpio.gz"
    mv "$tmp/image.cpio.gz" "$out"
    echo "$stamp" >"$out.stamp"
    rm -rf "$tmp"
    trap - EXIT
    log "built $out ($(du -h "$out" | cut -f1))"
}

main() {
    [[ $# -eq 1 && -n $1 ]] || usage
    local kver=$1
    "$GUEST_DIR/kernels.sh" fetch "$kver"
    local kdir=$BUILD_DIR/kernels/$kver
    local out=$BUILD_DIR/initramfs-$kver.cpio.gz
    local stamp
    stamp=$(recipe_stamp "$kdir")
    mkdir -p "$BUILD_DIR"
    if [[ ${GUEST_INITRAMFS_FORCE:-0} != 1 && -f $out && -f $out.stamp && $(cat "$out.stamp") == "$stamp" ]]; then
        echo "$out"
        return 0
    fi
    log "building initramfs for $kver"
    # Serialize concurrent builds of the same image (parallel suites).
    exec 9>"$BUILD_DIR/.initramfs-$kver.lock"
    flock 9
    if [[ -f $out && -f $out.stamp && $(cat "$out.stamp") == "$stamp" ]]; then
        echo "$out"
        return 0
    fi
    build "$kver" "$kdir" "$out" "$stamp"
    echo "$out"
}

main "$@"
