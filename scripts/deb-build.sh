#!/bin/bash
# make deb: the Debian packages writecache-dkms (dh-dkms) and wcctl, built
# from a copy of the tracked files.
#   scripts/deb-build.sh OUTDIR      -> OUTDIR/*.deb
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
[ -n "$version" ] || { echo "deb-build: no PACKAGE_VERSION in dkms.conf" >&2; exit 1; }
grep -q "^writecache ($version)" "$top/debian/changelog" ||
	{ echo "deb-build: debian/changelog is not at version $version (dkms.conf)" >&2; exit 1; }

rm -rf "$out"
src=$out/src/writecache-$version
mkdir -p "$src"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$top" ls-files -z | (cd "$top" && xargs -0 cp --parents -t "$src")
else
	rsync -a --exclude /build --exclude '*.ko' "$top/" "$src/"
fi
if ! (cd "$src" && dpkg-buildpackage -b -us -uc -j2) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log"
	echo "deb-build: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
fi
mv "$out"/src/*.deb "$out"/
ls -1 "$out"/*.deb
