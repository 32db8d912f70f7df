#!/bin/bash
# Runs the kernel's checkpatch.pl (from Debian's linux-source-6.1) on the
# kernel C sources; fails on any error or warning.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$top/build/checkpatch
if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
	tarball=$(ls /usr/src/linux-source-6.1*.tar.xz | tail -n1)
	mkdir -p "$dir"
	tar -xJf "$tarball" -C "$dir" --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi
cd "$top"
"$dir/scripts/checkpatch.pl" --no-tree --terse --strict -f \
	kernel/*.c kernel/*.h kernel/driver/*.c kernel/driver/*.h kernel/include/*.h
