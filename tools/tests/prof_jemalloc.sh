# tide prof reads jemalloc's own heap_v2 files: the workload profiled by
# Debian's libjemalloc2 (built with profiling); tide prof top and jeprof
# agree on the sites and their bytes, and jemalloc's internal frames at
# the top of every stack are cut away (its library is stripped, so they
# cannot be named).
source "$(dirname "$0")/lib.sh"
JE=/usr/lib/${TIDE_MULTIARCH:-x86_64-linux-gnu}/libjemalloc.so.2
[[ -f $JE ]] || fail "no $JE (Debian package libjemalloc2)"
command -v jeprof >/dev/null || fail "jeprof missing (Debian package libjemalloc-dev)"
source "$TIDE_TOOLS/tests/prof_lib.sh"

MALLOC_CONF=prof:true,prof_final:true,lg_prof_sample:16,prof_prefix:$WORK/je \
    LD_PRELOAD=$JE "$PW" run 0 >/dev/null || fail "the workload failed under jemalloc"
heap=$(ls "$WORK"/je.*.heap | head -1)
[[ -s $heap ]] || fail "jemalloc wrote no profile"
jeprof --text "$PW" "$heap" 2>/dev/null > "$WORK/jeprof" || fail "jeprof failed"
"$TIDE" prof top "$heap" > "$WORK/top" || fail "tide prof top failed"
cat "$WORK/jeprof" "$WORK/top"
site="prof_workload.c:$(line_of HOT)"
top_row "$WORK/top" 1 | grep -q " hot_site ($site)\$" || fail "first row: $(top_row "$WORK/top" 1)"
top_row "$WORK/top" 2 | grep -q " warm_site (" || fail "second row: $(top_row "$WORK/top" 2)"
for fn in hot_site warm_site; do
    je=$(awk -v f=$fn '$NF == f { print $1; exit }' "$WORK/jeprof")
    ours=$(awk -v f=$fn '$9 == f && $2 == "MiB" { print $1; exit }' "$WORK/top")
    [[ -n $je && -n $ours ]] || fail "$fn missing (jeprof '$je', tide '$ours')"
    # jeprof prints MB of 2^20 bytes with one decimal, as tide prints MiB
    [[ $je == "$ours" ]] || fail "$fn: jeprof $je MB, tide prof $ours MiB"
done
"$TIDE" prof folded "$heap" > "$WORK/folded"
grep -qx "_start;.*;main;grow;hot_site [0-9]*" "$WORK/folded" || fail "folded: $(cat "$WORK/folded")"
! grep -q 'libjemalloc' "$WORK/folded" || fail "jemalloc's own frames left in: $(cat "$WORK/folded")"
ok "tide prof reads jemalloc's heap_v2 like jeprof"
