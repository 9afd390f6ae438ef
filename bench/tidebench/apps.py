"""Real applications from Debian's packages: RocksDB's db_bench, redis-server
and python3. Each is started with the allocator preloaded; servers bind to
127.0.0.1 only.
"""

import hashlib
import os
import random
import re
import shutil
import socket
import statistics
import sys
import threading
import time

from . import pkg, proc
from .allocators import libc_path
from .workloads import Workload, new_record

MiB = 1 << 20


# ------------------------------------------------------------------ RocksDB

def rocks_params(ctx):
    if ctx.quick:
        p = dict(num=300_000, cache=16 * MiB, threads=4, duration=5)
    else:
        p = dict(num=10_000_000, cache=512 * MiB, threads=16, duration=120)
    if ctx.app_duration:
        p["duration"] = ctx.app_duration
    p["value_size"] = 100
    return p


def rocks_db_key(p):
    """The directory name of p's database, built from everything that shapes
    its files: the key count, the fill benchmarks and p["db_args"] (value
    sizes, compression, block size, ...). Without db_args it is the classic
    workload's database (fillseq, fixed values, uncompressed), named as before."""
    if not p.get("db_args"):
        return f"rocksdb-base-{p['num']}-{p['value_size']}"
    spec = "\0".join([p.get("fill", "fillseq"), str(p["num"]), *p["db_args"], *p.get("fill_args", ())])
    slug = "-".join(re.sub(r"[^A-Za-z0-9.]+", "_", a.split("=", 1)[-1]) for a in p["db_args"])
    return f"rocksdb-{p['num']}-{slug}-{hashlib.sha1(spec.encode()).hexdigest()[:8]}"


def rocks_fill_cmd(p, base):
    db_args = p.get("db_args") or [f"--value_size={p['value_size']}", "--compression_type=none"]
    return ["db_bench", f"--benchmarks={p.get('fill', 'fillseq')}", f"--db={base}", f"--num={p['num']}",
            *db_args, "--disable_wal=1", "--threads=1", *p.get("fill_args", ())]


def _rocks_base(ctx, p):
    """A filled database shared by every run (hard-linked copies): one per
    rocks_db_key(p) in the scratch directory, prepared once (a stamp file
    marks it complete) and reused."""
    key = rocks_db_key(p)
    base = os.path.join(ctx.scratch, key)
    stamp = os.path.join(base, ".tidebench-ready")
    if os.path.exists(stamp):
        return base, None
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(ctx.scratch, exist_ok=True)
    cmd = rocks_fill_cmd(p, base)
    print(f"# preparing the RocksDB database ({p['num']} keys) in {base} ...", file=sys.stderr, flush=True)
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    log = "rocksdb.prepare" if not p.get("db_args") else f"rocksdb.prepare.{key}"
    r = proc.run(cmd, env=env, timeout=1800, log_prefix=os.path.join(ctx.logs_dir, log))
    if r.status != "ok":
        return None, f"preparing the database failed: {r.detail}"
    with open(stamp, "w") as f:
        f.write(" ".join(cmd) + "\n")
    return base, None


def _clone_db(base, dest):
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    for name in os.listdir(base):
        if name.startswith(".tidebench"):
            continue
        src, dst = os.path.join(base, name), os.path.join(dest, name)
        if name.endswith(".sst"):
            os.link(src, dst)  # SST files are immutable: share them
        else:
            shutil.copy2(src, dst)
    _warm_page_cache(dest)


def _warm_page_cache(path):
    """Read the database once so every allocator starts with it in the page
    cache: otherwise whichever runs first pays for the disk reads (seen: the
    first run at half the reads/s of the others, whatever the allocator)."""
    os.sync()
    for name in os.listdir(path):
        with open(os.path.join(path, name), "rb", buffering=0) as f:
            while f.read(1 << 20):
                pass


def _rss_sampler(live, phase):
    """A proc.run tick that samples smaps_rollup and the high-water mark
    (hwm[0]); live() and phase() supply the rest of each sample."""
    hwm = [0]

    def tick(pid, el):
        m = proc.read_smaps_rollup(pid)
        if m is None:
            return None
        hwm[0] = max(hwm[0], proc.read_hwm(pid) or 0)
        return {"t_ms": el * 1000.0, "rss": float(m["rss"]), "anon": float(m["anon"]),
                "lazyfree": float(m["lazyfree"]), "live": float(live()), "phase": phase()}

    return tick, hwm


