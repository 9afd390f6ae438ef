# Sourced by the tool tests. ctest sets TIDE_BUILD (the build directory) and
# TIDE_TOOLS (tools/); run by hand they default to build/ and tools/.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TIDE_TOOLS=${TIDE_TOOLS:-$(dirname "$here")}
TIDE_BUILD=${TIDE_BUILD:-$(dirname "$TIDE_TOOLS")/build}
TIDE=$TIDE_BUILD/tide
WORKLOAD=$TIDE_BUILD/demo_workload
[[ -x $TIDE ]] || { echo "FAIL: $TIDE not built"; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tide-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
MiB=$((1 << 20))

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
ok() { echo "ok: $*"; }

# col CSV NAME [ROW]: a column of the last row (or of row ROW, 1-based).
col() {
    awk -F, -v name="$2" -v row="${3:-0}" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
        { v[NR - 1] = $c; n = NR - 1 }
        END { if (!c) exit 2; print (row > 0 ? v[row] : v[n]) }' "$1"
}
rows() { echo $(($(wc -l < "$1") - 1)); }

# within A B PCT: |A - B| <= PCT% of B
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b * p / 100) }'; }

# summary_key DIR KEY
summary_key() { sed -n "s/^$2=//p" "$1/summary.txt"; }

# Does this build's libtidemalloc.so write tide-stats lines yet?
tide_has_stats() {
    TIDE_CONF=stats_fd:2,stats_interval_ms:20 LD_PRELOAD=$TIDE_BUILD/libtidemalloc.so \
        sleep 0.2 2>&1 >/dev/null | grep -q '^tide-stats '
}

# check_report HTML: self-contained, charts present, no script.
check_report() {
    local f=$1
    [[ -s $f ]] || fail "$f missing"
    grep -q '<svg class="plot"' "$f" || fail "$f has no chart"
    grep -q '<polyline' "$f" || fail "$f has no lines"
    ! grep -qiE 'https?://|<script|<link|src=' "$f" || fail "$f refers to something outside itself"
    if command -v chromium >/dev/null 2>&1; then
        local log=$WORK/chromium.log
        timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --user-data-dir="$WORK/chromium-profile" --enable-logging=stderr \
            --v=0 --dump-dom "file://$(readlink -f "$f")" >"$WORK/dom.html" 2>"$log" || true
        grep -q 'class="plot"' "$WORK/dom.html" || fail "chromium did not render $f"
        ! grep -E 'Uncaught|:CONSOLE' "$log" || fail "chromium reported script errors for $f"
    fi
}
