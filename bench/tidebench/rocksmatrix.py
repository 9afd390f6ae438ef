"""The RocksDB matrix (bench/run.py --rocksdb-matrix): db_bench
readwhilewriting under every allocator in a dozen configurations, each
varying one factor of a base cell, so that no single configuration can hide a
loss. bench/README.md ("RocksDB matrix") documents the cells and metrics.

It shares the classic rocksdb workload's pieces (tidebench.apps): the
databases are prepared once per distinct set of file-shaping options
(_rocks_base, keyed by rocks_db_key), every run gets a hard-linked clone with
the page cache warm (_clone_db), RSS is sampled every second (_rss_sampler)
and slopes are least-squares fits (slope_per_min).
"""

import argparse
import csv
import datetime
import io
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from . import allocators, pkg, proc, report, svg
from .apps import _clone_db, _rocks_base, _rss_sampler, readwhilewriting_result, rocks_db_key, slope_per_min
from .cli import Progress, _git_describe
from .workloads import Ctx

MiB = 1 << 20
DB_BENCH = "/usr/bin/db_bench"

# The base cell; every other cell changes one of these.
BASE = {"num": 600_000, "values": ("uniform", 100, 8000), "compression": "snappy", "block_size": 4096,
        "threads": 32, "cache": 512 * MiB, "seconds": 90}
WRITE_RATE = 2 * MiB  # bytes/s for the one writer (--benchmark_write_rate_limit)
BLOOM_BITS = 10
FILL = "fillrandom,compact"  # random keys, then one full compaction: runs start from a settled LSM
FILL_SEED = 42  # the same database whoever prepares it
LONG_SECONDS = 300
WARMUP_FRACTION = 1 / 3  # slope: least squares over the samples after the first third of the run
RUN_OVERHEAD_S = 3.0  # first guess for clone + page-cache read + open + close, per run (then: as observed)
BUSY_WARN = 0.10  # other processes' share of the CPUs above which a run is flagged
LOSS = 1.05  # the markdown tables mark ratios above this in bold


@dataclass(frozen=True)
class Cell:
    name: str
    factor: str  # what it varies against the base: values, compression, block size, readers, cache, long
    changes: dict = field(default_factory=dict)
    long: bool = False
    default: bool = True  # in the matrix when --cells is not given

    def params(self, seconds=None, long_seconds=None, write_rate=WRITE_RATE):
        p = dict(BASE)
        p.update(self.changes)
        if self.long:
            p["seconds"] = long_seconds or LONG_SECONDS
        elif seconds:
            p["seconds"] = seconds
        dist, lo, hi = p["values"]
        vals = ([f"--value_size_distribution_type={dist}", f"--value_size_min={lo}", f"--value_size_max={hi}"]
                if dist != "fixed" else ["--value_size_distribution_type=fixed", f"--value_size={lo}"])
        p["db_args"] = vals + [f"--compression_type={p['compression']}", f"--block_size={p['block_size']}",
                               f"--bloom_bits={BLOOM_BITS}"]
        p["fill"], p["fill_args"] = FILL, [f"--seed={FILL_SEED}"]
        p["write_rate"] = write_rate
        p["duration"] = p["seconds"]
        return p

    def about(self):
        p = self.params()
        dist, lo, hi = p["values"]
        v = f"{lo} B fixed" if dist == "fixed" else f"{dist} {lo}-{hi} B"
        return (f"{fmt_keys(p['num'])} keys, values {v}, {p['compression']}, blocks {p['block_size'] // 1024} KiB, "
                f"{p['threads']} readers + 1 writer, cache {fmt_mib(p['cache'])}")


def fmt_keys(n):
    return f"{n / 1e6:g} M" if n >= 1_000_000 else f"{n / 1000:g} k"


def fmt_mib(b):
    return f"{b / (1 << 30):g} GiB" if b >= 1 << 30 else f"{b / MiB:g} MiB"


