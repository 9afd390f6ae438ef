# tide prof reads pprof files it did not write: a Go program's own heap
# profile (runtime/pprof, with functions, lines and packed fields). Its
# top site and bytes match go tool pprof's.
source "$(dirname "$0")/lib.sh"
command -v go >/dev/null || fail "go missing (Debian package golang-go)"
export HOME=$WORK GOCACHE=$WORK/gocache GO111MODULE=off GOFLAGS=
src=$TIDE_TOOLS/tests/prof_go_heap.go
cp "$src" "$WORK/main.go"
(cd "$WORK" && go build -o gheap main.go) || fail "go build failed"
"$WORK/gheap" "$WORK/heap.pb.gz" || fail "the Go program failed"
go tool pprof -top "$WORK/heap.pb.gz" > "$WORK/pprof" 2>&1 || fail "go tool pprof: $(cat "$WORK/pprof")"
"$TIDE" prof top "$WORK/heap.pb.gz" > "$WORK/top" || fail "tide prof top failed"
cat "$WORK/pprof" "$WORK/top"
row=$(awk 'f && ++n == 1 { print; exit } /^ *flat +flat%/ { f = 1 }' "$WORK/top")
line=$(grep -n '// HOT$' "$src" | cut -d: -f1)
[[ $row == *" main.hotSite (prof_go_heap.go:$line)" || $row == *" main.hotSite (main.go:$line)" ]] ||
    fail "first row: $row"
# pprof picks the unit by the value (kB, MB, GB: binary multiples); in MiB.
theirs=$(awk '$NF == "main.hotSite" { v = $1; m = 1 / 1048576
  if (v ~ /GB$/) m = 1024; else if (v ~ /MB$/) m = 1; else if (v ~ /kB$/) m = 1 / 1024
  sub("[kMG]?B$", "", v); printf "%.1f\n", v * m; exit }' "$WORK/pprof")
ours=$(awk '{ print $1 }' <<<"$row")
[[ -n $theirs && $theirs == "$ours" ]] || fail "hot site: go tool pprof $theirs MB, tide prof $ours MiB"
grep -q '^runtime.main;main.main;main.hotSite [0-9]*$' <<<"$("$TIDE" prof folded "$WORK/heap.pb.gz")" ||
    fail "folded: $("$TIDE" prof folded "$WORK/heap.pb.gz")"
ok "tide prof reads Go's own heap profiles"
