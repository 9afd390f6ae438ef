"""A JVM over RocksDB, Venice's own stack: bench/apps/jvm_rocksdb's KvService
(Java reader and writer threads calling RocksDB's C API through a small JNI
library) under each allocator.

The database is filled once (`kvservice load`, on glibc) in the scratch
directory and every run gets a hard-linked copy of it, as the RocksDB
workload does. A run is `kvservice serve`: random gets from many Java
threads, a rate-limited stream of writes with values of 100-8000 B, an LRU
block cache holding index and filter blocks, for --jvm-seconds. RSS is
sampled every second; reported: reads/s (the time column), median, maximum
and end RSS, the slope over the second half (after warm-up) and
ratio = median RSS / (block cache + Java heap), the two memory budgets the
service is configured with.

The service is built by bench/apps/jvm_rocksdb/CMakeLists.txt into
<bench build>/jvm_rocksdb/; where the JDK or RocksDB's headers were missing
at build time that directory holds a file MISSING instead, and the runs are
reported as missing (not failed).
"""

import os
import re
import shutil
import statistics
import sys

from . import proc
from .apps import _clone_db, _rss_sampler, slope_per_min
from .workloads import Workload, new_record

MiB = 1 << 20

# The JVM's own settings, the same under every allocator: a fixed heap,
# pre-touched, so the Java heap is a constant part of RSS from the start and
# what moves is native memory (RocksDB, JNI buffers, the JVM's own mallocs).
JAVA_HEAP = 512 * MiB
JVM_OPTS = [f"-Xms{JAVA_HEAP // MiB}m", f"-Xmx{JAVA_HEAP // MiB}m", "-XX:+AlwaysPreTouch", "-XX:+UseG1GC",
            "-XX:-CreateCoredumpOnCrash"]


def jvm_params(ctx):
    if ctx.quick:
        p = dict(keys=20_000, cache=16 * MiB, write_buffer=4 * MiB, readers=8, writers=1, write_rate=200,
                 duration=5)
    else:
        p = dict(keys=250_000, cache=256 * MiB, write_buffer=64 * MiB, readers=32, writers=1, write_rate=1000,
                 duration=300)
    if getattr(ctx, "jvm_duration", None):
        p["duration"] = ctx.jvm_duration
    p.update(value_min=100, value_max=8000, heap=JAVA_HEAP)
    return p


def service_dir(ctx):
    """Where the build put the service: <bench bin>/jvm_rocksdb."""
    return os.path.join(ctx.bin_dir, "jvm_rocksdb")


def _not_built(d):
    """None when the service is there, else why not."""
    missing = os.path.join(d, "MISSING")
    if os.path.exists(missing):
        with open(missing) as f:
            why = f.read().strip()
        return f"the JVM/RocksDB service was not built: {why} (then rebuild: make build)"
    for name in ("kvservice", "KvService.class", "librocks_jni.so"):
        if not os.path.exists(os.path.join(d, name)):
            return f"{os.path.join(d, name)} not built (make build)"
    return None


def _db_args(p):
    return [f"--keys={p['keys']}", f"--value-min={p['value_min']}", f"--value-max={p['value_max']}",
            f"--cache={p['cache']}", f"--write-buffer={p['write_buffer']}"]


def _jvm_base(ctx, kv, p):
    """The filled database every run starts from (made once, on glibc)."""
    base = os.path.join(ctx.scratch, f"jvm-rocksdb-base-{p['keys']}-{p['value_min']}-{p['value_max']}")
    stamp = os.path.join(base, ".tidebench-ready")
    if os.path.exists(stamp):
        return base, None
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(ctx.scratch, exist_ok=True)
    cmd = [kv] + ["-J" + o for o in JVM_OPTS] + ["load", f"--db={base}", "--load-threads=2", "--seed=1"] + _db_args(p)
    print(f"# preparing the JVM/RocksDB database ({p['keys']} keys) in {base} ...", file=sys.stderr, flush=True)
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    r = proc.run(cmd, env=env, timeout=1800, log_prefix=os.path.join(ctx.logs_dir, "jvm-rocksdb.prepare"))
    if r.status != "ok" or not re.search(r"^loaded keys=\d+", r.stdout, re.M):
        return None, f"preparing the database failed: {r.detail or 'no loaded line'}"
    with open(stamp, "w") as f:
        f.write("ok\n")
    return base, None


_RESULT = re.compile(r"^result workload=jvm-rocksdb (.*)$", re.M)