CELLS = [
    Cell("base", "base"),
    # As many bytes of values as the base, so the data outgrows the block cache as much (6 M keys would fit it).
    Cell("values-100", "values", {"values": ("fixed", 100, 100), "num": 20_000_000}),
    Cell("values-64k", "values", {"values": ("uniform", 100, 65536), "num": 80_000}),
    Cell("compress-none", "compression", {"compression": "none"}),
    Cell("compress-lz4", "compression", {"compression": "lz4"}),
    Cell("block-16k", "block size", {"block_size": 16384}),
    Cell("block-64k", "block size", {"block_size": 65536}),
    Cell("threads-8", "readers", {"threads": 8}),
    Cell("threads-64", "readers", {"threads": 64}),
    Cell("cache-256m", "cache", {"cache": 256 * MiB}),
    Cell("cache-1g", "cache", {"cache": 1024 * MiB}),
    Cell("long-base", "long", {}, long=True),
    Cell("long-threads-64", "long", {"threads": 64}, long=True),
    # CI's smoke test (ctest bench.rocksdb_smoke): small enough for well under a minute.
    Cell("smoke", "smoke", {"num": 100_000, "threads": 4, "cache": 64 * MiB, "seconds": 8}, default=False),
]
BY_NAME = {c.name: c for c in CELLS}


def mean_value(p):
    dist, lo, hi = p["values"]
    return lo if dist == "fixed" else (lo + hi) / 2


def prep_estimate(p):
    """Seconds to fill and compact a database, fitted on 2 busy cores: ~70 MB/s
    of keys and values (fill and compaction together) plus ~10 s per million keys."""
    raw = p["num"] * (mean_value(p) + 16)
    return 2 + raw / 70e6 + 9.5 * p["num"] / 1e6


def db_bytes(path):
    total = 0
    for name in os.listdir(path):
        if name.endswith(".sst"):
            total += os.path.getsize(os.path.join(path, name))
    return total


# -------------------------------------------------------------------- runs

