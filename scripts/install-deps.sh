#!/bin/bash
# Installs everything the build, the unit tests and the guest tests need,
# from Debian's packages only.  Idempotent and quick when all is there.
set -euo pipefail

need=(
	gcc g++ libc6-dev make cmake rsync libgtest-dev libgmock-dev libpmem2-dev
	libbenchmark-dev
	clang libclang-rt-14-dev
	linux-headers-amd64 kmod cpio xz-utils zstd
	qemu-system-x86 busybox-static dmsetup ndctl fio lvm2 e2fsprogs
	util-linux procps linux-source-6.1 dkms
	pkg-config libdevmapper-dev libblkid-dev libcli11-dev nlohmann-json3-dev
	dpkg-dev debhelper dh-dkms fakeroot man-db
)

missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done

# The newest 6.12 kernel that Debian has both headers and an image for.
have_612=$(ls -1d /usr/src/linux-headers-6.12.*+deb12-amd64 2>/dev/null | tail -n1 || true)
apt_updated=0
apt_update() {
	if [ $apt_updated = 0 ]; then
		apt-get update -qq
		apt_updated=1
	fi
}

if [ -z "$have_612" ]; then
	apt_update
	ver=$(apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		sed -E 's/^linux-headers-([^ ]+) .*/\1/' | sort -V |
		while read -r v; do
			if apt-cache show "linux-image-$v" >/dev/null 2>&1 ||
			   apt-cache show "linux-image-$v-unsigned" >/dev/null 2>&1; then
				echo "$v"
			fi
		done | tail -n1)
	if [ -z "$ver" ]; then
		echo "install-deps: no Debian 6.12 kernel with headers found" >&2
		exit 1
	fi
	missing+=("linux-headers-$ver")
fi

if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi
