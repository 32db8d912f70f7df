#!/bin/bash
# On-disk compatibility with the in-tree dm-writecache, both ways, both
# modes: a cache written (and committed, not written back) by one target is
# read correctly by the other, which adds to it; the first one reads all
# of it again, and the project's target drains it to the origin.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 30-compat
DEVS=(--disk cache:64 --disk origin:256 --pmem 64)
INTREE=(--modules "" --intree)

# The guest script of one boot.  $1: s or p; $2: write or drain; then the
# patterns, SEED:MiB, to verify (all but the last) and to write (the last,
# with "write").
script() {
	local mode=$1 what=$2
	shift 2
	cat <<END
origin=\$(disk origin)
if [ $mode = s ]; then cache=\$(disk cache); else cache=\$(pmem_dev); fi
dm_create wc "\$(wc_table $mode "\$origin" "\$cache" 4096)"
check() {
	verify_pattern /dev/mapper/wc \${2}M 4M \$1
	expect_fail verify_pattern "\$origin" \${2}M 4M \$1
}
END
	local n=$# i=0 p
	for p in "$@"; do
		i=$((i + 1))
		if [ "$what" = write ] && [ $i = "$n" ]; then
			echo "write_pattern /dev/mapper/wc ${p#*:}M 4M ${p%:*}"
		else
			echo "check ${p%:*} ${p#*:}"
		fi
	done
	echo 'expect_eq "$(wc_status_field wc 1)" 0 "error"'
	if [ "$what" = drain ]; then
		echo 'dm_message wc flush'
		echo 'dm_remove wc'
		for p in "$@"; do
			echo "verify_pattern \"\$origin\" ${p#*:}M 4M ${p%:*}"
		done
	else
		echo 'dm_remove wc'
	fi
}

for mode in s p; do
	off=$([ $mode = s ] && echo 0 || echo 100)
	a=a$mode:$((off + 8)) b=b$mode:$((off + 16)) c=c$mode:$((off + 24))
	guest_case "$mode-intree-writes"
	guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" "${INTREE[@]}" \
		< <(script $mode write $a)
	guest_case "$mode-project-reads-and-writes"
	guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" \
		< <(script $mode write $a $b)
	guest_case "$mode-intree-reads-and-writes"
	guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" "${INTREE[@]}" \
		< <(script $mode write $a $b $c)
	guest_case "$mode-project-reads-and-drains"
	guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" \
		< <(script $mode drain $a $b $c)
done
guest_finish
