# The HTML report in a real browser: headless Chromium renders every chart
# (the SVG polylines reach the DOM) and reports no script error. Chromium is
# required here (.ci/run installs Debian's chromium package).
source "$(dirname "$0")/lib.sh"
command -v chromium >/dev/null 2>&1 || fail "chromium not installed (apt-get install chromium)"
"$TIDE" run --quiet --allocator tide --interval-ms 50 --out "$WORK/t" -- "$WORKLOAD" 32 1500
"$TIDE" run --quiet --allocator glibc --interval-ms 50 --out "$WORK/g" -- "$WORKLOAD" 32 1500
"$TIDE" report -q -o "$WORK/both.html" "$WORK/g" "$WORK/t" >/dev/null
for f in "$WORK/t/report.html" "$WORK/both.html"; do
    log=$WORK/chromium.log
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$WORK/profile" --enable-logging=stderr --v=0 \
        --dump-dom "file://$(readlink -f "$f")" >"$WORK/dom.html" 2>"$log" || true
    charts=$(grep -o '<svg class="plot"' "$WORK/dom.html" | wc -l)
    lines=$(grep -o '<polyline' "$WORK/dom.html" | wc -l)
    (( charts >= 2 && lines >= 2 )) || fail "$f: $charts charts, $lines lines rendered"
    ! grep -E 'Uncaught|:CONSOLE' "$log" || fail "$f: script errors"
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$WORK/profile" --window-size=1200,1600 \
        --screenshot="$WORK/shot.png" "file://$(readlink -f "$f")" >/dev/null 2>&1 || true
    [[ -s $WORK/shot.png ]] || fail "$f: no screenshot"
    ok "$f: $charts charts, $lines lines, no script errors"
done
