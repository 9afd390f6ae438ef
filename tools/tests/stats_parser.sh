# The statistics-line protocol, with fake writers: lines split across
# writes, unknown keys, foreign clocks, garbage, several processes.
source "$(dirname "$0")/lib.sh"
command -v bash >/dev/null || skip "no bash"

# Three processes: the outer bash reports tide-stats, one child glibc-stats,
# the other only app-stats. Foreign clocks (t_ms not CLOCK_MONOTONIC ms) and
# unknown keys are tolerated, garbage lines ignored.
cat >"$WORK/writer.sh" <<'SH'
fd=$TIDE_STATS_FD
inner() {
    for i in $(seq 30); do
        echo "glibc-stats pid=$BASHPID t_ms=1 arenas=2 free=1000 system=3001000 mmap=500 arena_free=600,400 arena_system=2000000,1001000" >&$fd
        echo "app-stats pid=$BASHPID live=123" >&$fd # ignored: the allocator's figure wins
        sleep 0.05
    done
}
appl() {
    for i in $(seq 30); do echo "app-stats pid=$BASHPID live=7000000" >&$fd; sleep 0.05; done
}
inner & appl &
for i in $(seq 30); do
    echo "tide-stats pid=$$ t_ms=99999999999999 live=5000000 active=6000000 dirty=250000 mapped=9 metadata=8 purged=7 newkey=x" >&$fd
    echo "garbage line" >&$fd
    echo "tide-stats pid=notanumber live=1" >&$fd
    sleep 0.04
done
wait
SH
"$TIDE" run --quiet --allocator none --interval-ms 50 --out "$WORK/o" -- bash "$WORK/writer.sh"
csv=$WORK/o/timeline.csv
(($(rows "$csv") >= 10)) || fail "too few rows: $(rows "$csv")"
# A row from the middle of the run, when all three processes were up.
mid=$(($(rows "$csv") / 2))
[[ $(col "$csv" procs $mid) -ge 3 ]] || fail "procs: $(col "$csv" procs $mid)"
live=$(col "$csv" live_bytes $mid)
[[ $live == $((5000000 + 3000500 + 7000000)) ]] || fail "live_bytes $live, want 15000500"
[[ $(col "$csv" tide_dirty_bytes $mid) == 250000 ]] || fail "tide_dirty_bytes"
[[ $(col "$csv" glibc_free_bytes $mid) == 1000 ]] || fail "glibc_free_bytes"
[[ $(col "$csv" glibc_arena_free $mid) == "600;400" ]] || fail "glibc_arena_free"
# free held: tide 6000000-5000000+250000, glibc 1000
[[ $(col "$csv" allocator_free_bytes $mid) == $((1250000 + 1000)) ]] || fail "allocator_free_bytes"
ok "three processes, three kinds of line, summed: live $live"

# One writer whose lines arrive in pieces.
cat >"$WORK/split.sh" <<'SH'
fd=$TIDE_STATS_FD
for i in $(seq 20); do
    printf 'tide-stats pid=%s li' $$ >&$fd
    sleep 0.02
    printf 've=4242 active=5000 dirty=0\ntide-stats pid=%s live=4343' $$ >&$fd
    sleep 0.02
    printf ' active=5000 dirty=0\n' >&$fd
done
SH
"$TIDE" run --quiet --allocator none --interval-ms 20 --out "$WORK/p" -- bash "$WORK/split.sh"
csv=$WORK/p/timeline.csv
# Samples between two lines get interpolated values: within [4242, 4343].
bad=$(awk -F, 'NR > 2 && $8 != "" && ($8 < 4242 || $8 > 4343)' "$csv" | wc -l)
[[ $bad == 0 ]] || fail "split lines misread: $(cut -d, -f8 "$csv" | sort | uniq -c)"
[[ -n $(col "$csv" live_bytes) ]] || fail "no live bytes from split lines"
ok "lines split across writes"
