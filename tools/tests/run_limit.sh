# tide run under a memory limit: the limit reaches the timeline (a column),
# the RSS chart (a dashed line) and the summary, which says how close the
# process came; without a limit none of them mentions one.
source "$(dirname "$0")/lib.sh"
TIDE_CONF=limit_soft:400M,limit_hard:1G "$TIDE" run --interval-ms 50 --out "$WORK/lim" -- \
    "$WORKLOAD" 64 300 2>"$WORK/err" || fail "tide run: $(cat "$WORK/err")"
[ "$(col "$WORK/lim/timeline.csv" limit_soft_bytes)" = $((400 << 20)) ] || fail "timeline: limit_soft_bytes $(col "$WORK/lim/timeline.csv" limit_soft_bytes)"
[ "$(col "$WORK/lim/timeline.csv" limit_hard_bytes)" = $((1 << 30)) ] || fail "timeline: limit_hard_bytes"
line=$(grep '^  limit ' "$WORK/err") || fail "the summary has no limit line: $(cat "$WORK/err")"
pct=$(sed -n 's/.*soft 400.0 MiB, hard 1.00 GiB: peak RSS came to \([0-9]*\)% of the soft limit$/\1/p' <<<"$line")
[ -n "$pct" ] || fail "limit line: $line"
peak=$(sed -n 's/^  peak RSS     \([0-9.]*\) MiB.*/\1/p' "$WORK/err")
awk -v p="$peak" -v q="$pct" 'BEGIN { e = 100 * p / 400; d = e - q; if (d < 0) d = -d; exit !(d <= 1) }' ||
    fail "peak $peak MiB is not $pct% of 400 MiB"
grep -q '<th>memory limit</th><td class="diag">soft 400.0 MiB, hard 1.00 GiB: peak RSS came to' "$WORK/lim/report.html" ||
    fail "report.html has no memory limit row"
grep -q 'soft limit' "$WORK/lim/report.html" && grep -q 'hard limit' "$WORK/lim/report.html" ||
    fail "the RSS chart does not draw the limits"
"$TIDE" run -q --interval-ms 50 --out "$WORK/free" -- "$WORKLOAD" 16 100 2>/dev/null || fail "tide run without a limit"
! grep -q 'memory limit\|soft limit' "$WORK/free/report.html" || fail "a run without a limit shows one"
[ -z "$(col "$WORK/free/timeline.csv" limit_soft_bytes)" ] || fail "a run without a limit has limit_soft_bytes"
ok "limit: $line"
