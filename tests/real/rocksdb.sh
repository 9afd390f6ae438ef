#!/usr/bin/env bash
# RocksDB's db_bench under LD_PRELOAD, compared with the same run on glibc.
#
# fillrandom, overwrite, readrandom and readseq with a fixed seed, small
# write buffers and SST files (so flushes and compactions happen), every
# read verifying block checksums (--verify_checksum=1, paranoid checks).
# Then, on the database each run wrote: `ldb checkconsistency`, `sst_dump
# --command=verify` and a full `ldb scan` (hashed).  Required: every step
# exits 0, no output mentions corruption, readrandom finds the same number
# of keys, and the scans of the two databases are identical (same seed, so
# the same contents).  LD_DEBUG=bindings must show librocksdb's operator
# new/delete and malloc bound to libtidemalloc.so.
#
#   rocksdb.sh PATH/TO/libtidemalloc.so [NUM]
source "$(dirname "$0")/common.sh"
real_init "$@"
real_need db_bench ldb sst_dump
NUM=${2:-200000}

run_rocks() {
    db_bench --benchmarks=fillrandom,overwrite,readrandom,readseq,stats --num="$NUM" \
        --reads="$NUM" --value_size=100 --verify_checksum=1 --paranoid_checks=1 --seed=42 \
        --threads=1 --db="$PWD/db" --use_existing_db=0 --compression_type=snappy \
        --write_buffer_size=1048576 --target_file_size_base=1048576 \
        --max_bytes_for_level_base=4194304 --statistics=0 >bench.log 2>&1 ||
        { echo "db_bench exited with $?"; tail -20 bench.log; exit 1; }
    # Only the deterministic parts of db_bench's report.
    tr '\r' '\n' <bench.log | sed -n 's/^readrandom .*(\([0-9]* of [0-9]* found\)).*/readrandom: \1/p'
    grep -c '^fillrandom \|^overwrite \|^readrandom \|^readseq ' bench.log
    ldb --db="$PWD/db" checkconsistency
    local f n=0
    for f in db/*.sst; do
        sst_dump --file="$f" --command=verify >sst.log 2>&1 || { echo "sst_dump $f failed"; cat sst.log; exit 1; }
        n=$((n + 1))
    done
    echo "sst files verified: $((n > 0))"
    ldb --db="$PWD/db" scan --hex >scan.txt || { echo "ldb scan failed"; exit 1; }
    echo "keys: $(wc -l <scan.txt), scan md5: $(md5sum <scan.txt | cut -d' ' -f1)"
    if grep -qi 'corrupt' bench.log scan.txt sst.log; then
        echo "corruption reported:"
        grep -i 'corrupt' bench.log scan.txt sst.log | head
        exit 1
    fi
}
export -f run_rocks
export NUM
real_both rocksdb bash -c run_rocks
echo "--- tidemalloc run:"
cat "$WORK/rocksdb.tide.out"
tr '\r' '\n' <"$WORK/rocksdb.tide/bench.log" | grep -E '^(fillrandom|overwrite|readrandom|readseq) ' | sed 's/^/    /'
real_check_bindings rocksdb 'librocksdb\.so[.0-9]*:_Znwm' 'librocksdb\.so[.0-9]*:malloc' 'db_bench:_Znwm'
real_finish
