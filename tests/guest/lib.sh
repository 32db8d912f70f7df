# shellcheck shell=bash
# Host-side library for QEMU guest tests. Source it from a case script:
#
#   . "$(dirname "$0")/../lib.sh"      (from tests/guest/cases/*.sh)
#
#   guest_boot KVER WORKDIR GUEST_SCRIPT [options]   boot, run, judge
#   guest_shell KVER WORKDIR [options]               interactive debugging
#   guest_case NAME / guest_check CMD / guest_finish PASS/FAIL bookkeeping
#   guest_case_env NAME                              WC_KVER/WC_WORKDIR defaults
#
# guest_boot boots KVER under TCG with the initramfs from initramfs.sh and
# runs GUEST_SCRIPT (a file, or "-" for stdin) in the guest with "sh -e"
# (dash, with guest-lib.sh sourced). It returns 0 on success. Options: see
# guest_boot_usage.
#
# Disk images (WORKDIR/NAME.img) and the pmem image (WORKDIR/pmem.img)
# persist across boots of the same WORKDIR, so a later guest_boot can check
# what an earlier one left behind. Disks use cache=writeback: writes that
# reached QEMU survive QEMU being SIGKILLed (they sit in the host page
# cache), and guest FLUSH/FUA become fsync. A --kill-after "crash" therefore
# loses only what the guest had not yet submitted to the virtual disk (its
# page cache, a target's in-memory state...), never data the virtual disk
# acknowledged, flushed or not. The pmem image is a MAP_SHARED file: same.
# (To lose unflushed writes, stack dm-log-writes/dm-flakey in the guest.)
#
# After guest_boot returns (success or not):
#   GUEST_SHARE        the 9p share of that boot: output.log, rc, dmesg.log,
#                      init.log and whatever the guest script wrote to /host
#   GUEST_CONSOLE      its console log (WORKDIR/console-N.log)
#   GUEST_BOOT_NUM     N, counting boots of this WORKDIR from 1
#   GUEST_BOOT_SECS    seconds the VM ran
#   GUEST_FAIL_REASON  why it failed (empty on success)
#
# guest_boot installs INT/TERM/EXIT traps that kill running VMs; a case that
# needs its own EXIT trap should call _guest_kill_all from it.

# shellcheck disable=SC2034  # GUEST_* results are for the sourcing script
[[ -n ${_GUEST_LIB_LOADED:-} ]] && return 0
_GUEST_LIB_LOADED=1

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST_ROOT_DIR=$(cd "$GUEST_DIR/../.." && pwd)
GUEST_BUILD_DIR=${GUEST_BUILD_DIR:-$GUEST_ROOT_DIR/build/guest}
export GUEST_BUILD_DIR

# Kernel log lines that fail a boot when they show up in the console or
# dmesg. Only timestamped (kernel) lines count, so user-space output copied
# to the console (--tee), e.g. lvm's "WARNING: ...", does not.
GUEST_BUG_REGEX='^\[ *[0-9]+\.[0-9]+\] .*(Oops|BUG:|WARNING:|Call Trace|Kernel panic|general protection fault)'

# After the first bug line, give the guest this long to finish on its own
# (an Oops often wedges the task that hit it) before killing it.
GUEST_BUG_GRACE_SECS=${GUEST_BUG_GRACE_SECS:-20}

guest_log() { echo "guest: $*" >&2; }

