#!/usr/bin/env bash
# A small C++ program (containers, strings, exceptions, threads, aligned
# types, cross-thread deletes): output must match glibc's run; under
# LD_PRELOAD it must also find tide_stats_get with dlsym and see live
# memory, and operator new/delete must bind to libtidemalloc.so.
#   cxx.sh PATH/TO/libtidemalloc.so PATH/TO/cxx_workload
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"
real_init "$1"
[ $# -ge 2 ] && [ -x "$2" ] || real_die "usage: $0 LIB PATH/TO/cxx_workload"
BIN=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")

real_both cxx "$BIN"
grep -q "cxx workload done" "$WORK/cxx.glibc.out" || real_die "the C++ workload did not finish under glibc"
real_check_bindings cxx "cxx_workload:_Znwm" "cxx_workload:_ZdlPvm" "cxx_workload:_ZnwmSt11align_val_t" "libstdc\+\+\.so[.0-9]*:_Znwm" "libstdc\+\+\.so[.0-9]*:malloc"

# The program itself sees tidemalloc: tide_stats_get is found and reports
# the memory it holds live.
real_run tide cxx-stats "$BIN" --expect-tidemalloc
if [ "$(cat "$WORK/cxx-stats.tide.rc")" != 0 ]; then
    real_fail "cxx --expect-tidemalloc failed: $(head -c 2000 "$WORK/cxx-stats.tide.err")"
fi
cat "$WORK/cxx-stats.tide.err"
real_finish
