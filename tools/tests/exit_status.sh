# tide run passes the command's exit status through.
source "$(dirname "$0")/lib.sh"

expect() { # expect STATUS ARGS...
    local want=$1 rc=0
    shift
    "$TIDE" run --quiet --out "$WORK/out" "$@" 2>"$WORK/err" || rc=$?
    [[ $rc == "$want" ]] || { cat "$WORK/err"; fail "tide run $* returned $rc, want $want"; }
    ok "tide run $* -> $rc"
}

expect 3 -- sh -c 'exit 3'
expect 3 --allocator glibc -- sh -c 'exit 3'
expect 3 --allocator tide -- sh -c 'exit 3'
expect 0 --allocator none -- true
expect 1 -- false
expect 137 -- sh -c 'kill -9 $$'
expect 127 -- /nonexistent/command
expect 126 -- /etc/passwd
expect 125 --allocator nosuch -- true
expect 125 --allocator /nonexistent/lib.so -- true
expect 125 --interval-ms 0 -- true
expect 125 --out /etc/passwd/x -- true

# A missing system allocator names the Debian package to install.
for a in jemalloc mimalloc tcmalloc; do
    rc=0
    "$TIDE" run --quiet --allocator $a --out "$WORK/out" -- true 2>"$WORK/err" || rc=$?
    if [[ $rc == 125 ]]; then
        grep -q "apt-get install" "$WORK/err" || fail "no package named for missing $a"
        ok "missing $a: $(cat "$WORK/err")"
    fi
done

# The summary says how the command ended; a short run has no samples.
"$TIDE" run --out "$WORK/s" -- sh -c 'exit 4' 2>"$WORK/err" || true
grep -q "exited with status 4" "$WORK/err" || fail "summary lacks the exit status"
grep -q "no samples" "$WORK/err" || fail "a run shorter than one interval should say no samples"
[[ $(summary_key "$WORK/s" exit_status) == 4 ]] || fail "summary.txt exit_status"

# SIGTERM sent to tide reaches the command; tide still writes its report.
"$TIDE" run --quiet --interval-ms 20 --out "$WORK/t" -- sleep 30 &
pid=$!
sleep 0.5
kill -TERM $pid
rc=0
wait $pid || rc=$?
[[ $rc == 143 ]] || fail "SIGTERM: tide returned $rc, want 143"
[[ -s $WORK/t/report.html ]] || fail "no report after SIGTERM"
(($(rows "$WORK/t/timeline.csv") > 5)) || fail "no rows before SIGTERM"
ok "SIGTERM forwarded, status 143, report written"