def cpu_busy_s():
    """Seconds of CPU time the whole machine has spent busy (all CPUs, from
    /proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = v[3] + (v[4] if len(v) > 4 else 0)  # idle + iowait
    guest = sum(v[8:10]) if len(v) > 9 else 0  # already counted in user / nice
    return (sum(v) - idle - guest) / os.sysconf("SC_CLK_TCK")


def run_cmd(p, dest, rep):
    return ["db_bench", "--benchmarks=readwhilewriting", "--use_existing_db=1", f"--db={dest}", f"--num={p['num']}",
            *p["db_args"], f"--cache_size={p['cache']}", "--cache_index_and_filter_blocks=1",
            f"--threads={p['threads']}", f"--duration={p['duration']}",
            f"--benchmark_write_rate_limit={p['write_rate']}", "--statistics=0", "--histogram=0",
            f"--seed={1000 + rep}"]


def new_run(cell, alloc, rep, slot, p):
    return {"cell": cell.name, "alloc": alloc.name, "rep": rep, "slot": slot, "seed": 1000 + rep,
            "status": "error", "detail": "", "cmd": None, "others_cpu": None, "wall_s": None, "user_s": None,
            "sys_s": None, "samples": [], "result": {}, "duration_s": p["duration"]}


def metrics(samples, hwm, duration):
    """The figures of one run from its 1 s RSS samples and VmHWM."""
    rss = [s["rss"] for s in samples]
    warm = [s for s in samples if s["t_ms"] >= duration * 1000.0 * WARMUP_FRACTION]
    return {"rss_median": float(statistics.median(rss)), "rss_max": float(hwm or max(rss)),
            "rss_end": float(rss[-1]), "rss_max_sampled": float(max(rss)),
            "slope_mb_per_min": slope_per_min(warm) / MiB if len(warm) >= 3 else float("nan"),
            "slope_samples": len(warm)}


def run_one(cell, p, base, alloc, rep, slot, ctx, timeout_scale=1.0):
    rec = new_run(cell, alloc, rep, slot, p)
    dest = os.path.join(ctx.scratch, f"rocksdb-matrix-run-{os.getpid()}")
    try:
        _clone_db(base, dest)
        cmd = run_cmd(p, dest, rep)
        rec["cmd"] = " ".join(cmd)
        rec["started"] = datetime.datetime.now().isoformat(timespec="seconds")
        tick, hwm = _rss_sampler(lambda: p["cache"], lambda: "run")
        busy0 = cpu_busy_s()
        r = proc.run(cmd, env=alloc.child_env(), timeout=(p["duration"] + 120) * timeout_scale, on_tick=tick,
                     tick=1.0, log_prefix=os.path.join(ctx.logs_dir, f"{cell.name}.{alloc.name}.{rep}"))
        busy1 = cpu_busy_s()
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    rec.update(status=r.status, detail=r.detail, wall_s=r.wall_s, user_s=r.user_s, sys_s=r.sys_s, samples=r.samples)
    if busy0 is not None and busy1 is not None and r.wall_s > 0:
        # What everything but db_bench used of the machine meanwhile (this runner's sampling included: ~0).
        rec["others_cpu"] = max(0.0, (busy1 - busy0 - r.user_s - r.sys_s) / (r.wall_s * (os.cpu_count() or 1)))
    if r.status != "ok":
        return rec
    m = readwhilewriting_result(rec, r)
    if not m:
        return rec
    rec["result"] = {"reads_per_s": m[0], "micros_per_op": m[1], **metrics(r.samples, hwm[0], p["duration"])}
    return rec


# ----------------------------------------------------------------- summary

# (key, label, better): the metrics compared; "higher" ratios are best other / this one, "lower" this one / best
# other, "diff" this one minus the best (lowest) other: slopes can be zero or negative.
METRICS = [("reads_per_s", "reads/s", "higher"), ("rss_median", "RSS median", "lower"),
           ("rss_max", "RSS max", "lower"), ("rss_end", "RSS end", "lower"),
           ("slope_mb_per_min", "slope", "diff")]


def summarize(cells, alloc_names, runs):
    rows = []
    for cell in cells:
        crow = []
        for a in alloc_names:
            mine = [r for r in runs if r["cell"] == cell.name and r["alloc"] == a]
            ok = [r for r in mine if r["status"] == "ok"]
            row = {"cell": cell.name, "alloc": a, "runs": len(mine), "runs_ok": len(ok),
                   "status": "ok" if mine and len(ok) == len(mine) else
                   (f"ok {len(ok)}/{len(mine)}" if ok else (mine[0]["status"] if mine else "not run")),
                   "detail": next((r["detail"] for r in mine if r["status"] != "ok"), "")}
            for key, _, _ in METRICS:
                row[key] = report._median([r["result"].get(key) for r in ok])
            row["others_cpu"] = report._median([r.get("others_cpu") for r in ok])
            crow.append(row)
        for row in crow:
            for key, _, better in METRICS:
                others = [o[key] for o in crow if o is not row and o[key] is not None]
                v, vs = row[key], None
                if v is not None and others:
                    if better == "higher":
                        vs = max(others) / v if v > 0 else None
                    elif better == "lower":
                        vs = v / min(others) if min(others) > 0 else None
                    else:
                        vs = v - min(others)
                row[key + "_vs_best"] = vs
        rows.extend(crow)
    return rows


def _num(v, fmt):
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, fmt)


def _ratio(v, diff=False):
    if v is None:
        return "-"
    s = f"{v:+.1f}" if diff else f"{v:.2f}"
    loss = v > 5.0 if diff else v > LOSS
    return f"**{s}**" if loss else s


def markdown(cells, rows, cell_info, alloc_names, focus, head):
    buf = io.StringIO()
    buf.write(head + "\n")
    buf.write("| cell | varies | database | DB size | readers | cache | s |\n|---|---|---|---:|---:|---:|---:|\n")
    for c in cells:
        i = cell_info[c.name]
        p = i["params"]
        dist, lo, hi = p["values"]
        v = f"{lo} B" if dist == "fixed" else f"{dist} {lo}-{hi} B"
        size = _num(i["db_bytes"] / MiB, ",.0f") + " MiB" if i.get("db_bytes") else "-"
        buf.write(f"| {c.name} | {c.factor} | {p['num']:,} keys, {v}, {p['compression']}, "
                  f"{p['block_size'] // 1024} KiB blocks | {size} | {p['threads']} | {fmt_mib(p['cache'])} "
                  f"| {p['duration']} |\n")
    buf.write("\nPer cell and allocator, medians over the repeats. x best: against the best of the *other* "
              "allocators, above 1 is worse (reads/s: their best / this one; RSS: this one / their lowest); "
              f"slope: MB/min after the first third of the run, and its difference from the others' lowest. "
              f"Bold: more than {100 * (LOSS - 1):.0f} % (slope: 5 MB/min) worse than the best other. "
              f"runs: ok / run; \"busy N %\": other processes used N % of the CPUs meanwhile (median), "
              f"flagged above {100 * BUSY_WARN:.0f} %: those figures are not clean.\n\n")
    buf.write("| cell | allocator | reads/s | x best | RSS median MiB | x best | RSS max MiB | x best "
              "| RSS end MiB | x best | slope MB/min | - best | runs |\n"
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
    for r in rows:
        mb = {k: (r[k] / MiB if r[k] is not None else None) for k in ("rss_median", "rss_max", "rss_end")}
        runs = f"{r['runs_ok']}/{r['runs']}" + ("" if r["status"] == "ok" else f" {r['status']}")
        if r.get("others_cpu") is not None and r["others_cpu"] > BUSY_WARN:
            runs += f", busy {100 * r['others_cpu']:.0f} %"
        name = f"**{r['alloc']}**" if r["alloc"] == focus else r["alloc"]
        buf.write(f"| {r['cell']} | {name} | {_num(r['reads_per_s'], ',.0f')} | {_ratio(r['reads_per_s_vs_best'])} "
                  f"| {_num(mb['rss_median'], ',.1f')} | {_ratio(r['rss_median_vs_best'])} "
                  f"| {_num(mb['rss_max'], ',.1f')} | {_ratio(r['rss_max_vs_best'])} "
                  f"| {_num(mb['rss_end'], ',.1f')} | {_ratio(r['rss_end_vs_best'])} "
                  f"| {_num(r['slope_mb_per_min'], '+.1f')} | {_ratio(r['slope_mb_per_min_vs_best'], True)} "
                  f"| {runs} |\n")
    if focus and len(alloc_names) > 1:
        buf.write(f"\n{focus} against the best of the others, per cell (above 1 / above 0 is a loss):\n\n")
        buf.write("| cell | varies | reads/s | RSS median | RSS max | RSS end | slope - best (MB/min) | worst |\n"
                  "|---|---|---:|---:|---:|---:|---:|---|\n")
        for c in cells:
            r = next((x for x in rows if x["cell"] == c.name and x["alloc"] == focus), None)
            if r is None:
                continue
            worst = max(((r[k + "_vs_best"], lbl) for k, lbl, b in METRICS
                         if b != "diff" and r[k + "_vs_best"] is not None), default=None)
            ws = f"{worst[1]} x{worst[0]:.2f}" if worst else "-"
            buf.write(f"| {c.name} | {c.factor} | {_ratio(r['reads_per_s_vs_best'])} "
                      f"| {_ratio(r['rss_median_vs_best'])} | {_ratio(r['rss_max_vs_best'])} "
                      f"| {_ratio(r['rss_end_vs_best'])} | {_ratio(r['slope_mb_per_min_vs_best'], True)} | {ws} |\n")
    return buf.getvalue()


def charts(out_dir, cells, alloc_names, runs, cell_info):
    """RSS over time, one line per allocator (its median run by reads/s), one
    chart per cell; the long cells are the ones that show the slope."""
    made = {}
    os.makedirs(os.path.join(out_dir, "charts"), exist_ok=True)
    for c in cells:
        p = cell_info[c.name]["params"]
        series = []
        for a in alloc_names:
            m = report.median_run([r for r in runs if r["cell"] == c.name and r["alloc"] == a],
                                  lambda r: r["result"].get("reads_per_s"))
            if m and m["samples"]:
                series.append({"label": a, "points": [(s["t_ms"] / 1000.0, s["rss"] / MiB) for s in m["samples"]]})
        if not series:
            continue
        sub = f"{c.about()}; slope fitted after {p['duration'] * WARMUP_FRACTION:.0f} s"
        text = svg.line_chart(f"RocksDB {c.name}: RSS over time", series, "time (s)", "RSS (MiB)", subtitle=sub,
                              hlines=[(p["cache"] / MiB, "block cache capacity")])
        path = os.path.join(out_dir, "charts", f"rocksdb-{c.name}.svg")
        with open(path, "w") as f:
            f.write(text)
        made[c.name] = path
    return made


RUN_FIELDS = ["cell", "alloc", "rep", "slot", "seed", "status", "detail", "reads_per_s", "micros_per_op",
              "rss_median", "rss_max", "rss_end", "slope_mb_per_min", "duration_s", "wall_s", "user_s", "sys_s",
              "others_cpu", "cmd"]
SUMMARY_FIELDS = ["cell", "alloc", "status", "runs_ok", "runs"] + [
    k for key, _, _ in METRICS for k in (key, key + "_vs_best")] + ["others_cpu", "detail"]


def write_files(out, meta, cell_info, rows, runs, md):
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(report._clean({"meta": meta, "cells": cell_info, "summary": rows, "runs": runs}), f, indent=1)
    with open(os.path.join(out, "runs.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=RUN_FIELDS, extrasaction="ignore")
        wr.writeheader()
        for r in runs:
            wr.writerow(report._clean({**r, **r["result"]}))
    with open(os.path.join(out, "summary.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=SUMMARY_FIELDS, extrasaction="ignore")
        wr.writeheader()
        for r in rows:
            wr.writerow(report._clean(r))
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(md)


def validate(out, expected, chart_cells, strict):
    """Re-reads the files; with strict, also every run must be ok and sane."""
    problems = []
    try:
        with open(os.path.join(out, "results.json")) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        return [f"results.json unreadable: {e}"]
    got = {(r["cell"], r["alloc"], r["rep"]): r for r in data.get("runs", [])}
    for key in expected:
        r = got.get(key)
        if r is None:
            problems.append(f"no run for {'/'.join(map(str, key))}")
            continue
        if r["status"] in report.SOFT_STATES:  # a package that could not be installed: not a failure
            continue
        if r["status"] != "ok":
            if strict:
                problems.append(f"{r['cell']} / {r['alloc']} rep {r['rep']}: {r['status']} {r['detail']}".strip())
            continue
        res, dur = r["result"], r["duration_s"]
        bad = []
        if not (res.get("reads_per_s") or 0) > 0:
            bad.append(f"reads/s {res.get('reads_per_s')!r}")
        med, mx, end = res.get("rss_median"), res.get("rss_max"), res.get("rss_end")
        if not all(isinstance(v, (int, float)) and v > 4 * MiB for v in (med, mx, end)):
            bad.append(f"RSS median/max/end {med!r}/{mx!r}/{end!r}")
        elif med > mx * 1.02 or end > mx * 1.02:
            bad.append(f"RSS median {med:.0f} or end {end:.0f} above VmHWM {mx:.0f}")
        if len(r["samples"]) < max(2, dur // 2):
            bad.append(f"{len(r['samples'])} RSS samples in a {dur} s run")
        sl = res.get("slope_mb_per_min")
        if not isinstance(sl, (int, float)) or not math.isfinite(sl):
            bad.append(f"slope {sl!r}")
        if not r.get("cmd", "").startswith("db_bench --benchmarks=readwhilewriting"):
            bad.append("no command line")
        if bad:
            problems.append(f"{r['cell']} / {r['alloc']} rep {r['rep']}: " + "; ".join(bad))
    for name, fields, want in (("runs.csv", RUN_FIELDS, len(data.get("runs", []))),
                               ("summary.csv", SUMMARY_FIELDS, len(data.get("summary", [])))):
        try:
            with open(os.path.join(out, name), newline="") as f:
                rd = csv.DictReader(f)
                n = sum(1 for _ in rd)
                if rd.fieldnames != fields:
                    problems.append(f"{name}: unexpected header")
            if n != want:
                problems.append(f"{name}: {n} rows, expected {want}")
        except OSError as e:
            problems.append(f"{name}: {e}")
    try:
        with open(os.path.join(out, "table.md")) as f:
            md = f.read()
        for row in data.get("summary", []):
            if f"| {row['cell']} | " not in md:
                problems.append(f"table.md: no row for {row['cell']}")
                break
    except OSError as e:
        problems.append(f"table.md: {e}")
    for c in chart_cells:
        p = os.path.join(out, "charts", f"rocksdb-{c}.svg")
        try:
            if not ET.parse(p).getroot().findall(".//{http://www.w3.org/2000/svg}polyline"):
                problems.append(f"{p}: no lines")
        except (OSError, ET.ParseError) as e:
            problems.append(f"chart {c}: {e}")
    return problems


# --------------------------------------------------------------------- CLI

def select_cells(spec, no_long):
    if not spec or spec == "all":
        names = [c.name for c in CELLS if c.default]
    else:
        names = []
        for s in spec.split(","):
            s = s.strip()
            group = {"all": [c.name for c in CELLS if c.default],
                     "short": [c.name for c in CELLS if c.default and not c.long],
                     "long": [c.name for c in CELLS if c.long]}.get(s)
            for n in group or [s]:
                if n not in names:
                    names.append(n)
    unknown = [n for n in names if n not in BY_NAME]
    cells = [BY_NAME[n] for n in names if n in BY_NAME and not (no_long and BY_NAME[n].long)]
    return cells, unknown


def plan_runs(cells, allocs, repeat):
    """Per cell, each repeat runs every allocator once; the order rotates."""
    plan = []
    for c in cells:
        for rep in range(repeat):
            k = rep % len(allocs)
            for slot, a in enumerate(allocs[k:] + allocs[:k]):
                plan.append((c, a, rep, slot))
    return plan


def parse_args(argv):
    names = "\n".join(f"  {c.name:<16} {c.factor:<12} {c.about()}, {c.params()['seconds']} s"
                      f"{' (--long-seconds)' if c.long else ''}{'' if c.default else '  (not in the default set)'}"
                      for c in CELLS)
    ap = argparse.ArgumentParser(
        prog="bench/run.py --rocksdb-matrix", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="RocksDB db_bench readwhilewriting under several allocators, interleaved and repeated, in "
                    "cells that each vary one factor of a base cell (bench/README.md, 'RocksDB matrix').",
        epilog=f"cells (groups: all = the default set, short, long):\n{names}")
    ap.add_argument("--cells", help="comma-separated cells or groups (default: all)")
    ap.add_argument("--seconds", type=int, help=f"length of the short cells' runs (default {BASE['seconds']})")
    ap.add_argument("--long-seconds", type=int, help=f"length of the long cells' runs (default {LONG_SECONDS})")
    ap.add_argument("--no-long", action="store_true", help="leave out the long cells")
    ap.add_argument("--repeat", type=int, default=2, help="runs per cell and allocator (default 2)")
    ap.add_argument("--alloc", "--allocs", dest="alloc", help=f"comma-separated allocators (default "
                    f"{','.join(allocators.DEFAULT)}), names or .so paths as in bench/run.py")
    ap.add_argument("--write-rate", type=int, default=WRITE_RATE, help=f"writer's rate limit in bytes/s "
                    f"(default {WRITE_RATE})")
    ap.add_argument("--out", help="output directory (default bench/results/<timestamp>-rocksdb-matrix/)")
    ap.add_argument("--scratch", help="where the databases go (default $TMPDIR/tidebench-<uid>, as bench/run.py)")
    ap.add_argument("--tide-lib", help="path of libtidemalloc.so (default build/libtidemalloc.so)")
    ap.add_argument("--timeout-scale", type=float, default=1.0, help="multiply the runs' timeouts "
                    "(default: the run's length + 120 s)")
    ap.add_argument("--no-install", action="store_true", help="never apt-get install missing packages")
    ap.add_argument("--strict", action="store_true", help="exit 1 unless every run is ok with sane figures")
    ap.add_argument("--list-cells", action="store_true", help="print the cells and the time estimate, then exit")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    return ap.parse_args(argv)


def estimate(cells, p_of, n_alloc, repeat, scratch, overhead=RUN_OVERHEAD_S):
    """(seconds of runs, seconds of database preparation still to do)."""
    runs = sum((p_of[c.name]["duration"] + overhead) * n_alloc * repeat for c in cells)
    todo = {}
    for c in cells:
        p = p_of[c.name]
        k = rocks_db_key(p)
        if not os.path.exists(os.path.join(scratch, k, ".tidebench-ready")):
            todo[k] = prep_estimate(p)
    return runs, sum(todo.values())


def prepare_dbs(cells, p_of, ctx, why_db, quiet):
    """Prepares (or finds) every cell's database; returns the cells' info
    for the report, {key: path} and {key: error}."""
    cell_info, bases, db_err = {}, {}, {}
    for c in cells:
        p = p_of[c.name]
        k = rocks_db_key(p)
        if k not in bases and k not in db_err and not why_db:
            t = time.monotonic()
            ready = os.path.exists(os.path.join(ctx.scratch, k, ".tidebench-ready"))
            if not ready and not quiet:
                print(f"# database {k}: ~{Progress.fmt(prep_estimate(p))}", file=sys.stderr, flush=True)
            base, err = _rocks_base(ctx, p)
            if err:
                db_err[k] = err
                print(f"# {err}", file=sys.stderr)
            else:
                bases[k] = base
                if not ready:
                    print(f"# database ready in {time.monotonic() - t:.0f} s: "
                          f"{report.fmt_bytes(db_bytes(base))} of SST files", file=sys.stderr)
        info = {"about": c.about(), "factor": c.factor, "long": c.long, "params": p, "db_key": k}
        if k in bases:
            info["db_bytes"] = db_bytes(bases[k])
            info["db_path"] = bases[k]
            with open(os.path.join(bases[k], ".tidebench-ready")) as f:
                info["prepare_cmd"] = f.read().strip()
        cell_info[c.name] = info
    return cell_info, bases, db_err


def main(argv):
    args = parse_args(argv)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
    root = os.path.dirname(here)
    if args.repeat < 1:
        print("--repeat must be at least 1", file=sys.stderr)
        return 2
    cells, unknown = select_cells(args.cells, args.no_long)
    if unknown:
        print(f"unknown cell(s): {', '.join(unknown)} (known: {', '.join(BY_NAME)}; groups all, short, long)",
              file=sys.stderr)
        return 2
    if not cells:
        print("no cells to run", file=sys.stderr)
        return 2
    specs = [s.strip() for s in (args.alloc or ",".join(allocators.DEFAULT)).split(",") if s.strip()]
    allocs = []
    for s in specs:
        a = allocators.resolve(s, root, args.tide_lib)
        if all(x.name != a.name for x in allocs):
            allocs.append(a)
    scratch = os.path.abspath(args.scratch or os.path.join(tempfile.gettempdir(), f"tidebench-{os.getuid()}"))
    p_of = {c.name: c.params(args.seconds, args.long_seconds, args.write_rate) for c in cells}
    run_s, prep_s = estimate(cells, p_of, len(allocs), args.repeat, scratch)

    if args.list_cells:
        print(f"{'cell':<16} {'varies':<12} {'s':>4}  configuration  [database]")
        first = {}
        for c in cells:
            p = p_of[c.name]
            k = rocks_db_key(p)
            if k in first:
                db = f"as {first[k]}"
            elif os.path.exists(os.path.join(scratch, k, ".tidebench-ready")):
                db = f"ready, {report.fmt_bytes(db_bytes(os.path.join(scratch, k)))}"
            else:
                db = f"to prepare, ~{Progress.fmt(prep_estimate(p))}"
            first.setdefault(k, c.name)
            print(f"{c.name:<16} {c.factor:<12} {p['duration']:>4}  {c.about()}  [{db}]")
        n = len(cells) * len(allocs) * args.repeat
        dbs = len({rocks_db_key(p) for p in p_of.values()})
        print(f"\n{len(cells)} cells x {len(allocs)} allocators ({','.join(a.name for a in allocs)}) x "
              f"{args.repeat} repeats = {n} runs, ~{Progress.fmt(run_s)} (each its length + ~{RUN_OVERHEAD_S:.0f} s); "
              f"{dbs} database(s) in {scratch}, preparing the missing ones ~{Progress.fmt(prep_s)}; "
              f"total ~{Progress.fmt(run_s + prep_s)}")
        return 0

    pkg.allow_install = not args.no_install
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = os.path.abspath(args.out or os.path.join(here, "results", stamp + "-rocksdb-matrix"))
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    if not args.out:
        latest = os.path.join(here, "results", "latest-rocksdb-matrix")
        try:
            if os.path.islink(latest):
                os.unlink(latest)
            os.symlink(os.path.basename(out), latest)
        except OSError:
            pass
    log = open(os.path.join(out, "prepare.log"), "a")
    ctx = Ctx(root=root, bin_dir="", out_dir=out, logs_dir=logs, scratch=scratch, quick=False, log=log)
    t_start = time.monotonic()
    print(f"# RocksDB matrix: {len(cells)} cells x {len(allocs)} allocators x {args.repeat} repeats, "
          f"~{Progress.fmt(run_s + prep_s)}; results in {out}", file=sys.stderr)

    unusable = {}
    why_db = pkg.ensure("rocksdb-tools", DB_BENCH, log)
    for a in allocs:
        why = a.prepare()
        if why:
            unusable[a.name] = (a.status, why)
            print(f"# allocator {a.name}: {why}", file=sys.stderr)

    # The databases, each prepared once (fill + compaction) before any run.
    try:
        cell_info, bases, db_err = prepare_dbs(cells, p_of, ctx, why_db, args.quiet)
    except KeyboardInterrupt:
        print("\n# interrupted while preparing a database (it will be prepared again next time)", file=sys.stderr)
        log.close()
        return 130

    plan = plan_runs(cells, allocs, args.repeat)
    runs, overheads, interrupted = [], [], False
    prog = Progress(len(plan), args.quiet)
    try:
        for i, (c, a, rep, slot) in enumerate(plan):
            p = p_of[c.name]
            ov = statistics.fmean(overheads) if overheads else RUN_OVERHEAD_S
            left = sum(p_of[x[0].name]["duration"] + ov for x in plan[i:])
            prog.start(f"{c.name} | {a.name} | rep {rep + 1}/{args.repeat}", left)
            k = cell_info[c.name]["db_key"]
            t = time.monotonic()
            if why_db or a.name in unusable or k in db_err:
                rec = new_run(c, a, rep, slot, p)
                rec["status"], rec["detail"] = (("missing", why_db) if why_db else unusable[a.name]
                                                if a.name in unusable else ("error", db_err[k]))
            else:
                try:
                    rec = run_one(c, p, bases[k], a, rep, slot, ctx, args.timeout_scale)
                except Exception as e:  # a bug must not end the whole matrix
                    rec = new_run(c, a, rep, slot, p)
                    rec["detail"] = f"runner error: {type(e).__name__}: {e}"
                overheads.append(time.monotonic() - t - p["duration"])
            runs.append(rec)
            res = rec["result"]
            busy = rec.get("others_cpu")
            prog.end(f"ok  reads {res['reads_per_s']:,.0f}/s, RSS median {report.fmt_bytes(res['rss_median'])}, "
                     f"max {report.fmt_bytes(res['rss_max'])}, end {report.fmt_bytes(res['rss_end'])}, "
                     f"slope {res['slope_mb_per_min']:+.1f} MB/min"
                     + (f"; other processes used {100 * busy:.0f} % of the CPUs" if busy and busy > BUSY_WARN else "")
                     if rec["status"] == "ok" else f"{rec['status'].upper()} {rec['detail'][:200]}")
    except KeyboardInterrupt:
        interrupted = True
        print("\n# interrupted: reporting what has run", file=sys.stderr)
    finally:
        prog.close()
        log.close()

    names = [a.name for a in allocs]
    focus = "tide" if "tide" in names else names[0]
    rows = summarize(cells, names, runs)
    git = _git_describe(root)
    cmdline = " ".join(["python3 bench/run.py --rocksdb-matrix", *argv])
    head = (f"RocksDB matrix: `{cmdline}` -- db_bench readwhilewriting, one writer at {args.write_rate:,} B/s, "
            f"{args.repeat} repeat(s) interleaved, medians; {datetime.datetime.now():%Y-%m-%d %H:%M}, git {git}, "
            f"{os.cpu_count()} cpus\n")
    md = markdown(cells, rows, cell_info, names, focus, head)
    made = charts(out, cells, names, runs, cell_info)
    if made:  # the long cells' charts (they show the slope), else all
        shown = [c for c in made if BY_NAME[c].long] or list(made)
        md += "\n" + "\n".join(f"![RocksDB {c}: RSS over time](charts/{os.path.basename(made[c])})"
                               for c in shown) + "\n"
    meta = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "host": platform.node(),
            "kernel": platform.release(), "cpus": os.cpu_count(), "argv": argv, "git": git,
            "repeat": args.repeat, "write_rate": args.write_rate, "warmup_fraction": WARMUP_FRACTION,
            "allocators": [{"name": a.name, "preload": a.preload, "env": a.env, "family": a.family,
                            "problem": unusable.get(a.name, (None, None))[1]} for a in allocs],
            "scratch": scratch, "interrupted": interrupted, "seconds": round(time.monotonic() - t_start, 1)}
    write_files(out, meta, cell_info, rows, runs, md)
    sys.stdout.write(md)
    print(f"\n# {len(runs)} runs in {Progress.fmt(time.monotonic() - t_start)}; results: {out}/table.md, "
          f"results.json, runs.csv, summary.csv" + (f", charts/" if made else ""), file=sys.stderr)
    if interrupted:
        return 130
    expected = [(c.name, a.name, rep) for c, a, rep, _ in plan]
    problems = validate(out, expected, list(made), args.strict)
    if why_db and all(r["status"] == "missing" for r in runs):
        print(f"# {why_db}: nothing measured", file=sys.stderr)
        return 77 if args.strict else 0  # ctest: skipped
    if problems:
        print(f"# validation: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems[:40]:
            print(f"#   {p}", file=sys.stderr)
        return 1 if args.strict or any("unreadable" in p or "header" in p or "rows, expected" in p
                                       for p in problems) else 0
    if args.strict:
        print("# validation: all runs ok, figures sane, output well-formed", file=sys.stderr)
    return 0
