#!/usr/bin/env bash
# Debian's redis-server (linked against libjemalloc.so.2) under
# LD_PRELOAD=libtidemalloc.so: its jemalloc calls (mallctl,
# malloc_stats_print) reach tidemalloc, so INFO memory, MEMORY PURGE,
# MEMORY DOCTOR, MEMORY MALLOC-STATS and DEBUG MALLCTL tell the truth.
#   usage: redis_introspection.sh LIBTIDEMALLOC TIDE
set -euo pipefail
# (A producer piped into `grep -q` is killed by SIGPIPE when grep stops
# early, which pipefail reports: capture output first, then grep it.)
LIB=$(readlink -f "$1")
TIDE=$(readlink -f "$2")
die() { echo "FAIL: $*" >&2; exit 1; }
for p in redis-server redis-cli; do
    command -v $p >/dev/null || die "$p is not installed (apt-get install redis-server redis-tools)"
done
WORK=$(mktemp -d /tmp/tide-redis-compat.XXXXXX)
PORT=$((20000 + $$ % 20000))
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
R() { redis-cli -p "$PORT" "$@"; }
field() { R INFO memory | tr -d '\r' | sed -n "s/^$1://p"; }

# A long decay keeps freed pages resident until MEMORY PURGE, so the purge
# has something to show.
LD_PRELOAD=$LIB TIDE_CONF=stats_socket:true,decay_ms:600000 \
    redis-server --port "$PORT" --bind 127.0.0.1 --dir "$WORK" --save "" --appendonly no \
    --enable-debug-command yes --daemonize no >"$WORK/log" 2>&1 &
PID=$!
for _ in $(seq 100); do R ping >/dev/null 2>&1 && break; sleep 0.1; done
grep -q PONG <<<"$(R ping)" || die "redis-server did not start: $(cat "$WORK/log")"
grep -q tidemalloc "/proc/$PID/maps" || die "libtidemalloc.so is not mapped into redis-server"

[ "$(R DEBUG POPULATE 300000 k 512)" = OK ] || die "DEBUG POPULATE failed"
sleep 0.3

# 1. INFO memory's allocator fields agree with tide stats (Redis reads
#    stats.allocated, stats.active and stats.resident).
alloc=$(field allocator_allocated)
active=$(field allocator_active)
json=$("$TIDE" stats --json "$PID")
live=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["live_usable"])')
tactive=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["active"])')
python3 - "$alloc" "$live" "$active" "$tactive" <<'EOF' || die "INFO memory disagrees with tide stats"
import sys
alloc, live, active, tactive = map(int, sys.argv[1:])
for name, a, b in (("allocated", alloc, live), ("active", active, tactive)):
    if abs(a - b) > 0.01 * b:
        sys.exit(f"allocator_{name} {a} vs tide stats {b}")
if alloc < 100 << 20:
    sys.exit(f"allocator_allocated {alloc}: the 300,000 512-byte values are missing")
print(f"allocator_allocated {alloc} = tide live {live}; allocator_active {active} = tide active {tactive}")
EOF
frag=$(field allocator_frag_ratio)
python3 -c "import sys; r=float('$frag'); sys.exit(0 if 0.99 <= r <= 1.10 else 1)" ||
    die "allocator_frag_ratio $frag after a plain fill"

# 2. MEMORY DOCTOR on the filled instance: nothing to report.
doctor=$(R MEMORY DOCTOR)
echo "$doctor" | grep -q "can't find any memory issue" || die "MEMORY DOCTOR raised an alarm after a fill: $doctor"

# 3. DEBUG MALLCTL reads a stat through mallctl; MALLCTL-STR a string.
v=$(R DEBUG MALLCTL stats.allocated)
[ "$v" -gt $((100 << 20)) ] || die "DEBUG MALLCTL stats.allocated gave '$v'"
grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+$' <<<"$(R DEBUG MALLCTL-STR version)" || die "DEBUG MALLCTL-STR version: $(R DEBUG MALLCTL-STR version)"
grep -q "No such file or directory" <<<"$(R DEBUG MALLCTL no.such.name)" || die "an unknown mallctl name is not ENOENT"

# 4. MEMORY MALLOC-STATS prints tidemalloc's report.
grep -q "tidemalloc .* statistics" <<<"$(R MEMORY MALLOC-STATS)" || die "MEMORY MALLOC-STATS is not tidemalloc's report"

# 5. Delete the first quarter of the keys (whole slabs empty: they were filled
#    in order), then MEMORY PURGE gives the freed pages back.
seq 0 74999 | sed 's/^/DEL k:/' | R >/dev/null
sleep 0.3
rss_before=$(field used_memory_rss)
dirty=$("$TIDE" stats --json "$PID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dirty"])')
[ "$dirty" -gt $((20 << 20)) ] || die "only $dirty dirty bytes after deleting a quarter of the keys"
[ "$(R MEMORY PURGE)" = OK ] || die "MEMORY PURGE did not answer OK"
sleep 1.2 # Redis refreshes used_memory_rss in its cron
rss_after=$(field used_memory_rss)
dirty_after=$("$TIDE" stats --json "$PID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dirty"])')
echo "MEMORY PURGE: RSS $rss_before -> $rss_after, dirty $dirty -> $dirty_after (what Redis freed since)"
[ "$dirty_after" -lt $((1 << 20)) ] || die "dirty bytes after MEMORY PURGE: $dirty_after"
[ "$rss_after" -lt $((rss_before - (dirty / 2))) ] || die "MEMORY PURGE did not lower RSS ($rss_before -> $rss_after)"

# 6. No false alarm: after the purge the allocator holds no RSS it does
#    not account for (the peak-memory note is true, and allowed).
doctor=$(R MEMORY DOCTOR)
for alarm in "High process RSS overhead" "High allocator RSS overhead" "High allocator fragmentation"; do
    echo "$doctor" | grep -q "$alarm" && die "MEMORY DOCTOR: '$alarm' after a purge: $doctor"
done
overhead=$(field rss_overhead_bytes)
echo "rss_overhead_bytes $overhead, allocator_rss_ratio $(field allocator_rss_ratio)"
R shutdown nosave >/dev/null 2>&1 || true
wait "$PID" 2>/dev/null || true
PID=
echo "PASS: redis-server's jemalloc introspection reads tidemalloc"
