# tide run --allocator glibc, end to end: the shim reports glibc's arenas,
# live bytes match what the workload holds, and glibc keeps the freed wave.
source "$(dirname "$0")/lib.sh"

mib=64
known=$(( mib * MiB / 1000 * 1000 ))
"$TIDE" run --allocator glibc --interval-ms 50 --out "$WORK/g" \
    -- "$WORKLOAD" $mib 1500 2>"$WORK/err" || { cat "$WORK/err"; fail "tide run failed"; }
cat "$WORK/err"
csv=$WORK/g/timeline.csv
n=$(rows "$csv")
((n >= 10)) || fail "only $n rows"
live=$(col "$csv" live_bytes)
rss=$(col "$csv" rss_bytes)
within "$live" "$known" 10 || fail "final live $live not within 10% of $known"
[[ $(col "$csv" glibc_arenas) == 1 ]] || fail "arenas: $(col "$csv" glibc_arenas) (the shim must not add one)"
(( rss > live * 17 / 10 )) || fail "glibc should hold both waves: rss $rss live $live"
grep -q "fragmentation, not a leak" "$WORK/err" || fail "diagnosis"
check_report "$WORK/g/report.html"
grep -q "Free chunks per glibc arena" "$WORK/g/report.html" || fail "no per-arena table"
ok "glibc: $n rows, live $live (known $known), rss $rss"

# Children: live bytes and RSS are summed over the process tree.
"$TIDE" run --quiet --allocator glibc --interval-ms 50 --out "$WORK/c" -- \
    sh -c "$WORKLOAD 16 1500 & $WORKLOAD 16 1500; wait"
csv=$WORK/c/timeline.csv
row=$(($(rows "$csv") * 2 / 3)) # both children asleep; at the end one may be gone
live=$(col "$csv" live_bytes $row)
procs=$(col "$csv" procs $row)
((procs >= 3)) || fail "procs $procs, want sh and two workloads"
within "$live" $((2 * 16 * MiB)) 10 || fail "two children: live $live, want ~32 MiB"
ok "glibc, two children: procs $procs, live $live"

# Threads: one arena each, reported per arena.
"$TIDE" run --quiet --allocator glibc --interval-ms 50 --out "$WORK/m" -- "$WORKLOAD" -t 4 32 1000
csv=$WORK/m/timeline.csv
arenas=$(col "$csv" glibc_arenas)
list=$(col "$csv" glibc_arena_free)
live=$(col "$csv" live_bytes)
[[ $arenas == 5 ]] || fail "4 threads: $arenas arenas, want 5"
[[ $(tr ';' '\n' <<<"$list" | wc -l) == 5 ]] || fail "arena_free list: $list"
within "$live" $((32 * MiB)) 10 || fail "4 threads: live $live"
ok "glibc, 4 threads: $arenas arenas, free per arena $list"