guest_boot_usage() {
    cat >&2 <<'EOF'
usage: guest_boot KVER WORKDIR GUEST_SCRIPT [options]
  GUEST_SCRIPT           guest shell script file, or - for stdin
  --disk NAME:SIZE_MiB   virtio disk backed by WORKDIR/NAME.img (created
                         sparse if missing, kept across boots); disks appear
                         as /dev/vda, /dev/vdb... in option order and carry
                         serial NAME (guest-lib: disk NAME)
  --pmem SIZE_MiB        emulated nvdimm backed by WORKDIR/pmem.img (kept
                         across boots, an existing one keeps its size); the
                         guest sees it as fsdax, DAX-capable /dev/pmem0
  --pmem-volatile        back the --pmem nvdimm with preallocated guest-private
                         RAM instead of the file: nothing persists, and the
                         host's page cache stays out of the way (benchmarks)
  --virtio-pmem SIZE_MiB a virtio-pmem device backed by WORKDIR/vpmem.img:
                         DAX-capable but asynchronous (host flushes through
                         the virtio queue); guest-lib: virtio_pmem_dev
  --modules "A.ko B.ko"  project modules to insmod, in this order (default:
                         $WC_MODULE if set; "" for none)
  --intree | --no-intree load the kernel's own dm-writecache / make loading
                         it fail (default: $WC_USE_INTREE if set, else
                         in-tree iff there are no --modules)
  --intree-swap          the project modules are loaded and the in-tree
                         dm-writecache may be loaded in their place:
                         guest-lib's use_intree / use_project swap them
  --timeout SEC          kill the VM and fail after SEC seconds (default 600)
  --kill-after SEC       SIGKILL the VM after SEC seconds (a crash); the boot
                         succeeds iff it was killed as planned, the script had
                         not failed by then, and no kernel bug was logged.
                         The guest idles after the script ends.
  --kill-from-mark       count --kill-after from when the guest script
                         creates /host/kill-clock, not from the VM's start
  --env NAME=VALUE       export NAME in the guest (repeatable); WC_* host
                         variables are exported automatically
  --file PATH            copy PATH into the share (guest: /host/BASENAME)
  --mem MiB              guest RAM (default 2048)
  --smp N                vCPUs (default 2)
  --append ARGS          extra kernel command line
  --allow REGEX          kernel bug lines matching REGEX are tolerated (for
                         tests that provoke warnings on purpose)
  --xtrace               run the guest script with sh -x (also: GUEST_XTRACE=1
                         in the environment, e.g. for a whole run-suite.sh)
  --tee                  also copy the guest script's output to the console
                         (also: GUEST_TEE=1)
EOF
}

# ---------------------------------------------------------------------------
# small helpers

# milliseconds since the epoch, without forking
_guest_now_ms() {
    local us=${EPOCHREALTIME/./}
    echo $((us / 1000))
}

