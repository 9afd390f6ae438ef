#!/usr/bin/env bash
# Runs the libFuzzer target for a bounded time, starting from the seed
# corpus (read-only: new inputs go to a scratch directory in the build
# tree), and fails on any crash, model violation, sanitizer report, leak or
# timeout.
#
#   run_fuzz.sh FUZZ_BINARY CORPUS_DIR WORK_DIR SECONDS
set -euo pipefail
bin=$1 corpus=$2 work=$3 secs=$4
[ -x "$bin" ] || { echo "FAIL: no fuzz binary $bin" >&2; exit 1; }
if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
    echo "FAIL: seed corpus $corpus is missing or empty" >&2
    exit 1
fi
rm -rf "$work"
mkdir -p "$work/new" "$work/artifacts"
rc=0
"$bin" -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/new" "$corpus" >"$work/log" 2>&1 || rc=$?
grep -E '^(INFO: seed corpus|#[0-9]+ +(INITED|DONE))|^stat::|^Done ' "$work/log" || true
if [ "$rc" != 0 ]; then
    echo "FAIL: libFuzzer exited with $rc; the end of its log:" >&2
    tail -60 "$work/log" >&2
    ls -l "$work/artifacts" >&2 || true
    exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
[ -n "$runs" ] && [ "$runs" -gt 0 ] || { echo "FAIL: no executions recorded" >&2; exit 1; }
echo "fuzz: $runs executions in $secs s, $(ls "$work/new" | wc -l) new inputs, no failure"
