"""The workload registry and the runner for the C workloads.

Every workload has full and quick parameters, a time metric, and knows
which result keys it must print. bench/README.md documents each one.
"""

import math
import os
from dataclasses import dataclass, field
from typing import Callable

from . import parse, proc

MiB = 1 << 20


@dataclass
class Ctx:
    root: str
    bin_dir: str
    out_dir: str
    logs_dir: str
    scratch: str
    quick: bool
    sleep_ms: int | None = None  # override for the fragmentation scenarios
    timeout_scale: float = 1.0
    app_duration: int | None = None  # override for the RocksDB run (seconds)
    jvm_duration: int | None = None  # override for the jvm-rocksdb run (seconds)
    log: object = None  # file for apt and preparation output


@dataclass
class Workload:
    name: str
    kind: str  # micro | frag | app | callgrind
    group: str  # st | mt | frag | apps | callgrind
    about: str
    prog: str | None = None  # C program in the bench build directory
    args: Callable | None = None  # (ctx, alloc) -> list of arguments
    est: tuple = (5.0, 1.0)  # estimated seconds per run: (full, quick)
    timeout: tuple = (600.0, 120.0)
    time_metric: str = "wall"  # wall | work | rate | instr
    time_label: str = "time"
    rate_key: str | None = None  # for time_metric == rate: higher is better
    ratio: bool = True  # whether (RSS - baseline) / live is meaningful
    chart: bool = False
    target: float | None = None
    idle_target: float | None = None  # frag-bands-mt: a second target, after the idle period
    extra_allocs: tuple = ()  # added to the default allocator list
    required: tuple = ("base_rss", "peak_live")
    min_samples: int = 0
    geomean: bool = True
    runner: Callable | None = None  # custom runner (apps, callgrind)
    repeat_key: str = "repeat"  # which --repeat applies (repeat | app_repeat)
    notes: list = field(default_factory=list)

    def estimate(self, quick):
        return self.est[1] if quick else self.est[0]

    def time_limit(self, ctx):
        return (self.timeout[1] if ctx.quick else self.timeout[0]) * ctx.timeout_scale


def _q(ctx, full, quick):
    return quick if ctx.quick else full


def frag_sleep_ms(ctx, alloc):
    """Long enough to see the allocator's decay: 12 s (2.5 s quick), or
    twice the allocator's decay time if that is longer (jemalloc purges
    along a curve over its decay time, and its background thread does not
    always wake up on time: 10 s of decay takes up to ~20 s to show)."""
    if ctx.sleep_ms is not None:
        return ctx.sleep_ms
    base = 2500 if ctx.quick else 12000
    d = alloc.decay_ms() if alloc else None
    if d is not None and not ctx.quick:
        base = max(base, 2 * int(d))
    elif d is not None:
        base = max(base, min(int(d), 5000) + 1500)
    return base


def _frag_common(ctx, alloc):
    return [f"--sleep-ms={frag_sleep_ms(ctx, alloc)}", f"--interval-ms={_q(ctx, 200, 100)}"]


