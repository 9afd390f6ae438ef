# tidemalloc — shared helpers for the real-program tests (tests/real/*.sh).
#
# Each test runs a real program twice on the same input: once on glibc's
# malloc and once with LD_PRELOAD=libtidemalloc.so, and requires
#   - identical stdout, stderr and exit status, plus identical output files
#     where the program writes some;
#   - LD_DEBUG=bindings evidence that the program's (and its libraries')
#     malloc & co. resolved into libtidemalloc.so and that none of the
#     allocation entry points bound to another shared library.
# A missing program is an error, never a skip: CI installs them.
#
# Usage inside a test:   source common.sh; real_init "$@"
# shellcheck shell=bash

set -euo pipefail

real_die() {
    echo "FAIL: $*" >&2
    exit 1
}

real_need() {
    local p
    for p in "$@"; do
        command -v "$p" >/dev/null 2>&1 ||
            real_die "required program '$p' is not installed (this test does not skip; install it, e.g. apt-get install python3 gcc g++ sqlite3 coreutils)"
    done
}

# real_init LIB: set TIDE_LIB (absolute) and WORK (a scratch dir removed on exit).
real_init() {
    [ $# -ge 1 ] || real_die "usage: $0 PATH/TO/libtidemalloc.so [...]"
    [ -f "$1" ] || real_die "no such library: $1"
    TIDE_LIB=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/tide-real.XXXXXX")
    if [ -z "${TIDE_KEEP_WORK:-}" ]; then
        trap 'rm -rf "$WORK"' EXIT
    else
        echo "keeping scratch files in $WORK"
    fi
    # A stable environment for both runs.
    export LC_ALL=C TZ=UTC
    unset LD_PRELOAD LD_DEBUG LD_DEBUG_OUTPUT MALLOC_CHECK_ MALLOC_PERTURB_ GLIBC_TUNABLES || true
    REAL_T0=$(date +%s%N)
}

# real_run MODE NAME CMD...: MODE is glibc or tide.  Runs CMD in $WORK/NAME.MODE
# (a fresh directory, the current directory of CMD), saving stdout, stderr
# and the exit status next to it; never fails itself.
real_run() {
    local mode=$1 name=$2
    shift 2
    local dir=$WORK/$name.$mode
    rm -rf "$dir" "$WORK/ld.$name.$mode".*
    mkdir -p "$dir"
    local t0 t1 rc=0
    t0=$(date +%s%N)
    if [ "$mode" = tide ] && [ -n "${REAL_NO_LD_DEBUG:-}" ]; then
        # Many short processes: no LD_DEBUG log per process (check the
        # bindings with a separate, smaller run).
        (cd "$dir" && env LD_PRELOAD="$TIDE_LIB" "$@") \
            >"$WORK/$name.$mode.out" 2>"$WORK/$name.$mode.err" || rc=$?
    elif [ "$mode" = tide ]; then
        (cd "$dir" && env LD_PRELOAD="$TIDE_LIB" LD_DEBUG=bindings \
            LD_DEBUG_OUTPUT="$WORK/ld.$name.$mode" "$@") \
            >"$WORK/$name.$mode.out" 2>"$WORK/$name.$mode.err" || rc=$?
    else
        (cd "$dir" && "$@") >"$WORK/$name.$mode.out" 2>"$WORK/$name.$mode.err" || rc=$?
    fi
    t1=$(date +%s%N)
    echo "$rc" >"$WORK/$name.$mode.rc"
    printf '%-6s %-14s exit %s, %s ms\n' "$mode" "$name" "$rc" "$(((t1 - t0) / 1000000))"
}

# real_both NAME CMD...: run under glibc, then under tidemalloc, and compare.
real_both() {
    local name=$1
    shift
    real_run glibc "$name" "$@"
    real_run tide "$name" "$@"
    real_compare "$name"
}

REAL_FAILED=0

real_fail() {
    echo "FAIL: $*" >&2
    REAL_FAILED=1
}

# real_compare NAME: stdout, stderr and exit status must match; the
# glibc run itself must have succeeded (else the test is broken).
real_compare() {
    local name=$1 g=$WORK/$1.glibc t=$WORK/$1.tide
    if [ "$(cat "$g.rc")" != 0 ]; then
        echo "--- glibc stderr:" >&2
        head -c 4000 "$g.err" >&2
        real_die "$name: the reference run on glibc failed (exit $(cat "$g.rc")): the test itself is broken"
    fi
    if [ "$(cat "$g.rc")" != "$(cat "$t.rc")" ]; then
        real_fail "$name: exit status $(cat "$t.rc") under tidemalloc, $(cat "$g.rc") under glibc"
        echo "--- tidemalloc stderr (head):" >&2
        head -c 4000 "$t.err" >&2
    fi
    if ! cmp -s "$g.out" "$t.out"; then
        real_fail "$name: stdout differs between glibc and tidemalloc"
        diff -u "$g.out" "$t.out" | head -40 >&2 || true
    fi
    if ! cmp -s "$g.err" "$t.err"; then
        real_fail "$name: stderr differs between glibc and tidemalloc"
        diff -u "$g.err" "$t.err" | head -40 >&2 || true
    fi
    [ -s "$g.out" ] || real_fail "$name: the program printed nothing (the test expects output to compare)"
}

# real_compare_file NAME RELPATH: a file the program wrote in its directory.
real_compare_file() {
    local name=$1 rel=$2
    local g=$WORK/$name.glibc/$rel t=$WORK/$name.tide/$rel
    [ -f "$g" ] || { real_fail "$name: glibc run did not produce $rel"; return; }
    [ -f "$t" ] || { real_fail "$name: tidemalloc run did not produce $rel"; return; }
    cmp -s "$g" "$t" || real_fail "$name: $rel differs between glibc and tidemalloc"
}

# Allocation entry points that must never bind to any library other than
# libtidemalloc.so (binding to the executable itself is a canonical PLT
# entry, which forwards to the real definition).
REAL_FAMILY='malloc|free|calloc|realloc|reallocarray|posix_memalign|aligned_alloc|memalign|valloc|pvalloc|malloc_usable_size|free_sized|free_aligned_sized|__libc_malloc|__libc_free|__libc_calloc|__libc_realloc|__libc_memalign|__libc_valloc|__libc_pvalloc|_Znwm|_Znam|_ZnwmRKSt9nothrow_t|_ZnamRKSt9nothrow_t|_ZnwmSt11align_val_t|_ZnamSt11align_val_t|_ZnwmSt11align_val_tRKSt9nothrow_t|_ZnamSt11align_val_tRKSt9nothrow_t|_ZdlPv|_ZdaPv|_ZdlPvm|_ZdaPvm|_ZdlPvSt11align_val_t|_ZdaPvSt11align_val_t|_ZdlPvmSt11align_val_t|_ZdaPvmSt11align_val_t|_ZdlPvRKSt9nothrow_t|_ZdaPvRKSt9nothrow_t|_ZdlPvSt11align_val_tRKSt9nothrow_t|_ZdaPvSt11align_val_tRKSt9nothrow_t'

# real_check_bindings NAME [FILE_REGEX:SYMBOL]...
# Over all LD_DEBUG files of the tidemalloc run of NAME:
#   - some binding of `malloc' and of `free' lands in libtidemalloc.so;
#   - no family symbol binds to another shared object;
#   - for each FILE_REGEX:SYMBOL, an object whose file name (the last path
#     component, as LD_DEBUG prints it) matches FILE_REGEX entirely (an
#     extended regex) has SYMBOL bound to libtidemalloc.so.
real_check_bindings() {
    local name=$1
    shift
    local files=("$WORK/ld.$name.tide".*)
    if [ ! -e "${files[0]}" ]; then
        real_fail "$name: LD_DEBUG=bindings produced no output (is LD_DEBUG_OUTPUT honoured?)"
        return
    fi
    local all=$WORK/ld.$name.bindings
    cat "${files[@]}" | grep -E "binding file .* to .*: normal symbol \`($REAL_FAMILY)'" >"$all" || true
    local lib_re
    lib_re=$(printf '%s' "$TIDE_LIB" | sed 's/[.[\*^$()+?{|]/\\&/g')
    local sym
    for sym in malloc free; do
        grep -qE " to $lib_re \[[0-9]+\]: normal symbol \`$sym'" "$all" ||
            real_fail "$name: no \`$sym' bound to $TIDE_LIB in LD_DEBUG=bindings output"
    done
    # Anything bound to a shared object other than libtidemalloc.so escaped.
    local escaped
    escaped=$(grep -vE " to $lib_re \[[0-9]+\]:" "$all" | grep -E " to [^ ]*\.so[^ ]* \[[0-9]+\]:" || true)
    if [ -n "$escaped" ]; then
        real_fail "$name: allocation entry points bound outside libtidemalloc.so:"
        printf '%s\n' "$escaped" | sed 's/^ *[0-9]*:\t*/    /' | sort -u | head -20 >&2
    fi
    local spec file_re
    for spec in "$@"; do
        file_re=${spec%:*}
        sym=${spec##*:}
        grep -qE "binding file ([^ ]*/)?($file_re) \[[0-9]+\] to $lib_re \[[0-9]+\]: normal symbol \`$sym'" "$all" ||
            real_fail "$name: no binding of \`$sym' from an object matching '$file_re' to libtidemalloc.so"
    done
    local n
    n=$(grep -cE " to $lib_re \[" "$all" || true)
    echo "bindings: $n allocation-symbol bindings into libtidemalloc.so, none elsewhere"
}

real_finish() {
    local ms=$((($(date +%s%N) - REAL_T0) / 1000000))
    if [ "$REAL_FAILED" != 0 ]; then
        echo "$(basename "$0"): FAILED (${ms} ms)" >&2
        exit 1
    fi
    echo "$(basename "$0"): OK (${ms} ms)"
}
