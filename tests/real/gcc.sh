#!/usr/bin/env bash
# gcc compiling (and linking, and g++ compiling) generated sources: the
# object files, assembly and the built program's output must be identical
# under glibc and tidemalloc; cc1/cc1plus must allocate through tidemalloc.
#   gcc.sh PATH/TO/libtidemalloc.so
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"
real_init "$@"
real_need gcc g++ awk

# A deterministic C file: many functions with loops, switches, structs and
# arrays, so the optimizer allocates plenty.
SRC=$WORK/gen.c
awk -v NF_=120 'BEGIN {
    print "#include <stdio.h>";
    print "#include <string.h>";
    print "struct rec { int a, b; double c; char name[24]; };";
    for (f = 0; f < NF_; f++) {
        printf "static int table_%d[%d] = {", f, 16 + f % 17;
        for (i = 0; i < 16 + f % 17; i++) printf "%s%d", (i ? ", " : ""), (f * 31 + i * 17) % 1000;
        print "};";
        printf "__attribute__((noinline)) long fn_%d(long x, struct rec *r) {\n", f;
        print "    long acc = x;";
        printf "    for (int i = 0; i < (int)(sizeof table_%d / sizeof table_%d[0]); i++) {\n", f, f;
        printf "        switch ((table_%d[i] + x) %% 7) {\n", f;
        for (c = 0; c < 7; c++)
            printf "        case %d: acc = acc * %d + table_%d[i] - r->a; r->b += (int)(acc & %d); break;\n", c, (c * 3 + f) % 11 + 2, f, 255 - c;
        print "        }";
        printf "        if (acc > %d) acc %%= %d;\n", 100000 + f, 99991 - f;
        print "    }";
        printf "    r->c += (double)acc / %d.0;\n", f + 3;
        printf "    snprintf(r->name, sizeof r->name, \"f%d-%%ld\", acc %% 1000);\n", f;
        if (f > 0) printf "    if (acc %% 3 == 0) acc += fn_%d(acc / 3, r);\n", int(f / 2);
        print "    return acc;";
        print "}";
    }
    print "int main(void) {";
    print "    struct rec r = {1, 2, 0.0, \"\"};";
    print "    long total = 0;";
    for (f = 0; f < NF_; f++) printf "    total += fn_%d(%d, &r); total %%= 1000000007;\n", f, f * 7 + 1;
    print "    printf(\"total %ld b %d c %.3f name %s\\n\", total, r.b, r.c, r.name);";
    print "    return 0;";
    print "}";
}' >"$SRC"

# A C++ source with templates and the standard library.
CXXSRC=$WORK/gen.cpp
{
    echo '#include <map>'
    echo '#include <string>'
    echo '#include <vector>'
    echo '#include <algorithm>'
    echo '#include <cstdio>'
    echo 'template <int N> struct Fib { static constexpr long v = Fib<N - 1>::v + Fib<N - 2>::v; };'
    echo 'template <> struct Fib<0> { static constexpr long v = 0; };'
    echo 'template <> struct Fib<1> { static constexpr long v = 1; };'
    for i in $(seq 0 24); do
        echo "std::map<std::string, std::vector<int>> build_$i(int n) { std::map<std::string, std::vector<int>> m; for (int k = 0; k < n; k++) m[std::to_string(k % ($i + 3))].push_back(k * $i); return m; }"
    done
    echo 'int main() { long t = Fib<60>::v % 1000;'
    for i in $(seq 0 24); do
        echo "  { auto m = build_$i(200); for (auto &kv : m) { std::sort(kv.second.rbegin(), kv.second.rend()); t += kv.second.front() % 97; } }"
    done
    echo '  std::printf("cxx total %ld\n", t); return 0; }'
} >"$CXXSRC"

real_both gcc sh -c 'gcc -O2 -c "$1" -o gen.o && gcc -O2 -S "$1" -o gen.s && gcc -O1 "$1" -o gen && ./gen && g++ -O1 -std=c++17 "$2" -o genxx && ./genxx && g++ -O2 -std=c++17 -S "$2" -o genxx.s && echo compiled' sh "$SRC" "$CXXSRC"
real_compare_file gcc gen.o
real_compare_file gcc gen.s
real_compare_file gcc genxx.s
grep -q '^compiled$' "$WORK/gcc.glibc.out" || real_die "the compile pipeline did not finish under glibc"
real_check_bindings gcc "cc1:malloc" "cc1:free" "cc1plus:malloc" "cc1plus:free" "(x86_64-linux-gnu-)?g(cc|\+\+)(-[0-9]+)?:malloc" "as:malloc"
real_finish
