# tide run's verdict at exit, at peak RSS and over the steady state: a
# server that shuts down (frees nine tenths of its objects, then exits before
# the freed pages go back) looks fragmented in its last sample, not while it
# served (every tenth object left in each slab). Each verdict says which it is.
source "$(dirname "$0")/lib.sh"
SW=$WORK/shutdown_workload
cc -O1 -Wall -Wextra -Werror -o "$SW" "$TIDE_TOOLS/tests/shutdown_workload.c" || fail "cannot build the workload"
TIDE_CONF=decay_ms:10000 "$TIDE" run --interval-ms 50 --out "$WORK/out" -- "$SW" 1500 2>"$WORK/err" ||
    fail "tide run: $(cat "$WORK/err")"
cat "$WORK/err"
exit_pct=$(sed -n 's/^  at exit      \([0-9]*\)% of RSS.*(the last sample)$/\1/p' "$WORK/err")
peak_pct=$(sed -n 's/^  at peak RSS  \([0-9]*\)% not live (at [0-9.]* s): .*/\1/p' "$WORK/err")
steady_pct=$(sed -n 's/^  steady state \([0-9]*\)% not live (.*live within 10% of its peak.*/\1/p' "$WORK/err")
[[ -n $exit_pct && -n $peak_pct && -n $steady_pct ]] || fail "a verdict is missing"
(( exit_pct > 50 )) || fail "at exit only $exit_pct% not live: the shutdown was not sampled"
(( steady_pct < 15 && peak_pct < 15 )) || fail "while serving: steady $steady_pct%, peak $peak_pct% not live"
grep -q "at exit      .*fragmentation" "$WORK/err" || fail "the exit verdict should call the shutdown fragmentation"
for row in "diagnosis at exit (last sample)" "at peak RSS" "over the steady state"; do
    grep -q "<th>$row</th>" "$WORK/out/report.html" || fail "report.html lacks '$row'"
done
ok "verdicts: exit $exit_pct%, peak $peak_pct%, steady $steady_pct% not live"