def _all():
    W = []
    W.append(Workload(
        "alloc-churn", "micro", "st",
        "small-object churn: random replacement in a working set of 8-256 B objects, with bursts of "
        "temporaries freed in reverse (alloc-test / cfrac)",
        prog="alloc_churn",
        args=lambda c, a: _q(c, ["--ops=20M", "--live=10000"], ["--ops=1M", "--live=4000"]),
        est=(1.5, 0.2)))
    W.append(Workload(
        "sh6bench", "micro", "st",
        "batches of mixed sizes (70% 1-64 B, 25% to 1000 B, 5% to 10 KB) freed LIFO, FIFO or odd/even; "
        "every 16th block survives a round (sh6bench)",
        prog="sh6bench",
        args=lambda c, a: _q(c, ["--rounds=400", "--batch=50000"], ["--rounds=40", "--batch=20000"]),
        est=(2.0, 0.3)))
    W.append(Workload(
        "realloc-grow", "micro", "st",
        "64 interleaved buffers grown by realloc: half by small appends, half by x1.5, to targets up to 1 MiB",
        prog="realloc_grow",
        args=lambda c, a: _q(c, ["--ops=1M"], ["--ops=100000"]),
        est=(1.5, 0.3)))
    W.append(Workload(
        "large-churn", "micro", "st",
        "32 live blocks of 64 KiB-4 MiB (log-uniform), one replaced per step, one write per page (malloc-large)",
        prog="large_churn",
        args=lambda c, a: _q(c, ["--ops=40000"], ["--ops=3000"]),
        est=(1.5, 0.2)))
    W.append(Workload(
        "larson", "micro", "mt",
        "larson server: 4 lanes of 2000 blocks (8-1000 B) replaced at random; each lane's thread hands its "
        "blocks to a successor thread 40 times",
        prog="larson",
        args=lambda c, a: _q(c, ["--threads=4", "--ops=8M"], ["--threads=4", "--ops=500000", "--generations=10"]),
        est=(1.5, 0.2), time_metric="rate", time_label="Mops/s", rate_key="mops_per_s"))
    W.append(Workload(
        "larson-server", "micro", "mt",
        "larson as the public suite runs it: 2 lanes of 5000 blocks (8-1000 B) for a fixed 5 s; each lane's "
        "thread hands its blocks to a successor thread every 500000 replacements",
        prog="larson",
        args=lambda c, a: ["--threads=2", "--slots=5000"] + _q(c, ["--seconds=5", "--gen-ops=500000"],
                                                               ["--seconds=1", "--gen-ops=100000"]),
        est=(5.5, 1.2), time_metric="rate", time_label="Mops/s", rate_key="mops_per_s"))
    W.append(Workload(
        "xmalloc-pc", "micro", "mt",
        "2 producers allocate 8-512 B blocks and pass them in batches of 64 to 2 consumers that free them: "
        "every free is remote (xmalloc)",
        prog="xmalloc_pc",
        args=lambda c, a: _q(c, ["--ops=8M"], ["--ops=500000"]),
        est=(2.0, 0.2), time_metric="rate", time_label="Mops/s", rate_key="mops_per_s"))
    W.append(Workload(
        "cache-thrash", "micro", "mt",
        "2 threads each allocate an 8 B object, write it 500 times, free it; repeated (active false sharing)",
        prog="false_sharing",
        args=lambda c, a: ["--mode=thrash"] + _q(c, ["--iters=1M"], ["--iters=50000"]),
        est=(2.0, 0.2), ratio=False))
    W.append(Workload(
        "cache-scratch", "micro", "mt",
        "the main thread allocates one 8 B object per thread and hands it over; each thread frees it, then "
        "allocates, writes 500 times and frees (passive false sharing)",
        prog="false_sharing",
        args=lambda c, a: ["--mode=scratch"] + _q(c, ["--iters=1M"], ["--iters=50000"]),
        est=(2.0, 0.2), ratio=False))
    W.append(Workload(
        "thread-churn", "micro", "mt",
        "8000 short-lived threads, 4 at a time: each keeps 256 blocks of 16 B-4 KiB, churns 2000, frees 90% "
        "and leaves 10% to the main thread",
        prog="thread_churn",
        args=lambda c, a: _q(c, ["--threads=8000"], ["--threads=400"]),
        est=(2.0, 0.3)))
    W.append(Workload(
        "frag-blog", "frag", "frag",
        "the blog's two waves: 512 MiB of 1,000 B objects, then 512 MiB more, free the first wave, sleep; "
        "target (RSS - start) / live <= 1.10 within the allocator's decay time + 1 s",
        prog="frag_waves",
        args=lambda c, a: ["--scenario=blog", "--target=1.10",
                           f"--wave={_q(c, 512, 32) * MiB}"] + _frag_common(c, a),
        est=(15.0, 3.0), time_metric="work", chart=True, target=1.10, extra_allocs=("jemalloc-bg",),
        required=("base_rss", "peak_live", "ratio", "ratio_end", "settle_ms", "work_ms"), min_samples=8))
    W.append(Workload(
        "frag-mixed", "frag", "frag",
        "two waves of 512 MiB with sizes 16 B-64 KiB (log-uniform); every 10th wave-one object survives the "
        "free; sleep; target <= 1.15",
        prog="frag_waves",
        args=lambda c, a: ["--scenario=mixed", "--survive=10", "--target=1.15",
                           f"--wave={_q(c, 512, 32) * MiB}"] + _frag_common(c, a),
        est=(15.0, 3.0), time_metric="work", chart=True, target=1.15, extra_allocs=("jemalloc-bg",),
        required=("base_rss", "peak_live", "ratio", "ratio_end", "settle_ms", "work_ms"), min_samples=8))
    W.append(Workload(
        "frag-churn", "frag", "frag",
        "512 MiB live in 16 B-64 KiB objects, 30% replaced by new random sizes per round, 40 rounds, 1 thread; "
        "target <= 1.35 at the end and throughout",
        prog="frag_churn",
        args=lambda c, a: ["--threads=1", "--target=1.35", f"--live={_q(c, 512, 32) * MiB}",
                           f"--rounds={_q(c, 40, 10)}"] + _frag_common(c, a),
        est=(18.0, 3.0), time_metric="work", chart=True, target=1.35, extra_allocs=("jemalloc-bg",),
        required=("base_rss", "peak_live", "ratio", "ratio_end", "ratio_max_churn", "work_ms"),
        min_samples=8))
    W.append(Workload(
        "frag-churn-mt", "frag", "frag",
        "as frag-churn on 4 threads; the slots are dealt out afresh each round, so most frees are "
        "cross-thread",
        prog="frag_churn",
        args=lambda c, a: ["--threads=4", "--target=1.35", f"--live={_q(c, 512, 32) * MiB}",
                           f"--rounds={_q(c, 40, 10)}"] + _frag_common(c, a),
        est=(18.0, 3.0), time_metric="work", chart=True, target=1.35, extra_allocs=("jemalloc-bg",),
        required=("base_rss", "peak_live", "ratio", "ratio_end", "ratio_max_churn", "work_ms"),
        min_samples=8))
    W.append(Workload(
        "frag-bands-mt", "frag", "frag",
        "4 pools, 256 MiB live; each round every pool frees 30% of its objects and is refilled from one size "
        "band (small 16-256 B, medium -4 KiB, large -64 KiB, all 16 B-64 KiB, rotating), 24 rounds, 4 threads "
        "whose pools rotate (cross-thread frees); then 2 s idle; target RSS / live <= 1.30 at the end of the "
        "churn, <= 1.15 after the idle period",
        prog="frag_bands",
        args=lambda c, a: ["--threads=4", "--pools=4", "--target=1.30", "--idle-target=1.15",
                           f"--live={_q(c, 256, 32) * MiB}", f"--rounds={_q(c, 24, 8)}",
                           f"--idle-ms={c.sleep_ms if c.sleep_ms is not None else _q(c, 2000, 500)}",
                           f"--interval-ms={_q(c, 200, 100)}"],
        est=(8.0, 1.0), time_metric="work", chart=True, target=1.30, idle_target=1.15,
        extra_allocs=("jemalloc-bg",),
        required=("base_rss", "peak_live", "ratio", "ratio_churn_end", "ratio_max_churn", "ratio_idle",
                  "abs_ratio_churn_end", "abs_ratio_max_churn", "abs_ratio_idle", "idle_ms", "work_ms"),
        min_samples=8))
    from . import apps, callgrind  # late: they import this module
    W.extend(apps.workloads())
    W.append(callgrind.workload())
    return W


