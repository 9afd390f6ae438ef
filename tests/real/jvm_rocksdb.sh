#!/usr/bin/env bash
# A JVM over RocksDB (Venice's own stack): bench/apps/jvm_rocksdb's KvService
# (Java threads calling RocksDB's C API through a JNI library) under
# LD_PRELOAD, compared with the same run on glibc.
#
# 1. `KvService check`, on glibc and under tidemalloc: fill 20 000 keys
#    (values 100-8000 B) from 8 threads, 8 threads x 10 000 random gets over
#    a fixed key set, 8 threads writing (put, insert, delete, read back) to
#    disjoint key ranges, close, reopen and scan everything in key order.
#    Every value read is checked against the one written; the output (counts
#    and FNV-1a hashes per thread and of the final scan) must be identical,
#    stdout and stderr, and the exit status 0.  LD_DEBUG=bindings must show
#    malloc bound to libtidemalloc.so from libjvm.so, librocksdb and the JNI
#    library, and operator new from librocksdb.
# 2. `KvService serve` under tidemalloc for a few seconds: 32 reader threads,
#    2 rate-limited writers, a 16 MB block cache, after its own load phase.
#    While it runs, /proc/PID/maps of the JVM must hold libtidemalloc.so;
#    it must exit 0 with progress lines and a result line showing reads and
#    writes.
# Neither run may leave a JVM fatal error file (hs_err_pid*.log) or print
# "A fatal error has been detected".
#
# Skipped (exit 77) when the JDK or RocksDB's C headers were missing at
# build time (the build writes the reason to JVM_DIR/MISSING); .ci/run
# installs openjdk-17-jdk-headless and librocksdb-dev.
#
#   jvm_rocksdb.sh PATH/TO/libtidemalloc.so BUILD/bench/jvm_rocksdb [SERVE_SECONDS]
source "$(dirname "$0")/common.sh"
[ $# -ge 2 ] || real_die "usage: $0 PATH/TO/libtidemalloc.so BUILD/bench/jvm_rocksdb [SERVE_SECONDS]"
JVM_DIR=$(cd "$2" 2>/dev/null && pwd) || real_die "no such directory: $2"
SERVE_SECONDS=${3:-5}
if [ -f "$JVM_DIR/MISSING" ]; then
    echo "SKIPPED: the JVM/RocksDB service was not built: $(cat "$JVM_DIR/MISSING")"
    exit 77
fi
KV=$JVM_DIR/kvservice
for f in "$KV" "$JVM_DIR/KvService.class" "$JVM_DIR/Rocks.class" "$JVM_DIR/librocks_jni.so"; do
    [ -e "$f" ] || real_die "$f is missing (build with make build; no $JVM_DIR/MISSING says why it was not built)"
done
real_init "$1"
# Nothing from the caller's environment may change the JVM.
unset JAVA_TOOL_OPTIONS _JAVA_OPTIONS JDK_JAVA_OPTIONS CLASSPATH || true

# JVM options for every run: a fixed heap and collector, the fatal error
# file in the run's directory, no core dump (the launcher adds
# -XX:-UsePerfData: no /tmp/hsperfdata files).
JOPTS=(-J-Xms256m -J-Xmx512m -J-XX:+UseG1GC -J-XX:ErrorFile=./hs_err_pid%p.log
       -J-XX:-CreateCoredumpOnCrash)

# no_fatal NAME DIR OUT ERR: the JVM did not die of a fatal error.
no_fatal() {
    local name=$1 dir=$2 out=$3 err=$4 f
    for f in "$dir"/hs_err_pid*.log; do
        if [ -e "$f" ]; then
            real_fail "$name: the JVM wrote a fatal error file $(basename "$f"):"
            head -40 "$f" >&2
        fi
    done
    if grep -q 'A fatal error has been detected' "$out" "$err"; then
        real_fail "$name: 'A fatal error has been detected' in the JVM's output"
        grep -A5 'A fatal error has been detected' "$out" "$err" | head -20 >&2
    fi
}

# 1. check mode on both allocators.
real_both check "$KV" "${JOPTS[@]}" check --db=db --keys=20000 --threads=8 --reads=10000 --writes=1500
for mode in glibc tide; do
    no_fatal "check ($mode)" "$WORK/check.$mode" "$WORK/check.$mode.out" "$WORK/check.$mode.err"
done
grep -qx 'check ok' "$WORK/check.tide.out" || real_fail "check: no 'check ok' under tidemalloc"
echo "--- tidemalloc check output (tail):"
tail -3 "$WORK/check.tide.out" | sed 's/^/    /'
real_check_bindings check 'libjvm\.so:malloc' 'libjvm\.so:free' 'librocksdb\.so[.0-9]*:_Znwm' \
    'librocksdb\.so[.0-9]*:malloc' 'librocks_jni\.so:malloc'

# 2. a slice of the service under tidemalloc.
name=serve
dir=$WORK/$name.tide
mkdir -p "$dir"
out=$WORK/$name.tide.out err=$WORK/$name.tide.err
t0=$(date +%s%N)
(cd "$dir" && exec env LD_PRELOAD="$TIDE_LIB" "$KV" "${JOPTS[@]}" serve --db=db --keys=20000 --cache=16M \
    --write-buffer=4M --readers=32 --writers=2 --write-rate=500 --seconds="$SERVE_SECONDS" --seed=7) \
    >"$out" 2>"$err" &
pid=$!
# alive PID: running (not gone, not a zombie).
alive() {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
# Once the service reports progress, the JVM (this very process: env and the
# launcher exec it) must have libtidemalloc.so mapped.
lib_real=$(readlink -f "$TIDE_LIB")
mapped=no threads=0
deadline=$(($(date +%s) + 240 + SERVE_SECONDS))
while alive "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do
    if grep -q '^progress ' "$out" 2>/dev/null; then
        grep -qF "$lib_real" "/proc/$pid/maps" 2>/dev/null && mapped=yes
        threads=$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null || true)
        break
    fi
    sleep 0.2
done
while alive "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.2
done
if alive "$pid"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rc="timeout (killed after $((240 + SERVE_SECONDS)) s)"
else
    rc=0
    wait "$pid" || rc=$?
fi
printf '%-6s %-14s exit %s, %s ms\n' tide "$name" "$rc" "$((($(date +%s%N) - t0) / 1000000))"
if [ "$rc" != 0 ]; then
    real_fail "$name: exit status $rc under tidemalloc"
    echo "--- stderr (head):" >&2
    head -c 4000 "$err" >&2
fi
no_fatal "$name" "$dir" "$out" "$err"
[ "$mapped" = yes ] ||
    real_fail "$name: $lib_real not in /proc/$pid/maps of the running JVM (threads: $threads)"
[ "${threads:-0}" -ge 32 ] || real_fail "$name: the JVM had only ${threads:-0} threads (32 readers expected)"
nprog=$(grep -c '^progress t_ms=[0-9]* reads=[0-9]* writes=[0-9]* ' "$out" || true)
[ "$nprog" -ge 2 ] || real_fail "$name: $nprog progress lines, expected at least 2"
result=$(grep '^result workload=jvm-rocksdb ' "$out" || true)
if [ -z "$result" ]; then
    real_fail "$name: no result line"
else
    reads=$(sed -n 's/.* reads=\([0-9]*\) .*/\1/p' <<<"$result")
    writes=$(sed -n 's/.* writes=\([0-9]*\) .*/\1/p' <<<"$result")
    misses=$(sed -n 's/.* misses=\([0-9]*\) .*/\1/p' <<<"$result")
    [ "${reads:-0}" -gt 0 ] || real_fail "$name: no reads in: $result"
    [ "${writes:-0}" -gt 0 ] || real_fail "$name: no writes in: $result"
    [ "${misses:-1}" = 0 ] || real_fail "$name: $misses reads found no value (every key was loaded)"
    echo "serve: mapped=$mapped threads=$threads; $(sed 's/.*\(seconds=[^ ]*\).*\(reads=[0-9]*\) \(writes=[0-9]*\).*\(reads_per_s=[^ ]*\) \(writes_per_s=[^ ]*\).*/\1 \2 \3 \4 \5/' <<<"$result")"
fi
[ -s "$err" ] && { echo "--- $name stderr:"; head -20 "$err"; }
real_finish
