# tide prof top/folded/flame/diff on heap_v2 profiles written from a real
# program's own stacks (prof_workload fixture): known sites, known counts.
source "$(dirname "$0")/lib.sh"
source "$TIDE_TOOLS/tests/prof_lib.sh"

P=524288
"$PW" fixture "$WORK/a.heap" 32 8 || fail "fixture a"
"$PW" fixture "$WORK/b.heap" 96 8 || fail "fixture b"
hot=$(est 32 $((32 * 4096)) $P)
warm=$(est 8 $((8 * 4096)) $P)
hot_b=$(est 96 $((96 * 4096)) $P)
site="prof_workload.c:$(line_of HOT-FIXTURE)"

# ---- top: un-sampled like jeprof, symbolized with file:line
"$TIDE" prof top --bytes "$WORK/a.heap" > "$WORK/top" || fail "top failed"
cat "$WORK/top"
grep -q "^$WORK/a.heap: heap_v2 profile, sample period 512 KiB" "$WORK/top" || fail "top header"
total=$(sed -n 's/^live: \([0-9]*\) in 5140 objects (estimates)$/\1/p' "$WORK/top")
[[ -n $total ]] && (( total - hot - warm <= 1 && hot + warm - total <= 1 )) || fail "top total is not $((hot + warm))"
read -r flat pct _ <<<"$(top_row "$WORK/top" 1)"
top_row "$WORK/top" 1 | grep -q " hot_site ($site)\$" || fail "first row is not hot_site ($site)"
[[ $flat == "$hot" ]] || fail "hot_site flat $flat, want $hot"
[[ $pct == 80.0% ]] || fail "hot_site share $pct"
top_row "$WORK/top" 2 | grep -q " warm_site (prof_workload.c:[0-9]*)\$" || fail "second row is not warm_site"
[[ -z $(top_row "$WORK/top" 3) ]] || fail "a third row with flat bytes"
"$TIDE" prof top -n 1 "$WORK/a.heap" > "$WORK/top1"
[[ -z $(top_row "$WORK/top1" 2) ]] || fail "-n 1 printed more than one row"
top_row "$WORK/top1" 1 | grep -q '16.1 MiB  80.0%  80.0%     16.1 MiB  80.0%       4112  hot_site' ||
    fail "human-readable row: $(top_row "$WORK/top1" 1)"
# --cum: the callers hold everything.
"$TIDE" prof top --cum "$WORK/a.heap" > "$WORK/cum"
grep -Eq ' 100.0% +5140  grow \(prof_workload.c:[0-9]+\)$' "$WORK/cum" || fail "--cum: grow does not hold 100%"
grep -Eq ' 100.0% +5140  main ' "$WORK/cum" || fail "--cum: main does not hold 100%"
# --alloc: the freed churn stack counts as allocated, not live.
! grep -q churn "$WORK/top" || fail "churn has no live bytes"
"$TIDE" prof top --alloc --bytes "$WORK/a.heap" > "$WORK/alloc"
grep -q " $(est 10 40960 $P) .* churn " "$WORK/alloc" || fail "--alloc lacks churn: $(cat "$WORK/alloc")"

# ---- folded: one line per stack, outermost first, the same bytes as top
"$TIDE" prof folded "$WORK/a.heap" > "$WORK/folded" || fail "folded failed"
cat "$WORK/folded"
[[ $(wc -l < "$WORK/folded") == 2 ]] || fail "folded: expected 2 stacks with live bytes"
grep -qx "_start;.*;main;grow;hot_site $hot" "$WORK/folded" || fail "folded: hot stack"
grep -qx "_start;.*;main;grow;warm_site $warm" "$WORK/folded" || fail "folded: warm stack"

# ---- flame: a self-contained SVG, frames as wide as their bytes
"$TIDE" prof flame "$WORK/a.heap" -o "$WORK/a.svg" 2>/dev/null || fail "flame failed"
! grep -qiE '<script|https?://[^"]*"[^>]*(src|href)=|xlink:href|<image' "$WORK/a.svg" || fail "flame refers outside itself"
python3 - "$WORK/a.svg" <<'PY' || fail "flame graph content"
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
frames = {}
for g in root.findall("s:g", ns):
    title = g.find("s:title", ns).text
    rect = g.find("s:rect", ns)
    frames[title.split(" — ")[0]] = (float(rect.get("width")), float(rect.get("y")), title)
