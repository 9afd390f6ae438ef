#!/usr/bin/env bash
# GNU sort on a generated ~64 MiB file: a plain in-memory sort, a numeric
# key sort with a small buffer (temporary files and merging, parallel
# threads) and a unique sort.  Outputs must be byte-identical to glibc's.
#   sort.sh PATH/TO/libtidemalloc.so [MiB]
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.sh
source "$HERE/common.sh"
real_init "$1"
MIB=${2:-64}
real_need sort awk cmp

DATA=$WORK/data.txt
# ~27 bytes a line; deterministic (the same file feeds both runs anyway).
awk -v lines=$((MIB * 1024 * 1024 / 27)) 'BEGIN {
    srand(12345);
    for (i = 0; i < lines; i++) {
        k = int(rand() * 1000000000);
        printf "%09d %d %s%x\n", k, int(rand() * 100000), substr("abcdefghijklmnopqrstuvwxyz", 1 + i % 26, 1 + i % 9), i;
    }
}' >"$DATA"
echo "input: $(wc -c <"$DATA") bytes, $(wc -l <"$DATA") lines"

real_both sort sh -c '
    sort "$1" -o plain.txt &&
    sort -t " " -k2,2n -k1,1 -S 16M --parallel=2 -T . "$1" -o numeric.txt &&
    cut -c1-6 "$1" | sort -u -o unique.txt &&
    wc -l plain.txt numeric.txt unique.txt && cksum plain.txt numeric.txt unique.txt' sh "$DATA"
real_compare_file sort plain.txt
real_compare_file sort numeric.txt
real_compare_file sort unique.txt
real_check_bindings sort "sort:malloc" "sort:free" "sort:realloc"
real_finish
