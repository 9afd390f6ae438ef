#!/usr/bin/env bash
# `make demo`: the two-wave workload (tools/demo_workload.c) under glibc and
# under tidemalloc, a side-by-side table, and one HTML report with a line per
# allocator in each chart.
#
# Environment (all optional):
#   BUILD             build directory (default: build, as in the Makefile)
#   DEMO_OUT          where the runs and report.html go (default: $BUILD/demo)
#   DEMO_MIB          MiB per wave (default 256)
#   DEMO_SLEEP_MS     how long the workload holds the second wave (default 4000)
#   DEMO_INTERVAL_MS  sampling interval (default 100)
#   DEMO_ALLOCATORS   allocators to compare (default "glibc tide"; also
#                     jemalloc, mimalloc, tcmalloc if installed)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
out=${DEMO_OUT:-$build/demo}
mib=${DEMO_MIB:-256}
sleep_ms=${DEMO_SLEEP_MS:-4000}
interval=${DEMO_INTERVAL_MS:-100}
allocators=${DEMO_ALLOCATORS:-glibc tide}
tide=$build/tide
workload=$build/demo_workload

if [[ ! -x $tide || ! -x $workload ]]; then
    echo "demo: $tide or $workload missing; building" >&2
    cmake -S "$root" -B "$build" >/dev/null
    cmake --build "$build" -j "$(nproc)" >/dev/null
fi

echo "Two waves of 1,000-byte objects, $mib MiB each; the first wave is freed,"
echo "the second is held for $((sleep_ms / 1000)) s. Live at the end: $mib MiB."
echo
dirs=()
for a in $allocators; do
    printf '  running under %-9s ' "$a..."
    start=$(date +%s%N)
    rc=0
    "$tide" run --quiet --allocator "$a" --interval-ms "$interval" --out "$out/$a" \
        -- "$workload" "$mib" "$sleep_ms" || rc=$?
    if [[ $rc != 0 ]]; then
        echo "failed (status $rc)"
        exit "$rc"
    fi
    ms=$((($(date +%s%N) - start) / 1000000))
    printf 'done in %d.%d s\n' $((ms / 1000)) $((ms % 1000 / 100))
    dirs+=("$out/$a")
done
echo
"$tide" report --title "Two-wave workload: ${allocators// / vs }" -o "$out/report.html" "${dirs[@]}"
