#!/usr/bin/env bash
# gcc and g++ under LD_PRELOAD compiling real code — this project's own
# sources (the allocator, its tools, tests, the C++ workload) — compared
# with the same compilations on glibc: every object file and every
# assembly file must be byte-identical, as must the compilers' output.
# -O2 and -O3 (with -g), so cc1's optimisers allocate heavily; also one
# translation unit made of all allocator sources together (a single large
# unit).  LD_DEBUG=bindings (one small compile) checks that cc1's
# malloc/free bind to libtidemalloc.so.
#
#   gcc_project.sh PATH/TO/libtidemalloc.so SOURCE_DIR
source "$(dirname "$0")/common.sh"
real_init "$@"
real_need gcc g++ md5sum
SRC=$(cd "$2" && pwd)
export SRC

compile_all() {
    set -euo pipefail
    mkdir -p obj
    local f base n=0
    local cflags="-fdebug-prefix-map=$PWD=/w -std=gnu11 -I$SRC/include -I$SRC/src -I$SRC/src/core/hooks -I$SRC/src/api/hooks -I$SRC/src/service -I$SRC/tests/common -frandom-seed=tide -D_GNU_SOURCE"
    for f in "$SRC"/src/*/*.c "$SRC"/tools/*.c "$SRC"/tests/stress/*.c "$SRC"/tests/conformance/*.c "$SRC"/tests/common/*.c; do
        [ -f "$f" ] || continue
        # The hardened files build only with TIDE_SECURE; tools' generated header lives in the build tree.
        case "$f" in */src/hardened/*) continue ;; esac
        grep -q 'allocator_table.h' "$f" && continue
        base=$(basename "$(dirname "$f")")_$(basename "$f" .c)
        gcc $cflags -O2 -g -c "$f" -o "obj/$base.o"
        gcc $cflags -O3 -S "$f" -o "obj/$base.O3.s"
        n=$((n + 1))
    done
    for f in "$SRC"/tests/real/cxx_workload.cpp "$SRC"/tests/conformance/cxx_new.cpp "$SRC"/src/api/override_cxx.cc; do
        base=$(basename "$f")
        g++ -fdebug-prefix-map="$PWD"=/w -std=gnu++17 -I"$SRC/include" -I"$SRC/tests/common" -frandom-seed=tide -fsized-deallocation -O2 -g -c "$f" -o "obj/$base.o"
        g++ -std=gnu++17 -I"$SRC/include" -I"$SRC/tests/common" -frandom-seed=tide -fsized-deallocation -O3 -S "$f" -o "obj/$base.O3.s"
        n=$((n + 1))
    done
    # One large translation unit: every allocator source concatenated.
    cat "$SRC"/src/*/*.c >all.c 2>/dev/null
    gcc $cflags -O2 -fno-strict-aliasing -w -S all.c -o obj/all.s || true
    echo "compiled $n files"
    (cd obj && md5sum -- * | sort -k2)
}
export -f compile_all
REAL_NO_LD_DEBUG=1 real_both gcc-project bash -c compile_all
for f in "$WORK"/gcc-project.glibc/obj/*; do
    real_compare_file gcc-project "obj/$(basename "$f")"
done
echo "$(ls "$WORK"/gcc-project.glibc/obj | wc -l) output files compared"
one() { gcc -O2 -I"$SRC/include" -I"$SRC/src" -I"$SRC/src/core/hooks" -D_GNU_SOURCE -c "$SRC/src/core/page_heap.c" -o ph.o && md5sum ph.o; }
export -f one
real_both gcc-bindings bash -c one
real_check_bindings gcc-bindings 'cc1:malloc' 'cc1:free' 'as:malloc'
real_finish
