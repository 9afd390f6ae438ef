# make demo's script, small: both allocators, the table and the report.
source "$(dirname "$0")/lib.sh"
tide_has_stats || skip "this libtidemalloc.so writes no tide-stats lines (stats_fd) yet"
BUILD=$TIDE_BUILD DEMO_OUT=$WORK/demo DEMO_MIB=32 DEMO_SLEEP_MS=2500 DEMO_INTERVAL_MS=50 \
    bash "$TIDE_TOOLS/demo.sh" >"$WORK/out"
cat "$WORK/out"
grep -q '^final live ' "$WORK/out" || fail "no table"
grep -q '^  glibc: .*fragmentation, not a leak' "$WORK/out" || fail "glibc diagnosis"
grep -q '^  tide: ' "$WORK/out" || fail "tide diagnosis"
! grep -q '^  tide: .*held by the allocator' "$WORK/out" || fail "tide should not look fragmented"
check_report "$WORK/demo/report.html"
ok "demo"
