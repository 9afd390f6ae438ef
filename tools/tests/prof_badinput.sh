# tide prof on truncated and foreign files: one clear line naming the file
# and what is wrong, exit status 1, nothing on stdout, never a crash.
source "$(dirname "$0")/lib.sh"
source "$TIDE_TOOLS/tests/prof_lib.sh"

"$PW" fixture "$WORK/good.heap" 32 8 || fail "fixture"
good=$WORK/good.heap
: > "$WORK/empty"
printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10' > "$WORK/image.png"
head -c 150 "$good" > "$WORK/mid-line.heap"                # cut inside a line
awk '/^@/ && ++n == 2 { print; exit } { print }' "$good" > "$WORK/mid-stack.heap"  # a stack without counts
sed '/^MAPPED_LIBRARIES:/,$d' "$good" > "$WORK/no-maps.heap"   # cut before the mappings
sed '3a\
something else' "$good" > "$WORK/garbage-line.heap"
sed '0,/^@ 0x/s/^@ 0x/@ zz/' "$good" > "$WORK/bad-frame.heap"
printf 'heap_v2/abc\n' > "$WORK/bad-header.heap"
sed 's/^heap_v2/heap_v3/' "$good" > "$WORK/v3.heap"
gzip -c "$good" | head -c 100 > "$WORK/cut.heap.gz"        # gzip cut short
printf '\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage' > "$WORK/corrupt.gz"
printf 'hello' | gzip -c > "$WORK/text.gz"                 # gzip, but not a profile
mkdir "$WORK/dir"

expect_error() { # FILE WHAT...
    local f=$1; shift
    for cmd in "top" "folded" "flame -o $WORK/x.svg"; do
        local rc=0
        # shellcheck disable=SC2086
        "$TIDE" prof $cmd "$f" >"$WORK/out" 2>"$WORK/err" || rc=$?
        [[ $rc == 1 ]] || fail "prof $cmd $f: exit $rc, want 1 ($(cat "$WORK/err"))"
        [[ ! -s $WORK/out ]] || fail "prof $cmd $f printed: $(head -c 200 "$WORK/out")"
        [[ $(wc -l < "$WORK/err") == 1 ]] || fail "prof $cmd $f: not one line: $(cat "$WORK/err")"
        grep -q "^tide prof ${cmd%% *}: $f: " "$WORK/err" || fail "prof $cmd $f: file not named: $(cat "$WORK/err")"
        for w in "$@"; do
            grep -qi -- "$w" "$WORK/err" || fail "prof $cmd $f: '$w' not in: $(cat "$WORK/err")"
        done
    done
    echo "  $(basename "$f"): $(cat "$WORK/err")"
}

expect_error "$WORK/empty" "empty file"
expect_error "$WORK/image.png" "not a heap profile"
expect_error "$WORK/mid-line.heap" "truncated" "incomplete"
expect_error "$WORK/mid-stack.heap" "truncated" "no 't\*:' line"
expect_error "$WORK/no-maps.heap" "truncated" "MAPPED_LIBRARIES"
expect_error "$WORK/garbage-line.heap" "line 4:" "unexpected 'something else'"
expect_error "$WORK/bad-frame.heap" "not a hex address"
expect_error "$WORK/bad-header.heap" "first line"
expect_error "$WORK/v3.heap" "not a heap profile"
expect_error "$WORK/cut.heap.gz" "truncated gzip"
expect_error "$WORK/corrupt.gz" "corrupt gzip"
expect_error "$WORK/text.gz" "pprof"
expect_error "$WORK/dir" "read error"
expect_error "$WORK/missing" "No such file"

# diff names whichever file is bad.
rc=0; "$TIDE" prof diff "$good" "$WORK/empty" >"$WORK/out" 2>"$WORK/err" || rc=$?
[[ $rc == 1 && ! -s $WORK/out ]] && grep -q "^tide prof diff: $WORK/empty: empty file$" "$WORK/err" ||
    fail "diff with a bad NEW: $rc $(cat "$WORK/err")"
# Cut anywhere (plain and gzipped): exit 0 or 1, never a crash.
size=$(stat -c %s "$good")
gzip -c "$good" > "$WORK/good.heap.gz"
gsize=$(stat -c %s "$WORK/good.heap.gz")
for i in $(seq 1 60); do
    for src in "$good:$size" "$WORK/good.heap.gz:$gsize"; do
        f=${src%:*}; n=$(( ${src##*:} * i / 61 ))
        head -c "$n" "$f" > "$WORK/cut"
        rc=0; "$TIDE" prof top "$WORK/cut" >/dev/null 2>"$WORK/err" || rc=$?
        (( rc <= 1 )) || fail "prof top on $f cut at $n: exit $rc"
    done
done
# The good file still reads.
"$TIDE" prof top "$good" >/dev/null || fail "the good fixture does not read"
ok "tide prof: bad input gets one clear line"
