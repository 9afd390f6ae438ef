#!/usr/bin/env bash
# Heap-profile dumps end to end: every trigger writes
# <prefix>.<pid>.<seq>.<trigger>.heap in jemalloc's heap_v2 format, jeprof
# names the known hot allocation site first, and bad prefixes or a full disk
# give one message while the program runs on.
#   dumps.sh LIBTIDEMALLOC PROF_WORKLOAD
set -euo pipefail
lib=$1 prog=$2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
run() { # run CONF ARGS... -> stdout in $dir/out, stderr in $dir/err
    local conf=$1; shift
    TIDE_CONF=$conf LD_PRELOAD=$lib "$prog" "$@" >"$dir/out" 2>"$dir/err" || fail "exit status $? with $conf"
    grep -q "prof_workload: done" "$dir/out" || fail "program did not finish with $conf"
}
count() { find "$dir" -maxdepth 1 -name "$1" | wc -l; }

# 1. prof:true alone: one dump at exit, heap_v2 with the maps.
run "prof:true,prof_prefix:$dir/a"
[ "$(count 'a.*')" -eq 1 ] || fail "expected exactly one file: $(ls "$dir")"
f=$(find "$dir" -name 'a.*')
[[ $(basename "$f") =~ ^a\.[0-9]+\.0\.exit\.heap$ ]] || fail "file name $(basename "$f")"
[ "$(head -1 "$f")" = "heap_v2/524288" ] || fail "header: $(head -1 "$f")"
grep -q '^MAPPED_LIBRARIES:$' "$f" || fail "no MAPPED_LIBRARIES section"
grep -q "$(basename "$prog")" "$f" || fail "the program is missing from the maps"
[ -s "$dir/err" ] && fail "unexpected stderr: $(cat "$dir/err")"
if command -v jeprof >/dev/null; then
    jeprof --text "$prog" "$f" >"$dir/jeprof" 2>"$dir/jeprof.err" || fail "jeprof: $(cat "$dir/jeprof.err")"
    first=$(awk 'NR>1 && $6 != "" {print $6; exit}' "$dir/jeprof")
    [ "$first" = hot_site ] || fail "jeprof's top function is '$first':$(cat "$dir/jeprof")"
    # 20 MB live at hot_site (200,000 x 100 B, 112 B blocks): the unbiased
    # estimate from ~40 samples lands within 40% with near certainty.
    mb=$(awk '$6 == "hot_site" {print $1}' "$dir/jeprof")
    awk -v m="$mb" 'BEGIN { exit !(m > 13 && m < 32) }' || fail "hot_site estimate $mb MB, expected about 22"
else
    echo "SKIP jeprof check: jeprof not installed (package libjemalloc-dev)" >&2
fi

# 2. Every trigger, in one run: bytes (16 MiB), time (100 ms over a 700 ms
#    sleep), peak (new high-water marks while hot_site grows), manual, exit.
run "prof:true,prof_prefix:$dir/b,lg_prof_interval:24,prof_interval_ms:100,prof_gdump:true" --sleep-ms=700 --manual-dump
for t in bytes time peak manual exit; do
    n=$(count "b.*.$t.heap")
    [ "$n" -ge 1 ] || fail "no $t dump: $(ls "$dir")"
done
[ "$(count 'b.*.bytes.heap')" -ge 4 ] || fail "expected >= 4 dumps for ~86 MB allocated at 16 MiB"
[ "$(count 'b.*.time.heap')" -ge 3 ] || fail "expected >= 3 time dumps in 700 ms at 100 ms"
[ "$(count 'b.*.exit.heap')" -eq 1 ] || fail "expected one exit dump"
manual=$(sed -n 's/^manual dump: //p' "$dir/out")
[ -f "$manual" ] && [[ $manual == *.manual.heap ]] || fail "manual dump path '$manual'"
# Sequence numbers are unique and every file is complete.
seqs=$(find "$dir" -name 'b.*' -printf '%f\n' | cut -d. -f3 | sort -n | uniq -d)
[ -z "$seqs" ] || fail "repeated sequence numbers: $seqs"
for g in "$dir"/b.*; do
    grep -q '^MAPPED_LIBRARIES:$' "$g" || fail "truncated dump $g"
done

# 3. All three formats side by side.
run "prof:true,prof_prefix:$dir/c,prof_format:heap_v2+pprof+folded"
for suffix in heap heap.pb.gz heap.folded; do
    [ "$(count "c.*.exit.$suffix")" -eq 1 ] || fail "no .$suffix file with three formats: $(ls "$dir")"
done
gzip -t "$dir"/c.*.exit.heap.pb.gz || fail "the pprof file is not valid gzip"
grep -q ';hot_site [0-9]*$' "$dir"/c.*.exit.heap.folded || fail "folded stacks lack hot_site"

# 4. The leak summary at exit names the hot site first.
run "prof:true,prof_final:false,prof_leak:true,prof_prefix:$dir/d"
[ "$(count 'd.*')" -eq 0 ] || fail "prof_final:false still dumped"
grep -q "leak summary" "$dir/err" || fail "no leak summary: $(cat "$dir/err")"
grep -m1 -A1 "objects (" "$dir/err" | grep -q hot_site || fail "leak summary does not start with hot_site: $(cat "$dir/err")"

# 5. A directory that does not exist: one message, the program carries on.
run "prof:true,prof_prefix:$dir/missing/x,lg_prof_interval:22"
[ "$(grep -c 'tidemalloc: prof: cannot create profile' "$dir/err")" -eq 1 ] ||
    fail "expected one message: $(cat "$dir/err")"
grep -q "No such file or directory" "$dir/err" || fail "the reason is missing: $(cat "$dir/err")"

# 6. A full disk (a file-size limit, SIGXFSZ ignored): one message, no
#    partial file left behind, the program carries on.
(
    trap '' XFSZ
    ulimit -f 1
    run "prof:true,prof_prefix:$dir/e,lg_prof_interval:22"
)
[ "$(grep -c 'tidemalloc: prof: cannot write profile' "$dir/err")" -eq 1 ] ||
    fail "expected one message for a full disk: $(cat "$dir/err")"
[ "$(count 'e.*')" -eq 0 ] || fail "partial profiles left: $(ls "$dir")"

# 7. A bad option value is reported and ignored.
run "prof:true,prof_prefix:$dir/f,prof_format:xml,lg_prof_sample:99"
grep -q "prof_format:xml" "$dir/err" && grep -q "lg_prof_sample:99" "$dir/err" || fail "bad options not reported: $(cat "$dir/err")"
[ "$(head -1 "$(find "$dir" -name 'f.*' | head -1)")" = "heap_v2/524288" ] || fail "defaults not kept after bad options"
echo "PASS dumps"