def parse_result(stdout):
    """The key=value pairs of the service's result line (numbers as floats), or None."""
    m = _RESULT.search(stdout)
    if not m:
        return None
    out = {}
    for item in m.group(1).split():
        k, _, v = item.partition("=")
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def run_jvm(w, alloc, rep, ctx):
    rec = new_record(w, alloc, rep)
    d = service_dir(ctx)
    why = _not_built(d)
    if why:
        rec["status"], rec["detail"] = "missing", why
        return rec
    kv = os.path.join(d, "kvservice")
    p = jvm_params(ctx)
    base, err = _jvm_base(ctx, kv, p)
    if err:
        rec["detail"] = err
        return rec
    dest = os.path.join(ctx.scratch, "jvm-rocksdb-run")
    _clone_db(base, dest)
    logp = os.path.join(ctx.logs_dir, f"{w.name}.{alloc.name}.{rep}")
    cmd = ([kv] + ["-J" + o for o in JVM_OPTS] + [f"-J-XX:ErrorFile={logp}.hs_err_pid%p.log",
                                                 "serve", f"--db={dest}"] + _db_args(p)
           + [f"--readers={p['readers']}", f"--writers={p['writers']}", f"--write-rate={p['write_rate']}",
              f"--seconds={p['duration']}", "--report-ms=1000", f"--seed={1000 + rep}"])
    rec["cmd"] = " ".join(cmd)
    budget = p["cache"] + p["heap"]
    tick, hwm = _rss_sampler(lambda: budget, lambda: "run")
    r = proc.run(cmd, env=alloc.child_env(), timeout=w.time_limit(ctx) + p["duration"], on_tick=tick, tick=1.0,
                 cwd=ctx.scratch, log_prefix=logp)
    shutil.rmtree(dest, ignore_errors=True)
    rec.update(status=r.status, detail=r.detail, wall_s=r.wall_s, user_s=r.user_s, sys_s=r.sys_s,
               maxrss=float(hwm[0]) or None, ru_maxrss=r.maxrss, samples=r.samples)
    if "A fatal error has been detected" in r.stdout + r.stderr:
        rec["status"] = "crash"
        rec["detail"] = ("JVM fatal error (hs_err file next to the logs) " + rec["detail"]).strip()
        return rec
    if r.status != "ok":
        return rec
    got = parse_result(r.stdout)
    need = ("reads_per_s", "writes_per_s", "reads", "writes", "seconds")
    if got is None or any(k not in got for k in need) or len(r.samples) < 2:
        rec["status"] = "invalid"
        rec["detail"] = "no result line" if got is None else (
            "fewer than 2 RSS samples" if len(r.samples) < 2 else "result line without " +
            ", ".join(k for k in need if k not in got))
        return rec
    progress = len(re.findall(r"^progress t_ms=\d+ reads=\d+ writes=\d+ ", r.stdout, re.M))
    rss = [s["rss"] for s in r.samples]
    half = r.samples[len(r.samples) // 2:]
    res = {"reads_per_s": got["reads_per_s"], "writes_per_s": got["writes_per_s"], "reads": got["reads"],
           "writes": got["writes"], "misses": got.get("misses", 0.0), "rss_median": float(statistics.median(rss)),
           "rss_max": float(max(rss)), "rss_end": float(rss[-1]), "slope_mb_per_min": slope_per_min(half) / MiB,
           "cache": float(p["cache"]), "java_heap": float(p["heap"]), "readers": float(p["readers"]),
           "writers": float(p["writers"]), "write_rate": float(p["write_rate"]), "keys": float(p["keys"]),
           "duration_s": float(p["duration"]), "progress_lines": float(progress)}
    rec["result"] = res
    rec["time"] = res["reads_per_s"]
    rec["ratio"] = res["rss_median"] / budget
    rec["status"] = "ok"
    return rec


def workload():
    return Workload(
        "jvm-rocksdb", "app", "apps",
        "a JVM over RocksDB (bench/apps/jvm_rocksdb, JNI to the C API): 32 Java reader threads doing random gets "
        "and a writer at 1000 puts/s of 100-8000 B values on 250 k keys (~1 GB), 256 MB block cache holding "
        "index and filter blocks, 512 MB pre-touched Java heap, 300 s; RSS sampled every second "
        "(ratio = median RSS / (cache + heap))",
        est=(310.0, 9.0), timeout=(300.0, 60.0), time_metric="rate", time_label="reads/s",
        rate_key="reads_per_s", chart=True, required=(), runner=run_jvm, repeat_key="app_repeat")
