# tide report: several runs in one page, and the side-by-side table.
source "$(dirname "$0")/lib.sh"

"$TIDE" run --quiet --allocator glibc --interval-ms 20 --out "$WORK/a" -- "$WORKLOAD" 8 300
"$TIDE" run --quiet --allocator none --interval-ms 20 --out "$WORK/b" -- "$WORKLOAD" 8 300
"$TIDE" report -o "$WORK/r.html" --title 'a <b> & c' "$WORK/a" "$WORK/b" >"$WORK/table"
cat "$WORK/table"
grep -q '^peak RSS .*MiB.*MiB' "$WORK/table" || fail "table lacks two peak columns"
grep -q '^  glibc: ' "$WORK/table" || fail "table lacks the glibc diagnosis"
grep -q '^  none: .*RSS only' "$WORK/table" || fail "table lacks the none diagnosis"
check_report "$WORK/r.html"
grep -q 'a &lt;b&gt; &amp; c' "$WORK/r.html" || fail "title not escaped"
[[ $(grep -c '<polyline' "$WORK/r.html") -ge 3 ]] || fail "expected lines for both runs"

# Same allocator twice: labelled by directory.
"$TIDE" report -q -o "$WORK/s.html" "$WORK/a" "$WORK/a/../a"
grep -q "$WORK/a/../a RSS" "$WORK/s.html" || fail "duplicate labels not told apart"
# One directory: the report goes in it.
rm "$WORK/a/report.html"
"$TIDE" report -q "$WORK/a"
[[ -s $WORK/a/report.html ]] || fail "report DIR should write DIR/report.html"
# Not a run directory.
! "$TIDE" report -q /nonexistent 2>/dev/null || fail "report of a missing dir succeeded"
ok "report"