def slope_per_min(samples, key="rss"):
    """Least-squares slope in bytes per minute over the given samples."""
    if len(samples) < 3:
        return 0.0
    xs = [s["t_ms"] / 60000.0 for s in samples]
    ys = [s[key] for s in samples]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return 0.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx


def parse_readwhilewriting(stdout):
    """(reads/s, micros/op) from db_bench's readwhilewriting line, or None.
    Its ops are the readers' only: db_bench leaves the writer out."""
    m = re.search(r"readwhilewriting\s*:\s*([\d.]+) micros/op\s+(\d+) ops/sec", stdout)
    return (float(m.group(2)), float(m.group(1))) if m else None


def readwhilewriting_result(rec, r):
    """(reads/s, micros/op) of a finished db_bench run, or None with rec
    marked invalid: a run without its result line or its RSS samples
    measured nothing."""
    m = parse_readwhilewriting(r.stdout)
    if not m or len(r.samples) < 2:
        rec["status"] = "invalid"
        rec["detail"] = "no readwhilewriting result line" if not m else "fewer than 2 RSS samples"
        return None
    return m


def run_rocksdb(w, alloc, rep, ctx):
    rec = new_record(w, alloc, rep)
    why = pkg.ensure("rocksdb-tools", "/usr/bin/db_bench", ctx.log)
    if why:
        rec["status"], rec["detail"] = "missing", why
        return rec
    p = rocks_params(ctx)
    base, err = _rocks_base(ctx, p)
    if err:
        rec["detail"] = err
        return rec
    dest = os.path.join(ctx.scratch, "rocksdb-run")
    _clone_db(base, dest)
    cmd = ["db_bench", "--benchmarks=readwhilewriting", "--use_existing_db=1", f"--db={dest}",
           f"--num={p['num']}", f"--value_size={p['value_size']}", "--compression_type=none",
           f"--cache_size={p['cache']}", "--cache_index_and_filter_blocks=1", "--bloom_bits=10",
           f"--threads={p['threads']}", f"--duration={p['duration']}", "--statistics=0", "--histogram=0",
           f"--seed={1000 + rep}"]
    rec["cmd"] = " ".join(cmd)

    tick, hwm = _rss_sampler(lambda: p["cache"], lambda: "run")

    r = proc.run(cmd, env=alloc.child_env(), timeout=w.time_limit(ctx) + p["duration"], on_tick=tick, tick=1.0,
                 log_prefix=os.path.join(ctx.logs_dir, f"{w.name}.{alloc.name}.{rep}"))
    shutil.rmtree(dest, ignore_errors=True)
    rec.update(status=r.status, detail=r.detail, wall_s=r.wall_s, user_s=r.user_s, sys_s=r.sys_s,
               maxrss=float(hwm[0]) or None, ru_maxrss=r.maxrss, samples=r.samples)
    if r.status != "ok":
        return rec
    m = readwhilewriting_result(rec, r)
    if not m:
        return rec
    rss = [s["rss"] for s in r.samples]
    half = r.samples[len(r.samples) // 2:]
    res = {"reads_per_s": m[0], "micros_per_op": m[1],
           "rss_median": float(statistics.median(rss)), "rss_max": float(max(rss)),
           "slope_mb_per_min": slope_per_min(half) / MiB, "cache": float(p["cache"]),
           "threads": float(p["threads"]), "duration_s": float(p["duration"])}
    rec["result"] = res
    rec["time"] = res["reads_per_s"]
    rec["ratio"] = res["rss_median"] / p["cache"]
    rec["status"] = "ok"
    return rec


# -------------------------------------------------------------------- Redis

def redis_params(ctx):
    if ctx.quick:
        return dict(keys=60_000, small=(16, 512), large=(512, 2048), wait=1.0, chunk=1000)
    return dict(keys=1_500_000, small=(16, 512), large=(512, 2048), wait=10.0, chunk=2000)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _redis_fill(cli, keys, lo, hi, chunk, rng, blob):
    bl = len(blob) - hi - 1
    span = hi - lo + 1
    rnd = rng.random
    for i in range(0, len(keys), chunk):
        part = []
        for k in keys[i:i + chunk]:
            n = lo + int(rnd() * span)
            off = int(rnd() * bl)
            kb = b"key:%d" % k
            part.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(kb), kb, n, blob[off:off + n]))
        cli.send_simple(b"".join(part), len(part))


