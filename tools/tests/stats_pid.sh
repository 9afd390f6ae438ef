# tide stats PID: a running process that opted in (stats_socket:true)
# answers with its statistics, as text and as JSON, without being stopped;
# one that did not gets a clear message.
source "$(dirname "$0")/lib.sh"
LIB=$TIDE_BUILD/libtidemalloc.so
[ -f "$LIB" ] || fail "no $LIB"

TIDE_CONF=stats_socket:true LD_PRELOAD=$LIB "$WORKLOAD" 32 3000 >/dev/null 2>&1 &
pid=$!
# Wait for both waves (64 MiB requested, the first freed: ~32 MiB live),
# and for the figure to hold still: mid-wave it passes 32 MiB on its way up.
prev=
for i in $(seq 1 50); do
    live=$("$TIDE" stats --json $pid 2>/dev/null | sed -n 's/.*"live_usable": \([0-9]*\).*/\1/p')
    [ -n "$live" ] && [ "$live" = "$prev" ] && within "$live" $((32 * MiB)) 15 && break
    prev=$live
    sleep 0.1
done
[ -n "$live" ] || fail "no statistics from pid $pid"
within "$live" $((32 * MiB)) 15 || fail "live $live not near 32 MiB"
"$TIDE" stats $pid > "$WORK/text" || fail "text form failed"
grep -q '^live_usable' "$WORK/text" || fail "text form: $(head -3 "$WORK/text")"
grep -q 'size class' "$WORK/text" || fail "text form lacks the size classes"
"$TIDE" stats --json $pid | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["classes"]) == 35' ||
    fail "JSON form does not parse"
kill -0 $pid || fail "the process died"
wait $pid || fail "the process failed"

# A process that did not opt in, and one that does not exist.
sleep 2 & other=$!
"$TIDE" stats $other 2> "$WORK/err" && fail "stats from a process that did not opt in"
grep -q "stats_socket:true" "$WORK/err" || fail "unclear message: $(cat "$WORK/err")"
kill $other 2>/dev/null
"$TIDE" stats 999999999 2> "$WORK/err" && fail "stats from no process"
grep -q "no process" "$WORK/err" || fail "unclear message: $(cat "$WORK/err")"
ok "tide stats: live $live bytes read from pid $pid while it ran"
