#!/bin/bash
# Guest kernels for the QEMU test harness.
#
#   tests/guest/kernels.sh list          print the kernel versions (KVERs) the project tests
#   tests/guest/kernels.sh fetch KVER    download + unpack linux-image-KVER into
#                                        build/guest/kernels/KVER/ (idempotent)
#   tests/guest/kernels.sh path KVER     print the unpacked kernel dir (fetching if needed)
#
# Result layout of build/guest/kernels/KVER/:
#   vmlinuz                 the kernel image
#   config                  its .config
#   lib/modules/KVER/       modules with a freshly generated modules.dep
#
# The host's /boot and /lib/modules are never used: the host kernel is not the
# guest kernel, and on CI machines neither needs to exist.
set -euo pipefail

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(cd "$GUEST_DIR/../.." && pwd)
BUILD_DIR=${GUEST_BUILD_DIR:-$ROOT_DIR/build/guest}
KERNELS_DIR=$BUILD_DIR/kernels
DEB_CACHE=$BUILD_DIR/debs

die() { echo "kernels.sh: error: $*" >&2; exit 1; }
log() { echo "kernels.sh: $*" >&2; }

# The 6.1 kernel is the one the linux-headers-amd64 metapackage points at, so
# the module is built and tested against the same ABI.
kver_61() {
    local dep kver
    dep=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 2>/dev/null) ||
        die "linux-headers-amd64 is not installed"
    kver=$(grep -o 'linux-headers-6\.1\.[^ ,]*-amd64' <<<"$dep" | head -n1 | sed 's/^linux-headers-//')
    [[ -n $kver ]] || die "cannot find a linux-headers-6.1.*-amd64 dependency in: $dep"
    [[ -d /usr/src/linux-headers-$kver ]] || die "/usr/src/linux-headers-$kver is missing"
    echo "$kver"
}

kver_612() {
    local newest
    newest=$(find /usr/src -maxdepth 1 -name 'linux-headers-6.12.*+deb12-amd64' -printf '%f\n' |
        sed 's/^linux-headers-//' | sort -V | tail -n1)
    [[ -n $newest ]] || die "no /usr/src/linux-headers-6.12.*+deb12-amd64 found"
    echo "$newest"
}

cmd_list() {
    kver_61
    kver_612
}

# apt_download PKG [VERSION]: exact version first, then any.
# As root, apt warns that it can't drop to _apt in our cache dir; harmless,
# so apt's output is only shown when the download fails.
apt_download() {
    local pkg=$1 ver=${2:-} out
    if [[ -n $ver ]] && (cd "$DEB_CACHE" && apt-get download -q "$pkg=$ver") >/dev/null 2>&1; then
        return 0
    fi
    out=$(cd "$DEB_CACHE" && apt-get download -q "$pkg" 2>&1) && return 0
    echo "$out" >&2
    return 1
}

# Prefer the image built from the same source version as the installed headers
# (same package version); fall back to whatever apt offers for that ABI name.
# A new point release ships linux-image-KVER-unsigned before the signed
# linux-image-KVER (the same kernel, for the guest): either will do.
download_image() {
    local kver=$1 ver pkg existing
    mkdir -p "$DEB_CACHE"
    ver=$(dpkg-query -W -f='${Version}' "linux-headers-$kver" 2>/dev/null || true)
    find_deb() {
        find "$DEB_CACHE" -maxdepth 1 \( -name "linux-image-${kver}_*_amd64.deb" -o \
            -name "linux-image-${kver}-unsigned_*_amd64.deb" \) | sort -V | tail -n1
    }
    existing=$(find_deb)
    if [[ -n $existing ]]; then
        echo "$existing"
        return
    fi
    try_download() {
        for pkg in "linux-image-$kver" "linux-image-$kver-unsigned"; do
            log "downloading $pkg${ver:+ (=$ver)}"
            apt_download "$pkg" "$ver" && return 0
        done
        return 1
    }
    if ! try_download; then
        # a fresh machine may not have package lists yet
        log "download failed; running apt-get update and retrying"
        apt-get update -q >&2 || true
        try_download || die "apt-get download linux-image-$kver failed"
    fi
    existing=$(find_deb)
    [[ -n $existing ]] || die "apt-get download linux-image-$kver failed (run 'apt-get update'?)"
    echo "$existing"
}

cmd_fetch() {
    local kver=${1:-}
    [[ -n $kver ]] || die "usage: kernels.sh fetch KVER"
    local dest=$KERNELS_DIR/$kver
    [[ -f $dest/.complete ]] && return 0

    mkdir -p "$KERNELS_DIR"
    # parallel suites may fetch the same kernel
    exec 8>"$KERNELS_DIR/.$kver.lock"
    flock 8
    [[ -f $dest/.complete ]] && return 0

    local deb tmp
    deb=$(download_image "$kver")
    tmp=$(mktemp -d "$KERNELS_DIR/.tmp.XXXXXX")
    # shellcheck disable=SC2064  # expand now: $tmp is local
    trap "rm -rf '$tmp'" EXIT
    log "extracting $(basename "$deb")"
    dpkg -x "$deb" "$tmp/x"
    [[ -f $tmp/x/boot/vmlinuz-$kver ]] || die "$deb has no boot/vmlinuz-$kver"
    [[ -d $tmp/x/lib/modules/$kver ]] || die "$deb has no lib/modules/$kver"
    mkdir -p "$tmp/k/lib/modules"
    mv "$tmp/x/boot/vmlinuz-$kver" "$tmp/k/vmlinuz"
    mv "$tmp/x/boot/config-$kver" "$tmp/k/config"
    mv "$tmp/x/boot/System.map-$kver" "$tmp/k/System.map"
    mv "$tmp/x/lib/modules/$kver" "$tmp/k/lib/modules/$kver"
    # Debian generates modules.dep in postinst, so the package doesn't ship it.
    depmod -b "$tmp/k" -F "$tmp/k/System.map" "$kver"
    touch "$tmp/k/.complete"
    rm -rf "$dest"
    mv "$tmp/k" "$dest"
    rm -rf "$tmp"
    trap - EXIT
    log "kernel $kver ready in $dest"
}

cmd_path() {
    local kver=${1:-}
    [[ -n $kver ]] || die "usage: kernels.sh path KVER"
    cmd_fetch "$kver"
    echo "$KERNELS_DIR/$kver"
}

main() {
    local cmd=${1:-}
    shift || true
    case $cmd in
        list) cmd_list "$@" ;;
        fetch) cmd_fetch "$@" ;;
        path) cmd_path "$@" ;;
        *) die "usage: kernels.sh {list|fetch KVER|path KVER}" ;;
    esac
}

main "$@"
