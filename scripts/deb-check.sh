#!/bin/bash
# make deb-check (part of make check): the packages from make deb, installed
# on this machine with dpkg -i, as a user would.  dkms must have built and
# installed dm-writecache for every kernel whose headers are installed, and
# wcctl must run from /usr/sbin with its man page; then both packages are
# purged and must leave nothing behind.  The same for make install and
# make uninstall.
#   scripts/deb-check.sh DEBDIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
debs=$1
name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$top/dkms.conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")

die() { echo "deb-check: $*" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for p in writecache-dkms wcctl; do
	installed "$p" && die "$p is installed on this machine already: not touching it"
done
[ -e "/var/lib/dkms/$name" ] && die "dkms has $name already: not touching it"
[ -e /usr/local/sbin/wcctl ] && die "/usr/local/sbin/wcctl exists already: not touching it"

# The kernels dkms builds for: those with headers.
kernels=()
for b in /lib/modules/*/build; do
	[ -d "$b" ] && kernels+=("$(basename "$(dirname "$b")")")
done
[ ${#kernels[@]} -gt 0 ] || die "no kernel headers installed"

module_file() { find "/lib/modules/$1/updates/dkms" -name 'dm-writecache.ko*' 2>/dev/null | head -n1; }

expect_built() {
	local k ko vermagic st
	for k in "${kernels[@]}"; do
		st=$(dkms status -m "$name" -v "$version" -k "$k")
		case $st in
		*installed*) ;;
		*) die "dkms did not install $name/$version for $k: $st" ;;
		esac
		ko=$(module_file "$k")
		[ -n "$ko" ] || die "no dm-writecache module under /lib/modules/$k/updates/dkms"
		vermagic=$(modinfo -F vermagic "$ko")
		[ "${vermagic%% *}" = "$k" ] || die "$ko has vermagic '$vermagic'"
		# modprobe finds it before the in-tree module
		[ "$(modinfo -k "$k" -F filename dm-writecache)" = "$ko" ] ||
			die "modprobe would load $(modinfo -k "$k" -F filename dm-writecache) for $k"
		echo "  $k: $ko"
	done
}

expect_gone() {
	local k
	[ ! -e "/var/lib/dkms/$name" ] || die "dkms still has $name after $1"
	for k in "${kernels[@]}"; do
		[ -z "$(module_file "$k")" ] || die "a module is left for $k after $1"
	done
	return 0
}

cleanup() {
	dpkg --purge wcctl writecache-dkms >/dev/null 2>&1 || true
	"$top/scripts/dkms-install.sh" remove >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "deb-check: dpkg -i the packages"
dpkg -i "$debs"/writecache-dkms_"$version"_all.deb "$debs"/wcctl_"$version"_amd64.deb >"$debs/dpkg.log" 2>&1 ||
	{ cat "$debs/dpkg.log"; die "dpkg -i failed"; }
expect_built
[ "$(/usr/sbin/wcctl --version | head -n1)" = "$version" ] || die "/usr/sbin/wcctl --version"
# What the package ships (a machine may exclude /usr/share/man from dpkg).
contents=$(dpkg-deb -c "$debs"/wcctl_"$version"_amd64.deb)
for f in ./usr/sbin/wcctl ./usr/share/man/man8/wcctl.8.gz ./usr/share/bash-completion/completions/wcctl; do
	case $contents in
	*" $f"*) ;;
	*) die "the wcctl package has no $f" ;;
	esac
done
dpkg --purge wcctl writecache-dkms >"$debs/dpkg.log" 2>&1 || { cat "$debs/dpkg.log"; die "dpkg --purge failed"; }
expect_gone "dpkg --purge"
[ ! -e /usr/sbin/wcctl ] || die "/usr/sbin/wcctl is left"
[ ! -e "/usr/src/$name-$version" ] || die "/usr/src/$name-$version is left"

echo "deb-check: make install"
make -C "$top" install >"$debs/install.log" 2>&1 || { tail -n 30 "$debs/install.log"; die "make install failed"; }
expect_built
[ "$(/usr/local/sbin/wcctl --version | head -n1)" = "$version" ] || die "/usr/local/sbin/wcctl --version"
make -C "$top" uninstall >"$debs/install.log" 2>&1 || { tail -n 30 "$debs/install.log"; die "make uninstall failed"; }
expect_gone "make uninstall"
[ ! -e /usr/local/sbin/wcctl ] || die "/usr/local/sbin/wcctl is left"
echo "deb-check: passed"
