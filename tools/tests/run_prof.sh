# tide run --prof: heap profiles every few samples; the summary and the
# report say how much of RSS is free space inside partly used slabs and
# which sites pin it; sites.csv and the report chart the top sites' live
# bytes over time. On prof_workload's leak, hot_site leads and grows.
source "$(dirname "$0")/lib.sh"
source "$TIDE_TOOLS/tests/prof_lib.sh"
TIDE_CONF=lg_prof_sample:14 "$TIDE" run --prof --interval-ms 100 --out "$WORK/out" -- "$PW" leak 2 \
    >/dev/null 2>"$WORK/err" || fail "tide run: $(cat "$WORK/err")"
cat "$WORK/err"
grep -q "^  pinned       [0-9.]* [KMG]*i*B of RSS is free space inside partly used slabs (at [0-9.]* s, the most of any profile); " \
    "$WORK/err" || fail "no pinned sentence in the summary"
grep -q "^frag_note=.* of RSS is free space inside partly used slabs" "$WORK/out/summary.txt" || fail "summary.txt"
grep -q "<th>pinned (heap profile)</th>" "$WORK/out/report.html" || fail "report.html lacks the pinned row"
grep -q "Top five sites by live bytes, over time" "$WORK/out/report.html" || fail "report.html lacks the sites chart"
check_report "$WORK/out/report.html"
csv=$WORK/out/sites.csv
[[ $(head -1 "$csv") == "t_ms,site,live_bytes,pinned_bytes" ]] || fail "sites.csv header"
(( $(cut -d, -f2 "$csv" | sort -u | wc -l) >= 3 )) || fail "sites.csv has too few sites: $(cat "$csv")"
# hot_site: the most live bytes, and growing (12 MiB a second leaked).
first=$(awk -F, 'NR > 1 && $2 == "\"hot_site\"" && $3 > 0 { print $3; exit }' "$csv")
last=$(awk -F, 'NR > 1 && $2 == "\"hot_site\"" && $3 > 0 { v = $3 } END { print v }' "$csv")
[[ -n $first && -n $last ]] || fail "no hot_site rows: $(cat "$csv")"
(( last > first + 8 * MiB )) || fail "hot_site did not grow: $first -> $last"
# A program whose fragmentation has a known owner (tests/prof/frag_workload.c):
# the sentence names survivor_site first.
FW=$TIDE_BUILD/tests/frag_workload
[[ -x $FW ]] || fail "no $FW"
TIDE_CONF=lg_prof_sample:14 "$TIDE" run --prof --interval-ms 100 --out "$WORK/keeper" -- "$FW" keeper 1200 \
    >/dev/null 2>"$WORK/err2" || fail "tide run keeper: $(cat "$WORK/err2")"
grep "^  pinned " "$WORK/err2"
grep -q "^  pinned       .* of RSS is free space inside partly used slabs (at .*); the sites pinning most are survivor_site (" \
    "$WORK/err2" || fail "keeper: survivor_site is not named first"
ok "tide run --prof: pinned sentence, top sites over time (hot_site $first -> $last bytes)"