def _redis_del(cli, keys, chunk):
    for i in range(0, len(keys), chunk):
        part = []
        for k in keys[i:i + chunk]:
            kb = b"key:%d" % k
            part.append(b"*2\r\n$3\r\nDEL\r\n$%d\r\n%s\r\n" % (len(kb), kb))
        cli.send_simple(b"".join(part), len(part))


def run_redis(w, alloc, rep, ctx):
    from . import resp
    rec = new_record(w, alloc, rep)
    why = pkg.ensure("redis-server", "/usr/bin/redis-server", ctx.log)
    if why:
        rec["status"], rec["detail"] = "missing", why
        return rec
    p = redis_params(ctx)
    port = _free_port()
    workdir = os.path.join(ctx.scratch, "redis")
    os.makedirs(workdir, exist_ok=True)
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
           "--daemonize", "no", "--protected-mode", "yes", "--dir", workdir, "--logfile", ""]
    rec["cmd"] = " ".join(a if a else "''" for a in cmd)
    # Debian's redis-server links libjemalloc; for "glibc", preload libc so
    # malloc resolves to glibc's ahead of the linked jemalloc.
    env = alloc.child_env(force_preload=libc_path() if alloc.preload is None else None)
    box = {}
    started = threading.Event()

    def on_start(pid):
        box["pid"] = pid
        started.set()

    t_start = time.monotonic()

    tick, hwm = _rss_sampler(lambda: box.get("used", 0), lambda: box.get("phase", ""))

    holder = {}

    def serve():
        holder["r"] = proc.run(cmd, env=env, timeout=w.time_limit(ctx), on_tick=tick, tick=1.0, on_start=on_start,
                               log_prefix=os.path.join(ctx.logs_dir, f"{w.name}.{alloc.name}.{rep}"))

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    started.wait(30)
    steps, err = [], None
    cli = None
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                cli = resp.Redis("127.0.0.1", port, timeout=120)
                if cli.call("PING") == "PONG":
                    break
            except (OSError, resp.RedisError):
                if cli:
                    cli.close()
                cli = None
            if time.monotonic() > deadline or not th.is_alive():
                raise RuntimeError("redis-server did not answer PING")
            time.sleep(0.1)
        pid = box["pid"]

        def step(name, dur):
            info = cli.info("memory")
            used = int(info.get("used_memory", 0))
            m = proc.read_smaps_rollup(pid) or {"rss": 0, "lazyfree": 0}
            hwm[0] = max(hwm[0], proc.read_hwm(pid) or 0)
            box["used"], box["phase"] = used, name
            steps.append({"step": name, "t_s": time.monotonic() - t_start, "rss": m["rss"],
                          "lazyfree": m["lazyfree"], "used_memory": used, "seconds": dur})

        rng = random.Random(42 + rep)
        blob = os.urandom(1 << 20).hex().encode()  # printable values
        step("start", 0.0)
        keys = list(range(p["keys"]))
        t = time.monotonic()
        _redis_fill(cli, keys, *p["small"], p["chunk"], rng, blob)
        step("filled", time.monotonic() - t)
        gone = rng.sample(keys, len(keys) // 2)
        t = time.monotonic()
        _redis_del(cli, gone, p["chunk"])
        step("deleted", time.monotonic() - t)
        time.sleep(p["wait"])
        step("waited", 0.0)
        t = time.monotonic()
        _redis_fill(cli, gone, *p["large"], p["chunk"], rng, blob)
        step("refilled", time.monotonic() - t)
        time.sleep(p["wait"])
        step("settled", 0.0)
        try:
            cli.pipeline([["SHUTDOWN", "NOSAVE"]], check=False)
        except (OSError, ConnectionError):
            pass
    except Exception as e:  # report, never abort the whole run
        err = f"{type(e).__name__}: {e}"
    finally:
        if cli:
            cli.close()
    th.join(60)
    if th.is_alive() and "pid" in box:
        try:
            os.kill(box["pid"], 9)  # the server we started
        except ProcessLookupError:
            pass
        th.join(10)
    r = holder.get("r")
    if r is None:
        rec["detail"] = err or "redis-server did not finish"
        return rec
    rec.update(status=r.status, detail=r.detail, wall_s=r.wall_s, user_s=r.user_s, sys_s=r.sys_s,
               maxrss=float(hwm[0]) or None, ru_maxrss=r.maxrss, samples=r.samples)
    if err:
        rec["status"], rec["detail"] = ("error" if r.status == "ok" else r.status), (err + " " + r.detail).strip()
        return rec
    if r.status != "ok":
        return rec
    s0, s_end = steps[0], steps[-1]
    res = {"work_ms": 1000.0 * sum(s["seconds"] for s in steps), "keys": float(p["keys"])}
    for s in steps:
        d_used = s["used_memory"] - s0["used_memory"]
        s["ratio"] = (s["rss"] - s0["rss"]) / d_used if d_used > 0 else None
        s["rss_over_used"] = s["rss"] / s["used_memory"] if s["used_memory"] else None
        res[f"rss_{s['step']}"] = float(s["rss"])
        res[f"used_{s['step']}"] = float(s["used_memory"])
        if s["ratio"] is not None:
            res[f"ratio_{s['step']}"] = round(s["ratio"], 4)
    res["ratio"] = s_end["ratio"] if s_end["ratio"] is not None else float("nan")
    res["base_rss"], res["peak_live"] = float(s0["rss"]), float(max(s["used_memory"] for s in steps))
    rec["result"], rec["steps"] = res, steps
    rec["time"] = res["work_ms"] / 1000.0
    rec["ratio"] = s_end["ratio"]
    rec["status"] = "ok" if rec["ratio"] is not None else "invalid"
    return rec


# ------------------------------------------------------------------- Python

def run_python(w, alloc, rep, ctx):
    rec = new_record(w, alloc, rep)
    script = os.path.join(ctx.root, "bench", "apps", "pyalloc.py")
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    cmd = [py, script, f"--scale={0.25 if ctx.quick else 2}"]
    rec["cmd"] = " ".join(cmd)
    env = alloc.child_env({"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"})
    r = proc.run(cmd, env=env, timeout=w.time_limit(ctx),
                 log_prefix=os.path.join(ctx.logs_dir, f"{w.name}.{alloc.name}.{rep}"))
    rec.update(status=r.status, detail=r.detail, wall_s=r.wall_s, user_s=r.user_s, sys_s=r.sys_s,
               maxrss=r.maxrss)
    if r.status != "ok":
        return rec
    from . import parse
    result, samples, problems = parse.parse_output(r.stdout)
    rec["result"] = result or {}
    problems += parse.check_numbers(result, ["work_ms", "objects", "peak_rss"])
    if not problems:
        rec["maxrss"] = result["peak_rss"]
    if problems:
        rec["status"], rec["detail"] = "invalid", "; ".join(problems[:3])
        return rec
    rec["time"] = r.wall_s
    return rec


def workloads():
    from . import jvm  # late: it imports this module
    return [
        Workload("rocksdb", "app", "apps",
                 "RocksDB db_bench readwhilewriting on 10 M keys (1.2 GB): 512 MB block cache holding index and "
                 "filter blocks, 16 reader threads + 1 writer, 120 s; RSS sampled every second "
                 "(ratio = median RSS / cache size)",
                 est=(140.0, 8.0), timeout=(300.0, 60.0), time_metric="rate", time_label="reads/s",
                 rate_key="reads_per_s", chart=True, required=(), runner=run_rocksdb, repeat_key="app_repeat"),
        jvm.workload(),
        Workload("redis", "app", "apps",
                 "redis-server: SET 1.5 M keys with 16-512 B values, DEL a random half, wait 10 s, SET them again "
                 "with 512-2048 B values, wait; ratio = (RSS - start) / (used_memory - start) at the end",
                 est=(45.0, 5.0), timeout=(600.0, 120.0), time_metric="work", chart=True, required=(),
                 runner=run_redis, repeat_key="app_repeat"),
        Workload("python", "app", "apps",
                 "python3 with PYTHONMALLOC=malloc running bench/apps/pyalloc.py (dicts, lists, strings, JSON, "
                 "objects; builds, trims and rebuilds)",
                 est=(12.0, 2.0), timeout=(600.0, 120.0), ratio=False, required=(), runner=run_python,
                 repeat_key="app_repeat"),
    ]