_guest_fmt_secs() {
    local ms=$1
    printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

# Single-quote a value for the guest's sh.
_guest_shquote() {
    local s=$1
    printf "'%s'" "${s//\'/\'\\\'\'}"
}

# Number of the next boot in WORKDIR (1 for a fresh one).
_guest_next_boot_num() {
    local dir=$1 n=1
    while [[ -e $dir/console-$n.log ]]; do
        n=$((n + 1))
    done
    echo "$n"
}

guest_kernel_dir() { echo "$GUEST_BUILD_DIR/kernels/$1"; }

# Fetch the kernel and (re)build the initramfs if needed; quiet when cached.
guest_prepare() {
    local kver=$1
    "$GUEST_DIR/kernels.sh" fetch "$kver" || return 1
    "$GUEST_DIR/initramfs.sh" "$kver" >/dev/null || return 1
}

# Print the kernel bug lines of a log, minus the --allow'ed ones.
_guest_bug_lines() {
    local file=$1 allow=$2
    [[ -f $file ]] || return 0
    if [[ -n $allow ]]; then
        grep -a -n -E "$GUEST_BUG_REGEX" "$file" | grep -a -v -E "$allow" || true
    else
        grep -a -n -E "$GUEST_BUG_REGEX" "$file" || true
    fi
}

# ---------------------------------------------------------------------------
# VM bookkeeping: kill VMs we started if the case is interrupted

_GUEST_PIDS=()
_guest_track_pid() {
    _GUEST_PIDS+=("$1")
    trap '_guest_kill_all; exit 130' INT
    trap '_guest_kill_all; exit 143' TERM
    trap '_guest_kill_all' EXIT
}
_guest_untrack_pid() {
    local p keep=()
    for p in "${_GUEST_PIDS[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    _GUEST_PIDS=("${keep[@]}")
}
_guest_kill_all() {
    local p
    for p in "${_GUEST_PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null || true
    done
    _GUEST_PIDS=()
}

# ---------------------------------------------------------------------------
# guest_boot pieces. Parsed options live in _GB_* globals for the duration
# of one guest_boot call.

_guest_parse_opts() {
    _GB_DISKS=() _GB_ENVS=() _GB_FILES=()
    _GB_PMEM="" _GB_PMEM_VOLATILE="" _GB_VPMEM="" _GB_MODULES=${WC_MODULE:-} _GB_TIMEOUT=600 _GB_KILL_AFTER="" _GB_KILL_MARK=""
    _GB_MEM=2048 _GB_SMP=2 _GB_APPEND="" _GB_ALLOW=""
    _GB_XTRACE=${GUEST_XTRACE:-0} _GB_TEE=${GUEST_TEE:-0}
    _GB_INTREE=${WC_USE_INTREE:-}
    while [[ $# -gt 0 ]]; do
        case $1 in
            --disk) _GB_DISKS+=("$2"); shift 2 ;;
            --pmem) _GB_PMEM=$2; shift 2 ;;
            --virtio-pmem) _GB_VPMEM=$2; shift 2 ;;
            --pmem-volatile) _GB_PMEM_VOLATILE=1; shift ;;
            --modules) _GB_MODULES=$2; shift 2 ;;
            --intree) _GB_INTREE=1; shift ;;
            --no-intree) _GB_INTREE=0; shift ;;
            --intree-swap) _GB_INTREE=swap; shift ;;
            --timeout) _GB_TIMEOUT=$2; shift 2 ;;
            --kill-after) _GB_KILL_AFTER=$2; shift 2 ;;
            --kill-from-mark) _GB_KILL_MARK=1; shift ;;
            --env) _GB_ENVS+=("$2"); shift 2 ;;
            --file) _GB_FILES+=("$2"); shift 2 ;;
            --mem) _GB_MEM=$2; shift 2 ;;
            --smp) _GB_SMP=$2; shift 2 ;;
            --append) _GB_APPEND+=" $2"; shift 2 ;;
            --allow) _GB_ALLOW=${_GB_ALLOW:+$_GB_ALLOW|}$2; shift 2 ;;
            --xtrace) _GB_XTRACE=1; shift ;;
            --tee) _GB_TEE=1; shift ;;
            *) echo "guest_boot: unknown option '$1'" >&2; guest_boot_usage; return 2 ;;
        esac
    done
    local v
    for v in "$_GB_TIMEOUT" "$_GB_MEM" "$_GB_SMP" ${_GB_PMEM:+"$_GB_PMEM"} ${_GB_VPMEM:+"$_GB_VPMEM"} ${_GB_KILL_AFTER:+"$_GB_KILL_AFTER"}; do
        [[ $v =~ ^[0-9]+$ ]] || { echo "guest_boot: '$v' is not a whole number" >&2; return 2; }
    done
    if [[ -z $_GB_INTREE ]]; then
        [[ -n ${_GB_MODULES// /} ]] && _GB_INTREE=0 || _GB_INTREE=1
    fi
}

# Fill SHARE with case.sh, guest-lib.sh, modules/ and --file's.
# (These helpers report problems in _GB_ERR.)
_guest_fill_share() {
    local share=$1 script=$2 m f
    rm -rf "$share"
    mkdir -p "$share/modules"
    : >"$share/modules/order"
    if [[ -n ${_GUEST_INTERACTIVE:-} ]]; then
        :   # no case.sh: the guest's init drops to a shell
    elif [[ $script == - ]]; then
        cat >"$share/case.sh"
    else
        [[ -f $script ]] || { _GB_ERR="guest script '$script' not found"; return 1; }
        cp "$script" "$share/case.sh"
    fi
    cp "$GUEST_DIR/guest-lib.sh" "$share/guest-lib.sh"
    for m in $_GB_MODULES; do
        [[ -f $m ]] || { _GB_ERR="module '$m' not found"; return 1; }
        cp "$m" "$share/modules/"
        basename "$m" >>"$share/modules/order"
    done
    for f in "${_GB_FILES[@]}"; do
        [[ -e $f ]] || { _GB_ERR="--file '$f' not found"; return 1; }
        cp -r "$f" "$share/"
    done
}

# QEMU args for the --disk's; creates missing images. Sets _GB_DISK_NAMES.
_GB_QEMU_DISKS=()
_guest_disk_args() {
    local workdir=$1 d name size img idx=0
    _GB_QEMU_DISKS=()
    _GB_DISK_NAMES=()
    for d in "${_GB_DISKS[@]}"; do
        name=${d%%:*}
        size=${d#*:}
        if [[ $d != *:* || ! $name =~ ^[A-Za-z0-9_-]+$ || ! $size =~ ^[0-9]+$ || $name == pmem ]]; then
            _GB_ERR="bad --disk '$d' (want NAME:SIZE_MiB, NAME not 'pmem')"
            return 1
        fi
        img=$workdir/$name.img
        [[ -f $img ]] || truncate -s "${size}M" "$img"
        _GB_DISK_NAMES+=("$name")
        _GB_QEMU_DISKS+=(-drive "file=$img,format=raw,if=none,id=disk$idx,cache=writeback,discard=unmap,aio=threads"
                         -device "virtio-blk-pci,drive=disk$idx,serial=$name")
        idx=$((idx + 1))
    done
}

# QEMU args for --pmem and the memory layout it needs. Sets _GB_MAXMEM.
_GB_QEMU_PMEM=()
_guest_pmem_args() {
    local workdir=$1 img=$1/pmem.img bytes
    _GB_QEMU_PMEM=()
    _GB_MAXMEM=$((_GB_MEM + 1024))
    if [[ -n $_GB_VPMEM ]]; then
        local vimg=$workdir/vpmem.img
        [[ -f $vimg ]] || truncate -s "${_GB_VPMEM}M" "$vimg"
        bytes=$(stat -c %s "$vimg")
        _GB_MAXMEM=$((_GB_MAXMEM + bytes / 1048576))
        _GB_QEMU_PMEM+=(-object "memory-backend-file,id=vpmem0,share=on,mem-path=$vimg,size=$bytes"
                        -device "virtio-pmem-pci,memdev=vpmem0,id=vpmem0")
    fi
    [[ -n $_GB_PMEM ]] || return 0
    if [[ -n $_GB_PMEM_VOLATILE ]]; then
        _GB_MAXMEM=$((_GB_MAXMEM + _GB_PMEM))
        _GB_QEMU_PMEM+=(-object "memory-backend-ram,id=pmem0,size=${_GB_PMEM}M,prealloc=on"
                        -device "nvdimm,id=nvdimm0,memdev=pmem0")
        return 0
    fi
    [[ -f $img ]] || truncate -s "${_GB_PMEM}M" "$img"
    # an existing image keeps its size: it holds the namespace layout
    bytes=$(stat -c %s "$img")
    _GB_MAXMEM=$((_GB_MAXMEM + bytes / 1048576))
    _GB_QEMU_PMEM+=(-object "memory-backend-file,id=pmem0,share=on,mem-path=$img,size=$bytes"
                    -device "nvdimm,id=nvdimm0,memdev=pmem0")
}

# The guest's environment (sourced by init with set -a).
_guest_write_env() {
    local share=$1 kver=$2 boot=$3 v
    {
        # WC_* from the host first so the explicit settings below win
        while IFS= read -r v; do
            echo "${v%%=*}=$(_guest_shquote "${v#*=}")"
        done < <(env | grep -E '^WC_[A-Za-z0-9_]*=' | grep -v -E '^WC_(MODULE|USE_INTREE|WORKDIR)=' || true)
        echo "WC_TARGET=$(_guest_shquote "${WC_TARGET:-writecache}")"
        echo "WC_USE_INTREE=$_GB_INTREE"
        echo "WC_KVER=$(_guest_shquote "$kver")"
        echo "WC_MODULES=$(_guest_shquote "$(tr '\n' ' ' <"$share/modules/order")")"
        echo "GUEST_BOOT=$boot"
        echo "GUEST_DISKS=$(_guest_shquote "${_GB_DISK_NAMES[*]}")"
        echo "GUEST_XTRACE=$_GB_XTRACE"
        echo "GUEST_TEE_CONSOLE=$_GB_TEE"
        echo "GUEST_WAIT_FOR_KILL=$([[ -n $_GB_KILL_AFTER ]] && echo 1 || echo 0)"
        # for guest-lib's no_kernel_bugs (phases of a boot before --allow'ed ones)
        echo "GUEST_BUG_REGEX=$(_guest_shquote "$GUEST_BUG_REGEX")"
        for v in "${_GB_ENVS[@]}"; do
            [[ $v == *=* && ${v%%=*} =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] ||
                { echo "guest_boot: ignoring bad --env '$v'" >&2; continue; }
            echo "${v%%=*}=$(_guest_shquote "${v#*=}")"
        done
    } >"$share/env"
}

# Build the QEMU command line into _GB_QEMU.
_guest_qemu_cmd() {
    local kver=$1 share=$2
    local kdir
    kdir=$(guest_kernel_dir "$kver")
    # loglevel=4 keeps the boot quiet (serial output costs time under TCG);
    # /init raises it to 7 before the case runs. rdrand + trust_cpu seed the
    # CRNG at once; otherwise the first getrandom() (ndctl's uuid) stalls
    # ~1.5 s. TCG runs the guest 10-50x slower than hardware and the host may
    # be busy, so the RCU-stall (21 s) and soft-lockup (20 s) detectors get
    # more slack; real hangs are still reported, later. GUEST_NO_SHELL
    # reaches /init as an environment variable.
    local cmdline="console=ttyS0 panic=-1 loglevel=4 random.trust_cpu=on edd=off"
    cmdline+=" rcupdate.rcu_cpu_stall_timeout=60 watchdog_thresh=30"
    [[ -z ${_GUEST_INTERACTIVE:-} ]] && cmdline+=" GUEST_NO_SHELL=1"
    cmdline+=$_GB_APPEND
    # shellcheck disable=SC2054  # commas are inside QEMU option values
    _GB_QEMU=(qemu-system-x86_64 -accel tcg -cpu qemu64,+rdrand
        -machine q35,nvdimm=on -m "${_GB_MEM}M,slots=2,maxmem=${_GB_MAXMEM}M" -smp "$_GB_SMP"
        -nodefaults -no-user-config -nographic -no-reboot
        -kernel "$kdir/vmlinuz" -initrd "$GUEST_BUILD_DIR/initramfs-$kver.cpio.gz"
        -append "$cmdline"
        -fsdev "local,id=fs0,path=$share,security_model=none"
        -device "virtio-9p-pci,fsdev=fs0,mount_tag=host"
        "${_GB_QEMU_DISKS[@]}" "${_GB_QEMU_PMEM[@]}")
}

# Run _GB_QEMU with the console in CONSOLE under a watchdog. Polling (rather
# than timeout(1)) tells a planned kill, a timeout and a wedged-after-a-bug
# guest apart. Sets _GB_OUTCOME (exited|killed|timeout|bug), _GB_QEMU_RC and
# GUEST_BOOT_SECS.
#
# --kill-after counts from the VM's start; with --kill-from-mark, from when
# the guest script creates /host/kill-clock: a case that starts the clock
# with its workload is killed during the workload however slowly a busy
# host boots the guest and runs its set-up.
_guest_run_vm() {
    local console=$1 share=$2
    local start now elapsed bug_at="" pid clock
    rm -f "$share/kill-clock"
    start=$(_guest_now_ms)
    clock=$start
    [[ -n $_GB_KILL_MARK ]] && clock=""
    "${_GB_QEMU[@]}" -serial stdio </dev/null >"$console" 2>&1 &
    pid=$!
    _guest_track_pid "$pid"
    _GB_OUTCOME=exited
    while kill -0 "$pid" 2>/dev/null; do
        sleep 0.2
        now=$(_guest_now_ms)
        elapsed=$((now - start))
        if [[ -z $clock && -e $share/kill-clock ]]; then
            clock=$now
        fi
        if [[ -n $_GB_KILL_AFTER && -n $clock ]] && ((now - clock >= _GB_KILL_AFTER * 1000)); then
            _GB_OUTCOME=killed
        elif ((elapsed >= _GB_TIMEOUT * 1000)); then
            _GB_OUTCOME=timeout
        elif [[ -z $bug_at && -n $(_guest_bug_lines "$console" "$_GB_ALLOW") ]]; then
            # a panic reboots and -no-reboot ends QEMU; an Oops may wedge
            bug_at=$elapsed
        elif [[ -n $bug_at ]] && ((elapsed - bug_at >= GUEST_BUG_GRACE_SECS * 1000)); then
            _GB_OUTCOME=bug
        fi
        if [[ $_GB_OUTCOME != exited ]]; then
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
    done
    _GB_QEMU_RC=0
    wait "$pid" 2>/dev/null || _GB_QEMU_RC=$?
    _guest_untrack_pid "$pid"
    GUEST_BOOT_SECS=$(_guest_fmt_secs $(($(_guest_now_ms) - start)))
}

_guest_report_failure() {
    local reason=$1 share=$2 console=$3 bugs=${4:-}
    GUEST_FAIL_REASON=$reason
    echo "guest_boot FAILED: $reason" >&2
    echo "  console: $console" >&2
    echo "  share:   $share" >&2
    if [[ -s $share/init.log ]] && grep -q FAILED "$share/init.log"; then
        echo "---- init.log ----" >&2
        cat "$share/init.log" >&2
    fi
    if [[ -f $share/output.log ]]; then
        echo "---- tail of output.log ----" >&2
        sed '/^==== dmesg (appended by init) ====$/,$d' "$share/output.log" | tail -n 40 >&2
    else
        echo "---- (no output.log) ----" >&2
    fi
    if [[ -n $bugs ]]; then
        echo "---- kernel bug lines ----" >&2
        head -n 20 <<<"$bugs" >&2
        # the first report with context: the trace follows the headline
        local first
        first=$(grep -a -n -m1 -E "$GUEST_BUG_REGEX" "$console" | cut -d: -f1 || true)
        if [[ -n $first ]]; then
            echo "---- console around line $first ----" >&2
            sed -n "$((first > 5 ? first - 5 : 1)),$((first + 40))p" "$console" >&2
        fi
    elif [[ -f $console ]]; then
        echo "---- tail of console ----" >&2
        tail -n 25 "$console" >&2
    fi
}

# Decide whether the finished boot passed; prints the reason if not.
_guest_verdict() {
    local share=$1 console=$2
    local bugs rc
    bugs=$(_guest_bug_lines "$console" "$_GB_ALLOW")
    [[ -z $bugs ]] && bugs=$(_guest_bug_lines "$share/dmesg.log" "$_GB_ALLOW" | sed 's/^/dmesg.log:/')
    if [[ -n $bugs ]]; then
        _guest_report_failure "kernel bug reported" "$share" "$console" "$bugs"
        return 1
    fi
    rc=$(cat "$share/rc" 2>/dev/null || true)
    case $_GB_OUTCOME in
        timeout)
            _guest_report_failure "timeout after ${_GB_TIMEOUT}s" "$share" "$console"
            return 1 ;;
        killed)
            if [[ -n $rc && $rc != 0 ]]; then
                _guest_report_failure "guest script failed (rc=$rc) before the planned kill" "$share" "$console"
                return 1
            fi
            return 0 ;;
    esac
    if [[ -n $_GB_KILL_AFTER ]]; then
        _guest_report_failure "VM exited (qemu rc=$_GB_QEMU_RC) before --kill-after ${_GB_KILL_AFTER}s" "$share" "$console"
        return 1
    fi
    case $rc in
        0) return 0 ;;
        "") _guest_report_failure "guest script did not finish (no rc; qemu rc=$_GB_QEMU_RC)" "$share" "$console" ;;
        125) _guest_report_failure "guest setup failed (see init.log)" "$share" "$console" ;;
        *) _guest_report_failure "guest script exited with $rc" "$share" "$console"
           [[ $_GB_XTRACE == 1 ]] ||
               echo "  (to see which command failed: --xtrace, or GUEST_XTRACE=1 in the environment)" >&2 ;;
    esac
    return 1
}

