# tide top PID, driven under tmux and read off the screen: the figures and
# their trend, the classes, the top sites by live and by pinned bytes of a
# leaking process (hot_site first by live); q quits; when the process goes
# away tide top says so and exits 0. Bad input: no such process, a process
# without the socket: one line, status 1.
source "$(dirname "$0")/lib.sh"
LIB=$TIDE_BUILD/libtidemalloc.so
command -v tmux >/dev/null || skip "tmux is not installed (Debian package tmux)"
source "$TIDE_TOOLS/tests/prof_lib.sh"
export TMUX_TMPDIR=$WORK # a server of our own
sock=tide-top-$$

mkfifo "$WORK/ready"
TIDE_CONF=prof:true,stats_socket:true,lg_prof_sample:14,prof_final:false LD_PRELOAD=$LIB "$PW" leak 30 >"$WORK/ready" &
pid=$!
# Each part gets a server of its own: kill-server returns before the server
# has gone, and a new session on the same socket can reach the dying one.
gone=$sock-gone
trap 'kill $pid 2>/dev/null || true; tmux -L $sock kill-server 2>/dev/null || true; tmux -L $gone kill-server 2>/dev/null || true; rm -rf "$WORK"' EXIT
read -r word _ <"$WORK/ready"
[[ $word == ready ]] || fail "the workload did not start"

tmux -L $sock new-session -d -x 120 -y 60 "$TIDE top $pid; echo \"tide top exited \$?\" >$WORK/rc; sleep 30"
screen() { tmux -L "${1:-$sock}" capture-pane -p >"$WORK/screen"; }
for i in $(seq 1 50); do screen; grep -q "top sites by pinned" "$WORK/screen" && grep -q hot_site "$WORK/screen" && break; sleep 0.1; done
sleep 2.2 # two more refreshes: the trend has three points
screen
cat "$WORK/screen"
grep -q "^tide top $pid .* q quits" "$WORK/screen" || fail "no title"
for f in RSS live dirty pinned metadata; do
    grep -qE "^$f +[0-9.]+ [KMG]?i?B +[-+][0-9.]+ [KMG]?i?B( |$)" "$WORK/screen" || fail "no $f row"
done
# live grows with the leak (12 MiB a second): the last minute shows it.
grep -qE "^live +[0-9.]+ MiB +\+[1-9][0-9.]* MiB" "$WORK/screen" || fail "live does not grow: $(grep '^live' "$WORK/screen")"
grep -qE "^ +4096 B " "$WORK/screen" || fail "no 4 KiB class row"
first=$(awk '/^top sites by live/ { getline; print; exit }' "$WORK/screen")
[[ $first == *" pinned  hot_site (prof_workload.c:$(line_of HOT))" ]] || fail "first site by live: $first"
grep -q "^top sites by pinned bytes" "$WORK/screen" || fail "no pinned sites"
tmux -L $sock send-keys q
for i in $(seq 1 30); do [[ -s $WORK/rc ]] && break; sleep 0.1; done
[[ $(cat "$WORK/rc" 2>/dev/null) == "tide top exited 0" ]] || fail "q: $(cat "$WORK/rc" 2>/dev/null)"
tmux -L $sock kill-server

# The process goes away under it.
rm -f "$WORK/rc"
tmux -L $gone new-session -d -x 120 -y 60 "$TIDE top $pid; echo \"tide top exited \$?\" >$WORK/rc; sleep 30"
sleep 1.2
kill $pid; wait $pid 2>/dev/null || true
for i in $(seq 1 40); do [[ -s $WORK/rc ]] && break; sleep 0.1; done
screen $gone
[[ $(cat "$WORK/rc" 2>/dev/null) == "tide top exited 0" ]] || fail "gone: $(cat "$WORK/rc" 2>/dev/null)"
grep -q "^tide top: process $pid exited" "$WORK/screen" || fail "no 'exited' line: $(tail -3 "$WORK/screen")"
tmux -L $gone kill-server

# Bad input.
rc=0; "$TIDE" top $pid 2>"$WORK/err" || rc=$?
[[ $rc == 1 && $(wc -l <"$WORK/err") == 1 ]] && grep -q "no process" "$WORK/err" || fail "no process: $rc $(cat "$WORK/err")"
sleep 5 & plain=$!
rc=0; "$TIDE" top $plain 2>"$WORK/err" </dev/null || rc=$?
[[ $rc == 1 && $(wc -l <"$WORK/err") == 1 ]] && grep -q "stats_socket:true" "$WORK/err" || fail "plain: $rc $(cat "$WORK/err")"
kill $plain
rc=0; "$TIDE" top abc 2>/dev/null || rc=$?
[[ $rc == 2 ]] || fail "top abc: status $rc"
ok "tide top: the live view under tmux, q, the process going away"
