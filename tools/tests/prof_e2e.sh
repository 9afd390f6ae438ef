# End to end: a program with a known hot allocation site, profiled by
# libtidemalloc.so (prof:true, all three formats), read by the readers
# users have: jeprof (heap_v2), go tool pprof (pprof), and tide prof (all).
source "$(dirname "$0")/lib.sh"
LIB=$TIDE_BUILD/libtidemalloc.so
[[ -f $LIB ]] || fail "no $LIB"
command -v jeprof >/dev/null || fail "jeprof missing (Debian package libjemalloc-dev)"
command -v go >/dev/null || fail "go missing (Debian package golang-go)"
export HOME=$WORK # go tool pprof may keep state under $HOME
PW_CFLAGS=-rdynamic # the in-process folded writer names exported functions
source "$TIDE_TOOLS/tests/prof_lib.sh"

# hot_site keeps 16 MiB (4096 x 4 KiB), warm_site 4 MiB (4096 x 1 KiB);
# churn allocates and frees 40 MiB. Sampled every 16 KiB on average, so
# the estimates are within a few per cent.
TIDE_CONF=prof:true,lg_prof_sample:14,prof_final:true,prof_prefix:$WORK/p,prof_format:heap_v2+pprof+folded \
    LD_PRELOAD=$LIB "$PW" run 0 >/dev/null || fail "the workload failed under profiling"
ls -l "$WORK"
heap=$(ls "$WORK"/p.*.heap | head -1)
pprof=$(ls "$WORK"/p.*.pb.gz | head -1)
folded=$(ls "$WORK"/p.*.folded | head -1)
[[ -s $heap && -s $pprof && -s $folded ]] || fail "dump files missing"
site="prof_workload.c:$(line_of HOT)"

# (a) jeprof lists hot_site first, with about 16 MiB.
jeprof --text "$PW" "$heap" > "$WORK/jeprof" 2>"$WORK/jeprof.err" || fail "jeprof failed: $(cat "$WORK/jeprof.err")"
cat "$WORK/jeprof"
first=$(grep -m1 -E '^ +[0-9.]+ +[0-9.]+%' "$WORK/jeprof")
[[ $first == *" hot_site" ]] || fail "jeprof's first function: $first"
mb=$(awk '{ print $1 }' <<<"$first")
within "$mb" 16.0 25 || fail "jeprof: hot_site $mb MB (of 2^20 bytes), want about 16.0"

# (b) go tool pprof lists hot_site first, with about 16 MiB of inuse_space.
go tool pprof -top "$pprof" > "$WORK/pprof" 2>&1 || fail "go tool pprof failed: $(cat "$WORK/pprof")"
cat "$WORK/pprof"
grep -q '^Type: inuse_space' "$WORK/pprof" || fail "pprof: default sample type is not inuse_space"
first=$(awk '/ flat%/ { getline; print; exit }' "$WORK/pprof")
[[ $first == *" hot_site" ]] || fail "pprof's first function: $first"
awk '/ flat%/ { getline; print; exit }' <<<"$(go tool pprof -top -lines "$pprof" 2>/dev/null)" | grep -q "hot_site .*$site" ||
    fail "pprof -lines does not put hot_site at $site"
grep -q ' churn$' <<<"$(go tool pprof -sample_index=alloc_space -top "$pprof" 2>/dev/null)" ||
    fail "pprof alloc_space lacks the freed churn"

# (c) the folded file and tide prof top agree, and tide prof reads all three.
"$TIDE" prof top --bytes "$heap" > "$WORK/top" || fail "tide prof top"
cat "$WORK/top"
top_row "$WORK/top" 1 | grep -q " hot_site ($site)\$" || fail "tide prof top: first row $(top_row "$WORK/top" 1)"
top_hot=$(top_row "$WORK/top" 1 | awk '{ print $1 }')
folded_hot=$(awk '$1 ~ /;hot_site$/ || $1 == "hot_site" { s += $2 } END { print s + 0 }' "$folded")
cat "$folded"
(( folded_hot > 0 )) || fail "no hot_site stack in $folded"
within "$folded_hot" "$top_hot" 0.1 || fail "folded hot_site $folded_hot, tide prof top $top_hot"
within "$top_hot" $((16 * MiB)) 25 || fail "hot_site estimate $top_hot is not near 16 MiB"
# every line of the in-process folded file appears, with the same bytes,
# among tide prof folded's (frames the process could not name aside)
"$TIDE" prof folded "$heap" > "$WORK/tfolded"
grep -Eq "main;grow;hot_site [0-9]+$" "$WORK/tfolded" || fail "tide prof folded: no main;grow;hot_site"
t_hot=$(awk '$1 ~ /;hot_site$/ { s += $2 } END { print s + 0 }' "$WORK/tfolded")
within "$t_hot" "$top_hot" 0.1 || fail "tide prof folded hot_site $t_hot vs top $top_hot"
"$TIDE" prof top --bytes "$pprof" > "$WORK/ptop" || fail "tide prof top on pprof"
top_row "$WORK/ptop" 1 | grep -q " hot_site ($site)\$" || fail "tide prof top (pprof): $(top_row "$WORK/ptop" 1)"
within "$(top_row "$WORK/ptop" 1 | awk '{ print $1 }')" "$top_hot" 0.1 || fail "pprof and heap_v2 disagree"
"$TIDE" prof flame "$heap" -o "$WORK/flame.svg" 2>/dev/null && grep -q '<title>hot_site' "$WORK/flame.svg" ||
    fail "tide prof flame"

# A pprof file cut short: one clear error line.
head -c $(( $(stat -c %s "$pprof") / 2 )) "$pprof" > "$WORK/cut.pb.gz"
rc=0; "$TIDE" prof top "$WORK/cut.pb.gz" >/dev/null 2>"$WORK/err" || rc=$?
[[ $rc == 1 ]] && grep -q "cut.pb.gz: truncated gzip" "$WORK/err" || fail "cut pprof: $rc $(cat "$WORK/err")"
ok "profiles from libtidemalloc.so: jeprof, go tool pprof, folded and tide prof agree on hot_site"