REGISTRY = None


def registry():
    global REGISTRY
    if REGISTRY is None:
        REGISTRY = {w.name: w for w in _all()}
    return REGISTRY


GROUPS = {
    "st": "single-threaded micro workloads",
    "mt": "multi-threaded micro workloads",
    "micro": "st + mt",
    "frag": "fragmentation scenarios",
    "apps": "real applications (RocksDB, a JVM over RocksDB, Redis, Python)",
    "callgrind": "instructions per malloc+free pair",
    "all": "everything",
}


def expand(names):
    """Workload names and group names -> ordered list of names (unknown ones
    kept, to be reported)."""
    reg = registry()
    out = []
    for n in names:
        n = n.strip()
        if not n:
            continue
        if n == "all":
            sel = list(reg)
        elif n == "micro":
            sel = [w.name for w in reg.values() if w.group in ("st", "mt")]
        elif n in GROUPS:
            sel = [w.name for w in reg.values() if w.group == n]
        else:
            sel = [n]
        for s in sel:
            if s not in out:
                out.append(s)
    return out


def new_record(w, alloc, rep):
    return {"workload": w.name, "alloc": alloc.name if alloc else None, "rep": rep, "status": "error",
            "detail": "", "wall_s": None, "user_s": None, "sys_s": None, "maxrss": None, "time": None,
            "ratio": None, "result": {}, "samples": [], "cmd": None}