full = frames["all"][0]
for name, share in (("hot_site", 0.80), ("warm_site", 0.20), ("grow", 1.0), ("main", 1.0)):
    w, y, title = frames[name]
    assert abs(w / full - share) < 0.005, (name, w, full)
    assert "%.2f%% of live bytes" % (share * 100) in title, title
# callees above callers: hot_site sits above grow, grow above main
assert frames["hot_site"][1] < frames["grow"][1] < frames["main"][1] < frames["all"][1]
assert "churn" not in frames
PY
# default output name, and a title
"$TIDE" prof flame --title 'leak <hunt> & co' "$WORK/a.heap" 2>/dev/null && [[ -s $WORK/a.heap.svg ]] ||
    fail "flame without -o should write FILE.svg"
grep -q '<title>leak &lt;hunt&gt; &amp; co</title>' "$WORK/a.heap.svg" || fail "flame title not escaped"
if command -v chromium >/dev/null 2>&1; then
    timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
        --user-data-dir="$WORK/chromium" --dump-dom "file://$WORK/a.svg" >"$WORK/dom" 2>/dev/null || true
    grep -q 'hot_site' "$WORK/dom" || fail "chromium did not render the flame graph"
fi

# ---- diff: what grew, by function and by stack
"$TIDE" prof diff --bytes "$WORK/a.heap" "$WORK/b.heap" > "$WORK/diff" || fail "diff failed"
cat "$WORK/diff"
sed -n '/by allocating function/{n;p}' "$WORK/diff" | grep -Eq "^ +\+$((hot_b - hot)) +$hot -> $hot_b +hot_site \($site\)$" ||
    fail "diff: first grown function is not hot_site +$((hot_b - hot))"
sed -n '/by stack/{n;p;n;p}' "$WORK/diff" | grep -q "^        hot_site <- grow <- main <- " ||
    fail "diff: first grown stack is not hot_site's"
! grep -q warm_site "$WORK/diff" || fail "diff: warm_site did not grow"
"$TIDE" prof diff "$WORK/a.heap" "$WORK/a.heap" > "$WORK/same"
[[ $(grep -c 'nothing grew' "$WORK/same") == 2 ]] || fail "diff of a file with itself"
"$TIDE" prof diff "$WORK/b.heap" "$WORK/a.heap" > "$WORK/shrink"
grep -q '(1 functions shrank)' "$WORK/shrink" || fail "diff: shrinking not told"

# ---- a profile with nothing live: said so, and an empty flame graph
"$PW" fixture "$WORK/z.heap" 0 0 || fail "fixture z"
grep -q '^(no live bytes in this profile)$' <<<"$("$TIDE" prof top "$WORK/z.heap")" || fail "empty profile: top"
[[ -z $("$TIDE" prof folded "$WORK/z.heap") ]] || fail "empty profile: folded printed stacks"
"$TIDE" prof flame "$WORK/z.heap" -o "$WORK/z.svg" 2>/dev/null && python3 -c '
import sys, xml.etree.ElementTree as ET
assert not ET.parse(sys.argv[1]).getroot().findall("{http://www.w3.org/2000/svg}g")' "$WORK/z.svg" ||
    fail "empty profile: flame"
grep -q ' churn ' <<<"$("$TIDE" prof top --alloc "$WORK/z.heap")" || fail "empty profile: --alloc still has churn"

# ---- a gzipped heap_v2 reads the same
gzip -c "$WORK/a.heap" > "$WORK/a.heap.gz"
"$TIDE" prof folded "$WORK/a.heap.gz" | cmp -s - "$WORK/folded" || fail "gzipped heap_v2 reads differently"

# ---- help and usage
grep -q 'tide prof COMMAND' <<<"$("$TIDE" prof --help)" || fail "prof --help"
grep -q 'flame' <<<"$("$TIDE" help prof)" || fail "help prof"
rc=0; "$TIDE" prof bogus 2>/dev/null || rc=$?
[[ $rc == 2 ]] || fail "unknown subcommand should exit 2, not $rc"
rc=0; "$TIDE" prof top 2>/dev/null || rc=$?
[[ $rc == 2 ]] || fail "top without a file should exit 2, not $rc"
ok "tide prof top/folded/flame/diff"
