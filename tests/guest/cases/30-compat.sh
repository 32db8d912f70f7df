#!/bin/bash
# On-disk compatibility with the in-tree dm-writecache, both ways, both
# modes: a cache written (and committed, not written back) by one target is
# read correctly by the other, which adds to it; the first one reads all
# of it again, and the project's target drains it to the origin.  Also
# with 512-byte blocks and an odd start_sector (s), and a start_sector (p).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 30-compat
DEVS=(--disk cache:64 --disk origin:256 --pmem 64)
INTREE=(--modules "" --intree)

# The guest script of one boot.  $1: s or p; $2: block size and optional
# arguments; $3: write, or first (write to a blank cache), or drain; then
# the patterns, SEED:MiB, to verify (all but the last) and to write (the
# last, with "write"/"first").
script() {
	local mode=$1 args=$2 what=$3
	shift 3
	cat <<END
origin=\$(disk origin)
if [ $mode = s ]; then cache=\$(disk cache); else cache=\$(pmem_dev); fi
[ $what = first ] && dd if=/dev/zero of="\$cache" bs=1M count=1 oflag=direct 2>/dev/null
dm_create wc "\$(wc_table $mode "\$origin" "\$cache" $args)"
check() {
	verify_pattern /dev/mapper/wc \${2}M 4M \$1
	expect_fail verify_pattern "\$origin" \${2}M 4M \$1
}
END
	local n=$# i=0 p
	for p in "$@"; do
		i=$((i + 1))
		if [ "$what" != drain ] && [ $i = "$n" ]; then
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

# mode, block size and options, MiB offset of the patterns on the origin
variants=(
	"s|4096|0"
	"p|4096|100"
	"s|512 start_sector 7|150"
	"p|4096 start_sector 8|200"
)
for v in "${variants[@]}"; do
	IFS='|' read -r mode args off <<<"$v"
	name=$mode
	[[ $args == *start_sector* ]] && name+=-start-sector
	a=a$off:$((off + 8)) b=b$off:$((off + 16)) c=c$off:$((off + 24))
	guest_case "$name-intree-writes"
	guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" "${INTREE[@]}" \
		< <(script $mode "$args" first $a)
	guest_case "$name-project-reads-and-writes"
	guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" \
		< <(script $mode "$args" write $a $b)
	guest_case "$name-intree-reads-and-writes"
	guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" "${INTREE[@]}" \
		< <(script $mode "$args" write $a $b $c)
	guest_case "$name-project-reads-and-drains"
	guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" \
		< <(script $mode "$args" drain $a $b $c)
done
guest_finish
