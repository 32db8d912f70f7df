#!/bin/bash
# On-disk compatibility with the in-tree dm-writecache, both ways, both
# modes: a cache written (and committed, not written back) by one target is
# read correctly by the other, which adds to it; the first one reads all
# of it again, and the project's target drains it to the origin.  Also
# with 512-byte blocks and an odd start_sector (s), and a start_sector (p).
# All the steps share one boot (see below): the format is what is tested,
# and the devices keep it across the swap of the two targets.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
guest_case_env 30-compat
DEVS=(--disk cache:64 --disk origin:256 --pmem 64)

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
# All variants in one boot: the in-tree target and the project's module are
# swapped between the steps (both are dm_writecache to the kernel), and
# every step creates its own table on the devices the last one removed.
# The variants share the devices: each first step zeroes the cache's
# first MiB (a blank cache, formatted anew), and each variant has its own
# patterns at its own offsets on the origin.
guest_case compat
guest_check guest_boot "$WC_KVER" "$WC_WORKDIR" - "${DEVS[@]}" --intree-swap \
	< <(
		for v in "${variants[@]}"; do
			IFS='|' read -r mode args off <<<"$v"
			name=$mode-$(echo "$args" | tr ' ' '-')
			a=a$off:$((off + 8)) b=b$off:$((off + 16)) c=c$off:$((off + 24))
			echo "log '=== $name'"
			echo 'use_intree; log "step: intree-writes"'
			script $mode "$args" first $a
			echo 'use_project; log "step: project-reads-and-writes"'
			script $mode "$args" write $a $b
			echo 'use_intree; log "step: intree-reads-and-writes"'
			script $mode "$args" write $a $b $c
			echo 'use_project; log "step: project-reads-and-drains"'
			script $mode "$args" drain $a $b $c
		done
	)
guest_finish
