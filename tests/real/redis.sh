#!/usr/bin/env bash
# Redis under LD_PRELOAD, compared with the same session on glibc.
#
# Each session: start redis-server (RDB only, debug commands on), load a
# deterministic data set into db 0 with redis-cli --pipe (strings up to
# 1 MiB, APPENDs, hashes, lists, sets, sorted sets, counters), run
# redis-benchmark with all its default tests (into db 1, which is then
# flushed), then record DBSIZE, DEBUG DIGEST and sampled values; DEBUG
# RELOAD (save + load) must keep the digest; SAVE, SHUTDOWN, restart from
# the RDB file: the digest, DBSIZE and samples must be unchanged.
# The recorded output must be identical between glibc and tidemalloc,
# every benchmark test must report a rate, and LD_DEBUG=bindings must show
# redis-server's malloc/free bound to libtidemalloc.so.
#
#   redis.sh PATH/TO/libtidemalloc.so [REQUESTS]
source "$(dirname "$0")/common.sh"
real_init "$@"
real_need redis-server redis-cli redis-benchmark
REQUESTS=${2:-20000}

gen_data() {
    python3 - <<'PY'
import sys
out = sys.stdout
def cmd(*args):
    out.write("*%d\r\n" % len(args))
    for a in args:
        a = str(a)
        out.write("$%d\r\n%s\r\n" % (len(a.encode()), a))
for i in range(20000):
    cmd("SET", "str:%d" % i, ("v%d-" % i) * (1 + i % 37))
for i in range(0, 20000, 7):
    cmd("APPEND", "str:%d" % i, "x" * (i % 500))
for i in range(40):
    cmd("SET", "big:%d" % i, chr(65 + i % 26) * (1024 * (1 + i * 25)))
for i in range(2000):
    cmd("HSET", "hash:%d" % (i % 300), "f%d" % i, "val-%d" % (i * i))
for i in range(30000):
    cmd("RPUSH", "list:%d" % (i % 50), "item-%d" % i)
for i in range(200):
    cmd("LPOP", "list:%d" % (i % 50))
for i in range(20000):
    cmd("SADD", "set:%d" % (i % 100), "m%d" % (i * 7919 % 100003))
for i in range(20000):
    cmd("ZADD", "zset:%d" % (i % 40), (i * 37) % 1000, "z%d" % i)
for i in range(5000):
    cmd("INCRBY", "counter:%d" % (i % 97), i)
for i in range(0, 20000, 3):
    cmd("DEL", "str:%d" % i)
PY
}

# Commands whose output is recorded and compared.
snapshot() {
    local port=$1
    redis-cli -p "$port" DBSIZE
    redis-cli -p "$port" DEBUG DIGEST
    local k
    for k in str:1 str:2 str:7 str:19999 hash:17 counter:5 counter:96; do
        redis-cli -p "$port" --no-raw DUMP "$k" >/dev/null
        case $k in
        hash:*) redis-cli -p "$port" HGETALL "$k" | sort ;;
        *) redis-cli -p "$port" GET "$k" ;;
        esac
    done
    redis-cli -p "$port" STRLEN big:39
    redis-cli -p "$port" LRANGE list:3 0 5
    redis-cli -p "$port" LLEN list:49
    redis-cli -p "$port" SCARD set:42
    redis-cli -p "$port" ZRANGE zset:7 0 4 WITHSCORES
    redis-cli -p "$port" ZCARD zset:39
}

start_server() { # MODE PORT DIR
    local mode=$1 port=$2 dir=$3
    local -a env=()
    if [ "$mode" = tide ]; then
        env=(env LD_PRELOAD="$TIDE_LIB" LD_DEBUG=bindings LD_DEBUG_OUTPUT="$WORK/ld.redis.tide")
    fi
    "${env[@]}" redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$dir" --dbfilename dump.rdb --enable-debug-command yes --daemonize no \
        --logfile "$dir/server.log" &
    SERVER_PID=$!
    local i
    for i in $(seq 100); do
        redis-cli -p "$port" PING >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "redis-server ($mode) did not start:" >&2
    tail -20 "$dir/server.log" >&2 || true
    return 1
}

stop_server() { # PORT
    redis-cli -p "$1" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    wait "$SERVER_PID" 2>/dev/null
    local rc=$?
    SERVER_PID=
    return $rc
}

session() { # MODE PORT
    local mode=$1 port=$2 dir=$WORK/redis.$mode
    mkdir -p "$dir"
    start_server "$mode" "$port" "$dir" || return 1
    gen_data | redis-cli -p "$port" --pipe | tail -1
    redis-benchmark -p "$port" --dbnum 1 -q -n "$REQUESTS" -r 10000 -c 16 -d 64 --csv \
        >"$WORK/redis.$mode.bench" 2>&1 || { echo "redis-benchmark failed" >&2; return 1; }
    redis-cli -p "$port" -n 1 FLUSHDB
    echo "-- loaded"
    snapshot "$port"
    echo "-- after DEBUG RELOAD"
    redis-cli -p "$port" DEBUG RELOAD
    snapshot "$port"
    redis-cli -p "$port" SAVE
    redis-cli -p "$port" SHUTDOWN >/dev/null 2>&1 || true
    wait "$SERVER_PID" || { echo "redis-server ($mode) exited with $?" >&2; return 1; }
    echo "-- after restart from dump.rdb"
    start_server "$mode" "$port" "$dir" || return 1
    snapshot "$port"
    stop_server "$port" || { echo "redis-server ($mode) exited badly" >&2; return 1; }
}

SERVER_PID=
trap '[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
base=$((20000 + $$ % 20000))
for mode in glibc tide; do
    port=$base
    [ $mode = tide ] && port=$((base + 1))
    t0=$(date +%s%N)
    rc=0
    session "$mode" "$port" >"$WORK/redis.$mode.out" 2>"$WORK/redis.$mode.err" || rc=$?
    echo "$rc" >"$WORK/redis.$mode.rc"
    printf '%-6s redis session exit %s, %s ms\n' "$mode" "$rc" "$((($(date +%s%N) - t0) / 1000000))"
done
real_compare redis
# Every benchmark test reported a rate, the same tests in both runs.
for mode in glibc tide; do
    n=$(grep -cE '^"[^"]+","[0-9.]+' "$WORK/redis.$mode.bench" || true)
    [ "$n" -ge 15 ] || real_fail "redis-benchmark ($mode): only $n tests reported a rate"
done
cut -d, -f1 "$WORK/redis.glibc.bench" >"$WORK/b.glibc"
cut -d, -f1 "$WORK/redis.tide.bench" >"$WORK/b.tide"
cmp -s "$WORK/b.glibc" "$WORK/b.tide" || real_fail "redis-benchmark ran different tests"
echo "redis-benchmark (tidemalloc): $(grep -cE '^"[^"]+","[0-9.]+' "$WORK/redis.tide.bench") tests:"
sed -n '1,30s/^/    /p' "$WORK/redis.tide.bench"
# The dumps and digests must agree across the three snapshots.
digests=$(grep -A2 -- '^-- ' "$WORK/redis.tide.out" | grep -E '^[0-9a-f]{40}$' | sort -u | wc -l)
[ "$digests" = 1 ] || real_fail "redis: DEBUG DIGEST changed across reload/restart ($digests values)"
real_check_bindings redis 'redis-server:malloc' 'redis-server:free'
real_finish
