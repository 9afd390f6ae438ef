#!/usr/bin/env bash
# A pprof profile that reads anywhere: function names, and file and line
# where the program has debug information, are in the file itself, so
# `go tool pprof` names the sites after the binary is gone (and with
# -symbolize=none), as on a machine the profile was copied to.
#   usage: pprof_no_binary.sh LIBTIDEMALLOC PROF_WORKLOAD
set -euo pipefail
LIB=$(readlink -f "$1")
WORKLOAD=$(readlink -f "$2")
die() { echo "FAIL: $*" >&2; exit 1; }
command -v go >/dev/null || die "go is not installed (apt-get install golang-go)"
WORK=$(mktemp -d /tmp/tide-pprof-nobin.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export HOME=$WORK # go tool pprof keeps state under $HOME
cp "$WORKLOAD" "$WORK/app"
(cd "$WORK" && TIDE_CONF="prof:true,prof_format:pprof,prof_prefix:$WORK/p,lg_prof_sample:16" \
    LD_PRELOAD=$LIB ./app >/dev/null)
rm "$WORK/app" # the binary is gone: nothing left to symbolize from
prof=$(ls "$WORK"/p.*.exit.heap.pb.gz)
for mode in "-symbolize=none" ""; do
    out=$(go tool pprof $mode -top -lines "$prof" 2>&1) || die "go tool pprof $mode: $out"
    line=$(echo "$out" | grep -E ' hot_site .*prof_workload\.c:[0-9]+' | head -1)
    [ -n "$line" ] || die "go tool pprof $mode: hot_site with its file and line not found:
$out"
    echo "$out" | grep -Eq ' main .*prof_workload\.c:[0-9]+' || die "go tool pprof $mode: main not named: $out"
    echo "ok ($mode): $line"
done
# The first site by live bytes is hot_site, named from the file itself.
first=$(go tool pprof -symbolize=none -top "$prof" 2>/dev/null | sed -n '/flat%/{n;p}')
echo "$first" | grep -q hot_site || die "the top site is not hot_site: $first"
echo "PASS: the pprof profile names its sites, files and lines without the binary"
