#!/usr/bin/env bash
# Out of address space for real: tests/faults/oom.c in a child shell with
# `ulimit -v` (256 MiB), once on glibc (checks the test) and once with
# LD_PRELOAD=libtidemalloc.so.  Each must print "oom: OK": every failure
# was NULL/ENOMEM, no crash, blocks intact, service again after freeing.
#
#   ulimit.sh LIBTIDEMALLOC OOM_BINARY [LIMIT_KIB]
set -euo pipefail
lib=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
bin=$2
limit=${3:-262144}
status=0
for mode in glibc tide; do
    rc=0
    if [ "$mode" = tide ]; then
        out=$(bash -c 'ulimit -v "$1" && exec env LD_PRELOAD="$2" "$3" --expect-tidemalloc' \
              _ "$limit" "$lib" "$bin" 2>&1) || rc=$?
    else
        out=$(bash -c 'ulimit -v "$1" && exec "$2"' _ "$limit" "$bin" 2>&1) || rc=$?
    fi
    printf '%s (ulimit -v %s KiB), exit %s:\n%s\n' "$mode" "$limit" "$rc" "$out" | sed 's/^/  /'
    if [ "$rc" != 0 ] || ! grep -q '^oom: OK$' <<<"$out"; then
        echo "FAIL: $mode run under ulimit -v did not finish cleanly (exit $rc)" >&2
        [ $rc -gt 128 ] && echo "FAIL: killed by signal $((rc - 128))" >&2
        status=1
    fi
done
exit $status
