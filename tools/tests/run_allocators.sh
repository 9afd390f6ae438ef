# tide run end to end under every allocator it names: jemalloc, mimalloc
# and tcmalloc report RSS only, or the live bytes the program itself reports
# (app-stats); each run's CSV, summary and report are complete.
source "$(dirname "$0")/lib.sh"
for a in jemalloc mimalloc tcmalloc; do
    "$TIDE" run --quiet --allocator $a --interval-ms 50 --out "$WORK/$a" \
        -- "$WORKLOAD" --report-live 32 1000 2>"$WORK/err" || { cat "$WORK/err"; fail "$a: tide run failed"; }
    csv=$WORK/$a/timeline.csv
    (( $(rows "$csv") >= 10 )) || fail "$a: too few rows"
    live=$(col "$csv" live_bytes)
    within "$live" $((32 * MiB)) 10 || fail "$a: app-stats live $live"
    rss=$(col "$csv" rss_bytes)
    (( rss > 30 * MiB )) || fail "$a: rss $rss"
    grep -q "^allocator=$a" "$WORK/$a/summary.txt" || grep -qi "$a" "$WORK/$a/summary.txt" || fail "$a: summary does not name the allocator"
    check_report "$WORK/$a/report.html"
    ok "$a: live $live, rss $rss"
done
