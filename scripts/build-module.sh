#!/bin/bash
# Builds the module out of a private copy of the sources.
#   build-module.sh KDIR OUTDIR WC_NAME
# Kbuild puts objects beside their sources, so a copy per kernel keeps the
# 6.1 and 6.12 builds apart; rsync keeps timestamps, so rebuilds are
# incremental.
set -euo pipefail
kdir=$1 out=$2 name=$3
top=$(cd "$(dirname "$0")/.." && pwd)

mkdir -p "$out"
rsync -a --delete --exclude='*.o' --exclude='.*.cmd' --exclude='*.ko' \
	--exclude='*.mod*' --exclude=modules.order --exclude=Module.symvers \
	"$top/Kbuild" "$top/dkms.conf" "$top/kernel" "$out/"
# -Werror-free, but a warning fails the build: the code must stay clean.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make -C "$kdir" M="$out" WC_NAME="$name" WC_DRIVER_DEFINES="${WC_DRIVER_DEFINES:-}" modules 2>&1 | tee "$log"
if grep -iE 'warning:|error:' "$log" >/dev/null; then
	echo "build-module: the build printed warnings; fix them" >&2
	exit 1
fi
ko="$out/dm-$name.ko"
test -f "$ko"
# Global constructors never run in the kernel (no CONFIG_CONSTRUCTORS): the
# core must not have any.
if objdump -h "$ko" | grep -E '\.init_array|\.ctors' >/dev/null; then
	echo "build-module: $ko has global constructors (.init_array/.ctors)" >&2
	exit 1
fi
