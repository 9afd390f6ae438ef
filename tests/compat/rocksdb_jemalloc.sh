#!/usr/bin/env bash
# RocksDB and tidemalloc's jemalloc symbols.
#  1. A program that detects jemalloc the way RocksDB's HasJemalloc() does
#     sees the interface under LD_PRELOAD=libtidemalloc.so (and not on
#     glibc), and each call RocksDB then makes behaves (jemalloc_probe.cc).
#  2. Debian's db_bench runs correctly under LD_PRELOAD, verifying every
#     read, with whatever set of jemalloc symbols tidemalloc exports.
#     (Debian builds RocksDB without ROCKSDB_JEMALLOC: its HasJemalloc() is
#     compiled out, which this checks too.)
#   usage: rocksdb_jemalloc.sh LIBTIDEMALLOC PROBE
set -euo pipefail
LIB=$(readlink -f "$1")
PROBE=$(readlink -f "$2")
die() { echo "FAIL: $*" >&2; exit 1; }
command -v db_bench >/dev/null || die "db_bench is not installed (apt-get install rocksdb-tools)"
[ "$("$PROBE")" = "jemalloc interface: no" ] || die "the probe finds jemalloc on glibc"
out=$(LD_PRELOAD=$LIB "$PROBE") || die "probe under tidemalloc: $out"
echo "$out"
echo "$out" | grep -q "jemalloc interface: yes" || die "HasJemalloc()-style detection does not see tidemalloc's symbols"

WORK=$(mktemp -d /tmp/tide-rocksdb-je.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
librocks=$(ldd "$(command -v db_bench)" | awk '/librocksdb/{print $3}')
if [ -n "$librocks" ] && grep -qE ' [wU] mallctl$' <<<"$(nm -D "$librocks")"; then
    echo "note: $librocks refers to mallctl: its HasJemalloc() is live"
else
    echo "note: ${librocks:-db_bench} has no reference to mallctl: RocksDB was built without ROCKSDB_JEMALLOC"
fi
LD_PRELOAD=$LIB db_bench --db="$WORK/db" --benchmarks=fillseq,readrandom,stats --num=20000 \
    --reads=20000 --value_size=400 --threads=2 --verify_checksum=true --dump_malloc_stats=true \
    --statistics=false --compression_type=snappy >"$WORK/out" 2>&1 || die "db_bench failed: $(tail -20 "$WORK/out")"
grep -q "readrandom" "$WORK/out" || die "db_bench printed no readrandom result"
grep -q "(20000 of 20000 found)" "$WORK/out" || die "db_bench's reads did not find the keys: $(grep readrandom "$WORK/out")"
grep "readrandom" "$WORK/out"
echo "PASS: RocksDB sees a jemalloc interface it can use, and db_bench runs under tidemalloc"