# ---------------------------------------------------------------------------
# public API

# guest_boot KVER WORKDIR GUEST_SCRIPT [options] -- see guest_boot_usage.
guest_boot() {
    if [[ $# -lt 3 ]]; then
        guest_boot_usage
        return 2
    fi
    local kver=$1 workdir=$2 script=$3
    shift 3
    GUEST_FAIL_REASON="" GUEST_SHARE="" GUEST_CONSOLE="" GUEST_BOOT_SECS="" GUEST_BOOT_NUM=""
    _guest_parse_opts "$@" || return 2

    if ! guest_prepare "$kver"; then
        GUEST_FAIL_REASON="cannot prepare kernel $kver"
        echo "guest_boot FAILED: $GUEST_FAIL_REASON" >&2
        return 1
    fi

    mkdir -p "$workdir"
    workdir=$(cd "$workdir" && pwd)
    local n share console
    n=$(_guest_next_boot_num "$workdir")
    share=$workdir/share-$n
    console=$workdir/console-$n.log
    GUEST_BOOT_NUM=$n GUEST_SHARE=$share GUEST_CONSOLE=$console
    : >"$console"

    _GB_ERR=""
    if ! _guest_fill_share "$share" "$script" || ! _guest_disk_args "$workdir"; then
        _guest_report_failure "$_GB_ERR" "$share" "$console"
        return 1
    fi
    _guest_pmem_args "$workdir"
    _guest_write_env "$share" "$kver" "$n"
    _guest_qemu_cmd "$kver" "$share"

    if [[ -n ${_GUEST_INTERACTIVE:-} ]]; then
        rm -f "$console"
        "${_GB_QEMU[@]}" -serial mon:stdio
        return
    fi
    # for reproducing a boot by hand (use -serial mon:stdio for a terminal)
    printf '%q ' "${_GB_QEMU[@]}" -serial stdio >"$workdir/qemu-$n.cmd"
    echo >>"$workdir/qemu-$n.cmd"

    guest_log "boot $n of $(basename "$workdir") on $kver${_GB_KILL_AFTER:+ (kill after ${_GB_KILL_AFTER}s)}"
    local attempt
    for attempt in 1 2 3; do
        _guest_run_vm "$console" "$share"
        guest_log "boot $n finished after ${GUEST_BOOT_SECS}s${_GB_OUTCOME:+ ($_GB_OUTCOME)}"
        # A kernel that dies before the case script runs has not met the
        # test yet: under TCG with several vCPUs, 6.12 occasionally takes
        # a stray int3 while patching its own text (a cross-modifying code
        # race of MTTCG), during boot or while /init sets up the devices
        # (seen in ndctl).  The disks are untouched until case.sh starts,
        # and /init's setup runs the same on every boot, so boot again,
        # keeping the failed console for the record.  Once /init runs,
        # only that int3 signature counts: any other bug fails the boot.
        if [[ $attempt -lt 3 ]] && ! grep -q 'guest-init: running case.sh' "$console" &&
            [[ -n $(_guest_bug_lines "$console" "$_GB_ALLOW") ]] &&
            { ! grep -q 'guest-init:' "$console" || grep -q 'Oops: int3' "$console"; }; then
            mv "$console" "$console.early-crash-$attempt"
            guest_log "boot $n: the kernel crashed before the case script ran; booting again (console kept in $(basename "$console").early-crash-$attempt)"
            : >"$console"
            continue
        fi
        break
    done
    _guest_verdict "$share" "$console"
}

# guest_shell KVER WORKDIR [guest_boot options]: interactive debugging. Same
# setup as guest_boot (disks, pmem, modules, env) but no case script: the
# guest drops to a shell on this terminal with guest-lib.sh loaded.
# "poweroff -f" (or Ctrl-A X) ends it.
guest_shell() {
    [[ $# -ge 2 ]] || { echo "usage: guest_shell KVER WORKDIR [guest_boot options]" >&2; return 2; }
    local kver=$1 workdir=$2
    shift 2
    _GUEST_INTERACTIVE=1 guest_boot "$kver" "$workdir" "" "$@"
}

# --- case bookkeeping -------------------------------------------------------

_GUEST_CASE_NAME=""
_GUEST_CASE_FAILED=0

# guest_case NAME: start a named check (ends the previous one).
guest_case() {
    [[ -n $_GUEST_CASE_NAME ]] && guest_case_end
    _GUEST_CASE_NAME=$1
    _GUEST_CASE_FAILED=0
    echo "=== $1" >&2
}

# guest_check CMD...: run CMD; if it fails, mark the current case failed and
# carry on (returns 0, so "set -e" scripts still reach the later checks and
# guest_finish). Use "CMD || exit 1" where later checks make no sense.
guest_check() {
    if ! "$@"; then
        _GUEST_CASE_FAILED=1
        GUEST_ANY_FAILED=1
    fi
    return 0
}

# guest_case_fail MSG: mark the current case failed.
guest_case_fail() {
    echo "guest_case: $*" >&2
    _GUEST_CASE_FAILED=1
    GUEST_ANY_FAILED=1
}

# guest_case_end: print "PASS name" or "FAIL name" for the current case.
guest_case_end() {
    [[ -n $_GUEST_CASE_NAME ]] || return 0
    if [[ $_GUEST_CASE_FAILED == 0 ]]; then
        echo "PASS $_GUEST_CASE_NAME"
    else
        echo "FAIL $_GUEST_CASE_NAME"
    fi
    _GUEST_CASE_NAME=""
}

# guest_finish: end the current case; returns nonzero if any check failed
# (use it as a case script's last command).
guest_finish() {
    guest_case_end
    [[ ${GUEST_ANY_FAILED:-0} == 0 ]]
}

# guest_case_env NAME: defaults a case needs from run-suite.sh, so a case
# script also runs by hand: WC_KVER (first of "kernels.sh list") and a fresh
# WC_WORKDIR (build/guest/work/KVER/NAME, wiped: disk images must not leak
# from an earlier run).
guest_case_env() {
    local case_name=$1
    : "${WC_KVER:=$("$GUEST_DIR/kernels.sh" list | head -n1)}"
    if [[ -z ${WC_WORKDIR:-} ]]; then
        WC_WORKDIR=$GUEST_BUILD_DIR/work/$WC_KVER/$case_name
        rm -rf "$WC_WORKDIR"
    fi
    mkdir -p "$WC_WORKDIR"
    export WC_KVER WC_WORKDIR
}
