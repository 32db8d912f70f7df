#!/bin/bash
# make install / make uninstall: the module through dkms, for every kernel
# whose headers are installed, as dm-writecache under updates/dkms (so
# modprobe, dmsetup and lvm2 load it in place of the in-tree module).
#   scripts/dkms-install.sh install|remove
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$top/dkms.conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
src=/usr/src/$name-$version

remove() {
	if [ -d "/var/lib/dkms/$name/$version" ]; then
		# dkms needs the sources to remove what it built from them.
		if [ ! -f "$src/dkms.conf" ]; then
			mkdir -p "$src"
			cp -a "$top/Kbuild" "$top/dkms.conf" "$top/kernel" "$src/"
		fi
		dkms remove -m "$name" -v "$version" --all
	fi
	rm -rf "$src"
}

case ${1:-} in
install)
	if dpkg-query -W -f='${Status}' writecache-dkms 2>/dev/null | grep -q 'ok installed'; then
		echo "dkms-install: the writecache-dkms package is installed; remove it first" >&2
		exit 1
	fi
	remove
	mkdir -p "$src"
	cp -a "$top/Kbuild" "$top/dkms.conf" "$top/kernel" "$src/"
	dkms add -m "$name" -v "$version"
	built=0
	for b in /lib/modules/*/build; do
		[ -d "$b" ] || continue
		k=$(basename "$(dirname "$b")")
		dkms install -m "$name" -v "$version" -k "$k"
		built=$((built + 1))
	done
	[ $built -gt 0 ] || { echo "dkms-install: no kernel headers installed" >&2; exit 1; }
	;;
remove)
	remove
	;;
*)
	echo "usage: dkms-install.sh install|remove" >&2
	exit 2
	;;
esac
