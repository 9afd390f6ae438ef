#!/usr/bin/env bash
# The full leak check (TIDE_CONF=leak_check:true) against valgrind
# --leak-check=full on a program with known leaks (leaky.c): both must find
# the same leaked blocks (valgrind's "definitely" plus "indirectly lost")
# and the same "possibly lost" (our "maybe leaked").
#   leak_check_valgrind.sh LIBTIDEMALLOC LEAKY
set -euo pipefail
lib=$1 prog=$2
fail() { echo "FAIL: $*" >&2; exit 1; }
out=$(TIDE_CONF=leak_check:true LD_PRELOAD=$lib "$prog" 2>&1 >/dev/null)
echo "$out"
line=$(grep "leak check at exit" <<<"$out") || fail "no leak check report"
re='leaked ([0-9]+) bytes in ([0-9]+) blocks? \(([0-9]+) only pointed to by leaked blocks\); maybe leaked ([0-9]+) bytes in ([0-9]+) blocks?; reached ([0-9]+) bytes in ([0-9]+) block'
[[ $line =~ $re ]] || fail "cannot parse: $line"
t_lb=${BASH_REMATCH[1]} t_ln=${BASH_REMATCH[2]} t_ind=${BASH_REMATCH[3]} t_mb=${BASH_REMATCH[4]} t_mn=${BASH_REMATCH[5]}
t_rn=${BASH_REMATCH[7]}
# Known answer first (leaky.c's header), so the test holds without valgrind.
[ "$t_lb/$t_ln/$t_ind" = "52420/8/4" ] || fail "leaked $t_lb bytes in $t_ln blocks ($t_ind indirect), expected 52420/8/4"
[ "$t_mb/$t_mn" = "300/1" ] || fail "maybe leaked $t_mb/$t_mn, expected 300/1"
[ "$t_rn" -ge 5012 ] || fail "reached $t_rn blocks, expected at least the program's 5012"
for f in leak_small leak_medium leak_large leak_list; do
    grep -q "leaked: .*" <<<"$out" && grep -q "$f" <<<"$out" || fail "no stack names $f"
done
if ! command -v valgrind >/dev/null; then
    echo "SKIP valgrind comparison: valgrind not installed" >&2
    exit 0
fi
vg=$(valgrind --leak-check=full "$prog" 2>&1 >/dev/null)
num() { grep "$1" <<<"$vg" | sed -E 's/.*: ([0-9,]+) bytes in ([0-9,]+) blocks.*/\1 \2/; s/,//g'; }
read -r vd_b vd_n <<<"$(num 'definitely lost:')"
read -r vi_b vi_n <<<"$(num 'indirectly lost:')"
read -r vp_b vp_n <<<"$(num 'possibly lost:')"
echo "valgrind: definitely $vd_b/$vd_n indirectly $vi_b/$vi_n possibly $vp_b/$vp_n"
[ "$((vd_b + vi_b))/$((vd_n + vi_n))" = "$t_lb/$t_ln" ] || fail "leaked differs from valgrind"
[ "$vi_n" = "$t_ind" ] || fail "indirectly leaked: valgrind $vi_n, tidemalloc $t_ind"
[ "$vp_b/$vp_n" = "$t_mb/$t_mn" ] || fail "maybe leaked differs from valgrind's possibly lost"
echo "PASS leak check agrees with valgrind"
