# tide run --allocator tide, end to end: live bytes from tidemalloc's
# statistics lines, and the freed wave given back.
source "$(dirname "$0")/lib.sh"
tide_has_stats || skip "this libtidemalloc.so writes no tide-stats lines (stats_fd) yet"

mib=64
known=$(( mib * MiB / 1000 * 1000 ))
"$TIDE" run --allocator tide --interval-ms 50 --out "$WORK/t" \
    -- "$WORKLOAD" $mib 3000 2>"$WORK/err" || { cat "$WORK/err"; fail "tide run failed"; }
cat "$WORK/err"
csv=$WORK/t/timeline.csv
n=$(rows "$csv")
((n >= 10)) || fail "only $n rows"
live=$(col "$csv" live_bytes)
rss=$(col "$csv" rss_bytes)
peak=$(awk -F, 'NR > 1 && $4 > m { m = $4 } END { print m }' "$csv")
within "$live" "$known" 10 || fail "final live $live not within 10% of $known"
(( peak > known * 17 / 10 )) || fail "peak RSS $peak should hold both waves"
(( rss < live * 5 / 4 )) || fail "tidemalloc should give the first wave back: rss $rss live $live"
check_report "$WORK/t/report.html"

# TIDE_CONF already set: tide's keys are appended, the user's kept.
TIDE_CONF=decay_ms:500 "$TIDE" run --quiet --allocator tide --interval-ms 50 --out "$WORK/u" \
    -- sh -c 'echo "$TIDE_CONF" > '"$WORK/conf"'; sleep 0.3'
grep -q '^decay_ms:500,stats_fd:[0-9]*,stats_interval_ms:50$' "$WORK/conf" ||
    fail "TIDE_CONF: $(cat "$WORK/conf")"
ok "tide: $n rows, live $live (known $known), peak $peak, final rss $rss"
