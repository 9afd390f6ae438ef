# tide prof dump PID: a running, leaking process dumps on request, twice;
# tide prof diff of the two dumps puts the leaking site first. A process
# that did not opt in, or does not exist, gets a clear message.
source "$(dirname "$0")/lib.sh"
LIB=$TIDE_BUILD/libtidemalloc.so
[[ -f $LIB ]] || fail "no $LIB"
source "$TIDE_TOOLS/tests/prof_lib.sh"

# hot_site leaks 256 KiB every 20 ms for 20 s.
mkfifo "$WORK/ready"
TIDE_CONF=prof:true,stats_socket:true,lg_prof_sample:14,prof_prefix:$WORK/d,prof_format:heap_v2 \
    LD_PRELOAD=$LIB "$PW" leak 20 >"$WORK/ready" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$WORK"' EXIT
read -r word _ <"$WORK/ready"
[[ $word == ready ]] || fail "the workload did not start"

first=$("$TIDE" prof dump $pid) || fail "tide prof dump failed"
[[ -s $first ]] || fail "dump printed '$first', which is not a file"
[[ $first == "$WORK"/d.* ]] || fail "dump file $first is not under prof_prefix $WORK/d"
sleep 2
second=$("$TIDE" prof dump $pid) || fail "second dump failed"
[[ -s $second && $second != "$first" ]] || fail "second dump '$second' (first '$first')"
kill -0 $pid || fail "the process died"

"$TIDE" prof top "$second" > "$WORK/top" || fail "top of the dump"
cat "$WORK/top"
top_row "$WORK/top" 1 | grep -q " hot_site (prof_workload.c:$(line_of HOT))\$" || fail "top: $(top_row "$WORK/top" 1)"
"$TIDE" prof diff --bytes "$first" "$second" > "$WORK/diff" || fail "diff"
cat "$WORK/diff"
row=$(sed -n '/by allocating function/{n;p}' "$WORK/diff")
[[ $row == *" hot_site (prof_workload.c:$(line_of HOT))" ]] || fail "diff: first grown function: $row"
grown=$(awk '{ print substr($1, 2) }' <<<"$row")
# about 12 MiB a second leaked (50 x 256 KiB); two seconds passed
(( grown > 6 * MiB )) || fail "diff: hot_site grew only $grown bytes"
kill $pid; wait $pid 2>/dev/null || true

# Opted in to the socket but not to profiling: the process says why.
TIDE_CONF=stats_socket:true LD_PRELOAD=$LIB "$PW" run 10 >"$WORK/ready2" &
other=$!
trap 'kill $other 2>/dev/null || true; rm -rf "$WORK"' EXIT
for i in $(seq 1 100); do grep -q ready "$WORK/ready2" && break; sleep 0.05; done
rc=0; "$TIDE" prof dump $other >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc == 1 && ! -s $WORK/out ]] || fail "dump without prof:true: exit $rc, out $(cat "$WORK/out")"
grep -q "^tide prof dump: process $other: " "$WORK/err" || fail "unclear: $(cat "$WORK/err")"
echo "  without prof:true: $(cat "$WORK/err")"
kill $other; wait $other 2>/dev/null || true
# Not opted in at all; no such process.
sleep 5 & plain=$!
rc=0; "$TIDE" prof dump $plain 2>"$WORK/err" || rc=$?
[[ $rc == 1 ]] && grep -q "prof:true,stats_socket:true" "$WORK/err" || fail "plain process: $rc $(cat "$WORK/err")"
kill $plain
rc=0; "$TIDE" prof dump 999999999 2>"$WORK/err" || rc=$?
[[ $rc == 1 ]] && grep -q "no process" "$WORK/err" || fail "no process: $rc $(cat "$WORK/err")"
rc=0; "$TIDE" prof dump abc 2>/dev/null || rc=$?
[[ $rc == 2 ]] || fail "dump abc should be a usage error"
ok "tide prof dump: two dumps of a leaking process; diff names the leak"
