#!/usr/bin/env bash
# Pinned bytes end to end, on programs whose fragmentation has a known owner
# (frag_workload.c):
#   keeper  survivor_site keeps every 10th object of each wave: it comes first
#           in `tide prof frag` and in `go tool pprof -sample_index=pinned`,
#           with at least 80% of the pinned bytes; dense_site, with more live
#           bytes in full slabs, pins next to nothing; jeprof still reads the
#           heap_v2 file (dense_site first by live bytes).
#   none    no survivors: pinned is under 1% of live, and so is the
#           allocator's own count.
#   mixed   eight classes, random survivors: summed over all stacks, pinned
#           is within 10% of the allocator's free bytes inside partly used
#           slabs, and the file's count is what tide_stats_frag said.
# Bad input: a profile without pinned bytes, a truncated one: one line, exit 1.
#   frag.sh LIBTIDEMALLOC FRAG_WORKLOAD TIDE
set -euo pipefail
lib=$1 prog=$2 tide=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# run MODE -> sets $heap (heap_v2 file) and $free_stats (tide_stats_frag's free)
run() {
    TIDE_CONF=prof:true,lg_prof_sample:14,prof_final:false,prof_format:heap_v2+pprof,prof_prefix:$dir/$1 \
        LD_PRELOAD=$lib "$prog" "$1" >"$dir/$1.out" 2>"$dir/$1.err" || fail "$1: exit $? $(cat "$dir/$1.err")"
    heap=$(sed -n 's/^dump //p' "$dir/$1.out")
    free_stats=$(sed -n 's/^frag free=\([0-9]*\) .*/\1/p' "$dir/$1.out")
    [[ -s $heap && -s $heap.pb.gz && -n $free_stats ]] || fail "$1: no dump: $(cat "$dir/$1.out" "$dir/$1.err")"
    "$tide" prof frag --bytes "$heap" >"$dir/$1.frag" || fail "$1: tide prof frag"
    cat "$dir/$1.frag"
}
# first_site FILE -> "pinned pinned% ... function" of the first function row
first_site() { awk '/^by allocating function/ { getline; getline; print; exit }' "$1"; }
counted() { sed -n 's/^free space inside partly used slabs: \([0-9]*\).*/\1/p' "$1"; }
estimated() { sed -n 's/^pinned, estimated from the samples: \([0-9]*\).*/\1/p' "$1"; }
live_of() { sed -n 's/.*by the sites holding \([0-9]*\) live.*/\1/p' "$1"; }

# ---- keeper
run keeper
row=$(first_site "$dir/keeper.frag")
[[ $row == *" survivor_site (frag_workload.c:"* ]] || fail "keeper: first site: $row"
share=$(awk '{ sub("%", "", $2); print $2 }' <<<"$row")
awk -v s="$share" 'BEGIN { exit !(s >= 80) }' || fail "keeper: survivor_site pins only $share%"
dense=$(awk '/^by allocating function/ { f = 1 } f && / dense_site / { sub("%", "", $2); print $2; exit }' "$dir/keeper.frag")
awk -v s="${dense:-0}" 'BEGIN { exit !(s < 5) }' || fail "keeper: dense_site pins $dense%"
if command -v go >/dev/null; then
    HOME=$dir go tool pprof -sample_index=pinned -top "$heap.pb.gz" >"$dir/go" 2>&1 || fail "go tool pprof: $(cat "$dir/go")"
    top=$(awk '/flat%/ { getline; print; exit }' "$dir/go")
    [[ $top == *survivor_site* ]] || fail "pprof -sample_index=pinned: first row $top"
    echo "  go tool pprof -sample_index=pinned: $top"
fi
if command -v jeprof >/dev/null; then
    jeprof --text "$prog" "$heap" >"$dir/jeprof" 2>"$dir/jeprof.err" || fail "jeprof: $(cat "$dir/jeprof.err")"
    first=$(awk 'NR>1 && $6 != "" { print $6; exit }' "$dir/jeprof")
    [[ $first == dense_site ]] || fail "jeprof: first $first: $(cat "$dir/jeprof")"
    echo "  jeprof --text reads it: $first first"
fi
# tide prof top reads the same file (pinned lines are not garbage to it).
"$tide" prof top "$heap" >/dev/null || fail "tide prof top on a file with pinned bytes"

# ---- none
run none
est=$(estimated "$dir/none.frag") cnt=$(counted "$dir/none.frag") live=$(live_of "$dir/none.frag")
(( est * 100 <= live && cnt * 100 <= live )) || fail "none: pinned $est, counted $cnt, live $live"

# ---- mixed
run mixed
est=$(estimated "$dir/mixed.frag") cnt=$(counted "$dir/mixed.frag")
(( cnt > 1048576 )) || fail "mixed: only $cnt bytes free in partly used slabs"
awk -v e="$est" -v c="$cnt" 'BEGIN { d = e - c; if (d < 0) d = -d; exit !(d <= 0.10 * c) }' ||
    fail "mixed: pinned $est is not within 10% of the allocator's $cnt"
awk -v a="$free_stats" -v c="$cnt" 'BEGIN { d = a - c; if (d < 0) d = -d; exit !(d <= 0.02 * c) }' ||
    fail "mixed: the file counts $cnt free, tide_stats_frag said $free_stats"
# The pprof file carries the same view (its comments) and pinned per stack.
"$tide" prof frag --bytes "$heap.pb.gz" >"$dir/mixed.pb.frag" || fail "tide prof frag on pprof"
[[ $(counted "$dir/mixed.pb.frag") == "$cnt" ]] || fail "pprof view: $(head -3 "$dir/mixed.pb.frag")"
est2=$(estimated "$dir/mixed.pb.frag")
awk -v a="$est2" -v b="$est" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.001 * b + 16) }' ||
    fail "pprof pinned $est2, heap_v2 $est"

# ---- bad input
printf 'heap_v2/524288\n  t*: 0: 0 [0: 0]\n\nMAPPED_LIBRARIES:\n' >"$dir/plain.heap"
rc=0; "$tide" prof frag "$dir/plain.heap" >"$dir/o" 2>"$dir/e" || rc=$?
[[ $rc == 1 && ! -s $dir/o && $(wc -l <"$dir/e") == 1 ]] && grep -q "no pinned bytes" "$dir/e" ||
    fail "profile without pinned bytes: rc $rc: $(cat "$dir/e")"
head -c 300 "$heap" >"$dir/cut.heap"
rc=0; "$tide" prof frag "$dir/cut.heap" >"$dir/o" 2>"$dir/e" || rc=$?
[[ $rc == 1 && ! -s $dir/o && $(wc -l <"$dir/e") == 1 ]] || fail "truncated profile: rc $rc: $(cat "$dir/e")"
echo "ok: pinned bytes: keeper first ($share%), none ~0, mixed within 10% ($est of $cnt)"
