#!/usr/bin/env bash
# Metrics a fleet scrapes, and confirming the allocator:
#   - TIDE_CONF=verbose:true prints one line naming library, version, options;
#   - stats_socket:/dir/%p.sock serves `tide stats PATH` on a filesystem
#     socket (removed at exit);
#   - `tide stats --prometheus` and the stats_file option give Prometheus
#     text that Prometheus's own parser reads, with the metric names
#     docs/STATS.md lists, and the file is replaced atomically.
#   usage: metrics.sh LIBTIDEMALLOC TIDE STATS_MD
set -euo pipefail
LIB=$(readlink -f "$1")
TIDE=$(readlink -f "$2")
STATS_MD=$(readlink -f "$3")
PY=/usr/bin/python3 # Debian's, with python3-prometheus-client
die() { echo "FAIL: $*" >&2; exit 1; }
$PY -c 'import prometheus_client.parser' 2>/dev/null ||
    die "Prometheus's parser is missing (apt-get install python3-prometheus-client)"
WORK=$(mktemp -d /tmp/tide-metrics.XXXXXX)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

LD_PRELOAD=$LIB TIDE_CONF="verbose:true,stats_socket:$WORK/%p.sock,stats_file:$WORK/metrics.prom,stats_interval_ms:50" \
    $PY -c 'import os, sys, time
keep = [bytes(1000) for _ in range(20000)]
print("ready", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)' "$WORK/stop" \
    >"$WORK/out" 2>"$WORK/err" &
PID=$!
for _ in $(seq 100); do grep -q ready "$WORK/out" 2>/dev/null && [ -S "$WORK/$PID.sock" ] && break; sleep 0.1; done
[ -S "$WORK/$PID.sock" ] || die "no socket at $WORK/$PID.sock: $(cat "$WORK/err")"

# verbose:true: one line, first, naming the library, its version and the options.
head -1 "$WORK/err" | grep -Eq "^tidemalloc: [0-9]+\.[0-9]+\.[0-9]+ default build, $LIB, pid $PID: decay_ms:[0-9]+,.*stats_file:$WORK/metrics.prom" ||
    die "verbose line: $(head -1 "$WORK/err")"
[ "$(grep -c '^tidemalloc: ' "$WORK/err")" = 1 ] || die "more than one verbose line: $(cat "$WORK/err")"

# The filesystem socket, by path.
grep -q "^live_usable" <<<"$("$TIDE" stats "$WORK/$PID.sock")" || die "tide stats PATH printed no statistics"
"$TIDE" stats --prometheus "$WORK/$PID.sock" >"$WORK/scrape.prom" || die "tide stats --prometheus failed"

# Prometheus's parser reads both; the names are the documented ones.
for _ in $(seq 50); do [ -s "$WORK/metrics.prom" ] && break; sleep 0.1; done
$PY - "$WORK/scrape.prom" "$WORK/metrics.prom" "$STATS_MD" <<'PY' || die "Prometheus text"
import re, sys
from prometheus_client.parser import text_string_to_metric_families
documented = set(re.findall(r"`(tidemalloc_[a-z_]+)`", open(sys.argv[3]).read()))
for path in sys.argv[1:3]:
    fams = {f.name: f for f in text_string_to_metric_families(open(path).read())}
    # the parser drops _total from counter family names
    names = {"tidemalloc_" + n[len("tidemalloc_"):] + ("_total" if fams[n].type == "counter" else "") for n in fams}
    if names != documented:
        sys.exit(f"{path}: names differ from docs/STATS.md: extra {sorted(names - documented)}, missing {sorted(documented - names)}")
    live = fams["tidemalloc_live_bytes"].samples[0].value
    rss = fams["tidemalloc_rss_bytes"].samples[0].value
    if not (20000 * 1000 <= live <= rss):
        sys.exit(f"{path}: live {live} rss {rss}")
    sizes = [s.labels["size"] for s in fams["tidemalloc_class_utilization_ratio"].samples]
    ratios = [s.value for s in fams["tidemalloc_class_utilization_ratio"].samples]
    if not sizes or not all(0 <= r <= 1 for r in ratios):
        sys.exit(f"{path}: per-class utilization {list(zip(sizes, ratios))}")
    print(f"ok: {path.rsplit('/', 1)[1]}: {len(fams)} metric families, live {live:.0f}, rss {rss:.0f}, {len(sizes)} classes")
PY

# The file is replaced whole: a reader never sees half of it.
$PY - "$WORK/metrics.prom" <<'PY' || die "stats_file was seen half-written"
import sys, time
from prometheus_client.parser import text_string_to_metric_families
import os
seen, t_end = set(), time.time() + 1.5
reads = 0
while time.time() < t_end:
    text = open(sys.argv[1]).read()
    fams = [f.name for f in text_string_to_metric_families(text)]
    if not text.endswith("\n") or "tidemalloc_class_utilization_ratio" not in fams:
        sys.exit(f"incomplete file after {reads} reads")
    seen.add(os.stat(sys.argv[1]).st_ino) # each rewrite is a new file renamed over the old
    reads += 1
if len(seen) < 2:
    sys.exit("the file was not rewritten on the 50 ms interval")
print(f"ok: {reads} reads of stats_file, {len(seen)} versions, each complete")
PY
ls "$WORK" | grep -q 'metrics.prom.tmp' && die "a temporary file was left beside stats_file"

# At exit the socket goes away.
touch "$WORK/stop"; wait "$PID" || die "the program failed"
[ ! -e "$WORK/$PID.sock" ] || die "socket left behind: $WORK/$PID.sock"
PID=

# Bad input: a socket path that cannot be made is named, and the program
# carries on; a path that is no socket is one line and exit 1.
out=$(LD_PRELOAD=$LIB TIDE_CONF=stats_socket:/nonexistent-dir/%p.sock $PY -c 'print("ran")' 2>&1)
echo "$out" | grep -q "^ran$" || die "the program did not run: $out"
echo "$out" | grep -q "stats_socket: could not serve statistics on the path" || die "no warning for a bad socket path: $out"
rc=0; err=$("$TIDE" stats "$WORK/no-such.sock" 2>&1) || rc=$?
[ "$rc" = 1 ] && [ "$(echo "$err" | wc -l)" = 1 ] && echo "$err" | grep -q "cannot connect to $WORK/no-such.sock" ||
    die "tide stats on a missing socket: rc $rc: $err"
rc=0; err=$(LD_PRELOAD=$LIB TIDE_CONF=stats_file: $PY -c 'pass' 2>&1) || rc=$?
echo "$err" | grep -q "stats_file" || die "an empty stats_file is not reported: $err"
echo "PASS: verbose line, socket path, Prometheus text and stats_file"