def finish_record(w, rec):
    """Fills rec['time'] and rec['ratio'] from the result line; returns the
    list of problems with the output."""
    res = rec["result"]
    problems = parse.check_numbers(res, w.required)
    if w.time_metric == "work":
        problems += parse.check_numbers(res, ["work_ms"])
        rec["time"] = res.get("work_ms", 0) / 1000.0 if not problems else None
    elif w.time_metric == "rate":
        problems += parse.check_numbers(res, [w.rate_key])
        v = res.get(w.rate_key)
        rec["time"] = v if isinstance(v, float) else None
    elif w.time_metric == "instr":
        rec["time"] = res.get("instr_per_pair")
    else:
        rec["time"] = rec["wall_s"]
    if w.ratio:
        r = res.get("ratio")
        if isinstance(r, float):
            rec["ratio"] = r
        else:
            live, base = res.get("peak_live"), res.get("base_rss")
            if isinstance(live, float) and live > 0 and isinstance(base, float) and rec.get("maxrss"):
                rec["ratio"] = (rec["maxrss"] - base) / live
    if len(rec["samples"]) < w.min_samples:
        problems.append(f"{len(rec['samples'])} samples, expected at least {w.min_samples}")
    if rec["ratio"] is not None and not math.isfinite(rec["ratio"]):
        problems.append("ratio is not finite")
    return problems


def run_c_workload(w, alloc, rep, ctx):
    rec = new_record(w, alloc, rep)
    exe = os.path.join(ctx.bin_dir, w.prog)
    if not os.access(exe, os.X_OK):
        rec["status"], rec["detail"] = "error", f"{exe} not built"
        return rec
    cmd = [exe] + [str(a) for a in w.args(ctx, alloc)]
    rec["cmd"] = " ".join(cmd)
    prefix = os.path.join(ctx.logs_dir, f"{w.name}.{alloc.name}.{rep}")
    r = proc.run(cmd, env=alloc.child_env(), timeout=w.time_limit(ctx), log_prefix=prefix)
    rec.update(status=r.status, detail=r.detail, wall_s=r.wall_s, user_s=r.user_s, sys_s=r.sys_s,
               maxrss=r.maxrss)
    result, samples, problems = parse.parse_output(r.stdout)
    rec["result"], rec["samples"] = result or {}, samples
    rec["ru_maxrss"] = r.maxrss
    if r.status != "ok":
        return rec
    problems += parse.check_numbers(rec["result"], ["peak_rss"])
    if not problems:
        rec["maxrss"] = rec["result"]["peak_rss"]  # VmHWM, read by the program itself
    problems += finish_record(w, rec)
    if problems:
        rec["status"], rec["detail"] = "invalid", "; ".join(problems[:3])
    return rec
