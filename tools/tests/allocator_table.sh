# tide run and the benchmarks read one allocator list, tools/allocators.tsv:
# the table tide was built with, the one bench/ loads and the file itself
# agree row for row; and for each packaged allocator that is installed, both
# preload the same file.
source "$(dirname "$0")/lib.sh"
list=$TIDE_TOOLS/allocators.tsv
bench=$(dirname "$TIDE_TOOLS")/bench

# Each side prints the rows as name, family, package, sonames, tab-separated.
grep -vE '^[[:space:]]*(#|$)' "$list" | awk -v OFS='\t' '{ $1 = $1; print }' >"$WORK/file"
"$TIDE" run --list-allocators >"$WORK/tide" || fail "tide run --list-allocators failed"
python3 - "$bench" >"$WORK/bench" <<'PY' || fail "bench/tidebench/allocators.py cannot load $list"
import sys
sys.path.insert(0, sys.argv[1])
from tidebench import allocators
for e in allocators.TABLE:
    print(e.name, e.family, e.package or "-", ",".join(e.sonames) or "-", sep="\t")
# bench's defaults are the list, in its order
assert allocators.DEFAULT == tuple(e.name for e in allocators.TABLE), allocators.DEFAULT
PY
diff -u "$WORK/file" "$WORK/tide" || fail "tide was built from another list than $list"
diff -u "$WORK/file" "$WORK/bench" || fail "bench/ reads another list than $list"
ok "tide and bench/ see the same $(wc -l <"$WORK/file") allocators"

# The two sonames Debian's mimalloc has gone by, each once known to only one
# side, are both in the one list.
grep -qE '^mimalloc\s.*libmimalloc\.so\.2\.0,libmimalloc\.so\.2$' "$list" ||
    fail "mimalloc's row lacks libmimalloc.so.2.0 or libmimalloc.so.2"

# Installed packaged allocators: the same library from both.
awk -F'\t' '$3 != "-" { print $1 }' "$WORK/file" | while read -r name; do
    rc=0
    "$TIDE" run --quiet --allocator "$name" --out "$WORK/$name" -- true 2>"$WORK/err" || rc=$?
    if [[ $rc == 125 ]] && grep -q "is not installed" "$WORK/err"; then
        ok "$name: not installed, skipped"
        continue
    fi
    [[ $rc == 0 ]] || { cat "$WORK/err"; fail "$name: tide run returned $rc"; }
    tide_lib=$(summary_key "$WORK/$name" library)
    bench_lib=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1])
from tidebench import allocators
print(allocators.builtin(sys.argv[2], "/").preload)' "$bench" "$name")
    [[ $tide_lib == "$bench_lib" ]] || fail "$name: tide preloads $tide_lib, bench $bench_lib"
    ok "$name: both preload $tide_lib"
done
