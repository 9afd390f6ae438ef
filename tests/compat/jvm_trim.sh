#!/usr/bin/env bash
# A JVM under LD_PRELOAD=libtidemalloc.so frees a burst of native memory;
# `jcmd PID System.trim_native_heap` (OpenJDK 17: malloc_trim underneath)
# reports the RSS it gave back.
#   usage: jvm_trim.sh LIBTIDEMALLOC
set -euo pipefail
LIB=$(readlink -f "$1")
HERE=$(cd "$(dirname "$0")" && pwd)
die() { echo "FAIL: $*" >&2; exit 1; }
for p in java jcmd; do
    command -v $p >/dev/null || die "$p is not installed (apt-get install openjdk-17-jdk-headless)"
done
WORK=$(mktemp -d /tmp/tide-jvm-trim.XXXXXX)
PID=
cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
javac -XDignore.symbol.file -d "$WORK" "$HERE/NativeBurst.java" 2>"$WORK/javac.log" || die "javac: $(cat "$WORK/javac.log")"
# A long decay: the freed pages stay resident until the trim.
LD_PRELOAD=$LIB TIDE_CONF=decay_ms:600000 java -cp "$WORK" NativeBurst 2000 >"$WORK/out" 2>&1 &
PID=$!
for _ in $(seq 300); do grep -q freed "$WORK/out" && break; sleep 0.1; done
grep -q "freed 2000" "$WORK/out" || die "the JVM did not finish its burst: $(cat "$WORK/out")"
grep -q tidemalloc "/proc/$PID/maps" || die "libtidemalloc.so is not mapped into the JVM"
out=$(jcmd "$PID" System.trim_native_heap)
echo "$out"
# "Trim native heap: RSS+Swap: 293M->99652K (-196M)"
python3 - "$out" <<'PY' || die "trim_native_heap gave back too little"
import re, sys
m = re.search(r"RSS\+Swap: (\d+)([KMG])->(\d+)([KMG])", sys.argv[1])
if not m:
    sys.exit("no RSS figures in jcmd's answer")
unit = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
before, after = int(m[1]) * unit[m[2]], int(m[3]) * unit[m[4]]
freed = before - after
print(f"gave back {freed >> 20} MiB of the 190 MiB burst")
sys.exit(0 if freed >= 150 << 20 else 1)
PY
echo "PASS: jcmd System.trim_native_heap returns the JVM's freed native memory"
