# tide run --allocator jemalloc: RSS only, unless the program reports its
# own live bytes (app-stats).
source "$(dirname "$0")/lib.sh"
lib=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1 || true)
[[ -n $lib ]] || skip "jemalloc not installed (apt-get install libjemalloc2)"

"$TIDE" run --allocator jemalloc --interval-ms 50 --out "$WORK/j" \
    -- "$WORKLOAD" 32 1000 2>"$WORK/err" || { cat "$WORK/err"; fail "tide run failed"; }
cat "$WORK/err"
csv=$WORK/j/timeline.csv
((  $(rows "$csv") >= 10 )) || fail "too few rows"
[[ -z $(col "$csv" live_bytes) ]] || fail "live bytes should be unknown under jemalloc"
grep -q "RSS only" "$WORK/err" || fail "diagnosis should say RSS only"
grep -q "libjemalloc" "$WORK/j/summary.txt" || fail "summary.txt library"
check_report "$WORK/j/report.html"

"$TIDE" run --quiet --allocator jemalloc --interval-ms 50 --out "$WORK/k" \
    -- "$WORKLOAD" --report-live 32 1000
live=$(col "$WORK/k/timeline.csv" live_bytes)
within "$live" $((32 * MiB)) 10 || fail "app-stats live $live"
ok "jemalloc: RSS only; with --report-live, live $live"
