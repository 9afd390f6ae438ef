# tide prof start/stop PID: profiling switched on in a running process that
# started without it (TIDE_CONF=stats_socket:true only), and off again.
# The leak that follows the start is found; what was allocated before is not
# sampled, and the output says profiling started mid-run. Bad input: a rate
# that is not a power of two, a process without the socket, no process.
source "$(dirname "$0")/lib.sh"
LIB=$TIDE_BUILD/libtidemalloc.so
[[ -f $LIB ]] || fail "no $LIB"
source "$TIDE_TOOLS/tests/prof_lib.sh"

mkfifo "$WORK/ready"
TIDE_CONF=stats_socket:true,prof_prefix:$WORK/s,prof_format:heap_v2 LD_PRELOAD=$LIB "$PW" leak 20 >"$WORK/ready" &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -rf "$WORK"' EXIT
read -r word _ <"$WORK/ready"
[[ $word == ready ]] || fail "the workload did not start"

rc=0; "$TIDE" prof dump $pid 2>"$WORK/err" || rc=$?
[[ $rc == 1 ]] && grep -q "profiling is off" "$WORK/err" || fail "dump before start: $rc $(cat "$WORK/err")"
out=$("$TIDE" prof start $pid --rate 16K) || fail "tide prof start"
[[ $out == "profiling, one sample per 16384 bytes allocated on average" ]] || fail "start said '$out'"
"$TIDE" prof start $pid >/dev/null || fail "a second start (already on) must succeed"
sleep 1.5
f=$("$TIDE" prof dump $pid) || fail "dump after start"
"$TIDE" prof top "$f" >"$WORK/top" || fail "top"
cat "$WORK/top"
top_row "$WORK/top" 1 | grep -q " hot_site (prof_workload.c:$(line_of HOT))\$" || fail "top: $(top_row "$WORK/top" 1)"
! grep -q warm_site "$WORK/top" || fail "warm_site was allocated before the start, yet it is in the profile"
grep -q "^profiling started while the process ran (.*live then)" "$WORK/top" || fail "no mid-run note"
# about 12 MiB a second leaked (50 x 256 KiB) since the start, nothing before
live=$(sed -n 's/^live: \([0-9.]*\) MiB.*/\1/p' "$WORK/top")
awk -v l="${live:-0}" 'BEGIN { exit !(l > 8 && l < 40) }' || fail "live after 1.5 s of leaking: '$live' MiB"

out=$("$TIDE" prof stop $pid) || fail "tide prof stop"
[[ $out == stopped ]] || fail "stop said '$out'"
g=$("$TIDE" prof dump $pid) || fail "a dump after stop still writes the samples taken"
[[ -s $g && $g != "$f" ]] || fail "dump after stop: $g"

# Bad input.
rc=0; "$TIDE" prof start $pid --rate 1000 2>"$WORK/err" || rc=$?
[[ $rc == 2 && $(wc -l <"$WORK/err") == 1 ]] && grep -q "power of two" "$WORK/err" || fail "rate 1000: $rc $(cat "$WORK/err")"
kill $pid; wait $pid 2>/dev/null || true
rc=0; "$TIDE" prof start $pid 2>"$WORK/err" || rc=$?
[[ $rc == 1 && $(wc -l <"$WORK/err") == 1 ]] && grep -q "no process" "$WORK/err" || fail "gone: $rc $(cat "$WORK/err")"
sleep 5 & plain=$!
rc=0; "$TIDE" prof stop $plain 2>"$WORK/err" || rc=$?
[[ $rc == 1 && $(wc -l <"$WORK/err") == 1 ]] && grep -q "stats_socket:true" "$WORK/err" || fail "plain: $rc $(cat "$WORK/err")"
kill $plain
ok "tide prof start/stop: profiling switched on mid-run finds the leak that follows"
