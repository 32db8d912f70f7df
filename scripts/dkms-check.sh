#!/bin/bash
# The dkms path users take: "dkms add/build" of a copy of this tree, for
# each kernel given, in a private dkms tree (nothing is installed on this
# machine).  Each module dkms builds must export the same symbols as the
# one `make module` built, and the first one must pass a guest case.
#   scripts/dkms-check.sh BUILD_DIR KVER...
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift

name=$(sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' "$top/dkms.conf")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
[ -n "$name" ] && [ -n "$version" ] || { echo "dkms.conf: no PACKAGE_NAME/VERSION" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$work/src/$name-$version
mkdir -p "$src" "$work/tree"
# what a user's copy holds: the tracked files, or all but build output
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top" ls-files -z | (cd "$top" && xargs -0 cp --parents -t "$src")
else
	rsync -a --exclude /build --exclude '*.ko' "$top/" "$src/"
fi

dk() { dkms "$@" --dkmstree "$work/tree" --sourcetree "$work/src"; }
dk add -m "$name" -v "$version" >/dev/null

symbols() { nm "$1" | awk '$2 ~ /^[TtDdBbRr]$/ { print $3 }' | sort; }

first=""
for kver in "$@"; do
	echo "dkms build $name/$version for $kver"
	if ! dk build -m "$name" -v "$version" -k "$kver" >"$work/build.log" 2>&1; then
		cat "$work/build.log"
		cat "$work/tree/$name/$version/build/make.log" 2>/dev/null || true
		echo "dkms build failed for $kver" >&2
		exit 1
	fi
	ko=$(find "$work/tree/$name/$version/$kver" -name 'dm-writecache.ko*' | head -n1)
	[ -n "$ko" ] || { echo "dkms built no module for $kver" >&2; exit 1; }
	case $ko in
	*.xz) xz -dc "$ko" >"$work/$kver.ko" ;;
	*.zst) zstd -qdc "$ko" >"$work/$kver.ko" ;;
	*) cp "$ko" "$work/$kver.ko" ;;
	esac
	vermagic=$(modinfo -F vermagic "$work/$kver.ko")
	[ "${vermagic%% *}" = "$kver" ] || { echo "dkms module for $kver has vermagic '$vermagic'" >&2; exit 1; }
	ref=$build/dm-writecache-$kver.ko
	if ! diff <(symbols "$ref") <(symbols "$work/$kver.ko") >"$work/sym.diff"; then
		cat "$work/sym.diff"
		echo "the dkms module for $kver differs from $ref" >&2
		exit 1
	fi
	echo "  $(symbols "$work/$kver.ko" | wc -l) symbols, as in $ref"
	[ -n "$first" ] || first=$kver
done

# the dkms-built module in the guest
cp "$work/$first.ko" "$build/dm-writecache-dkms-$first.ko"
"$top/tests/guest/run-suite.sh" "$first" "$build/dm-writecache-dkms-$first.ko" 15-suspend
