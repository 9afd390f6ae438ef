"""bench/run.py: runs the workloads under each allocator, side by side."""

import argparse
import datetime
import glob
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time

from . import allocators, pkg, report
from .workloads import Ctx, GROUPS, expand, registry, run_c_workload

HELP_EPILOG = """
workloads (names or groups; default: all):
{workloads}
groups: {groups}

allocators (default: {default}; the frag-* scenarios also get jemalloc-bg when
--alloc is not given): {builtins}, or any path to a .so (NAME=PATH to name it).

quick mode (--quick, what CI runs): every workload once with small
parameters under tide and glibc (unless --alloc says otherwise): the C
workloads for well under a second each, the fragmentation scenarios on
32 MiB with ~2.5 s of sleep, RocksDB for 5 s on 300 k keys with a 16 MB
cache, the JVM over RocksDB for 5 s on 20 k keys with a 16 MB cache, Redis
on 60 k keys, the Python script at 1/8 of its size, callgrind on 20 k pairs.
The applications are installed (apt-get) if missing, as in full mode;
--skip-apps leaves them out. It then checks the output files and exits
non-zero if any run crashed, timed out, printed malformed results, or any file
is malformed.

the RocksDB matrix: bench/run.py --rocksdb-matrix [--cells LIST] [--seconds S]
[--repeat N] ... (see bench/run.py --rocksdb-matrix --help and bench/README.md).

exit status: 0, or 1 when validation fails (always checked in quick mode or
with --strict; otherwise only the files' form is checked), 2 for bad usage.
"""


def build_workloads(root, prebuilt=None, log=None):
    """Makes sure the C workloads are built and returns their directory."""
    if prebuilt:
        return prebuilt, None
    progs = ["alloc_churn", "frag_waves", "fastpath"]
    top = os.path.join(root, "build")
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)

    def sh(cmd):
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        if log:
            log.write(p.stdout.decode("utf-8", "replace"))
        return p.returncode == 0

    jobs = str(os.cpu_count() or 2)
    if os.path.exists(os.path.join(top, "CMakeCache.txt")):
        if sh(["cmake", "--build", top, "--target", "bench_workloads", "-j", jobs]):
            d = os.path.join(top, "bench")
            if all(os.access(os.path.join(d, p), os.X_OK) for p in progs):
                return d, None
    # The top-level build is not configured (or failed): build bench/ alone.
    alone = os.path.join(top, "bench-standalone")
    if not os.path.exists(os.path.join(alone, "CMakeCache.txt")):
        if not sh(["cmake", "-S", os.path.join(root, "bench"), "-B", alone, "-DCMAKE_BUILD_TYPE=Release"]):
            return None, "cmake configure of bench/ failed (see prepare.log)"
    if not sh(["cmake", "--build", alone, "-j", jobs]):
        return None, "building the workloads failed (see prepare.log)"
    return alone, None


def _git_describe(root):
    try:
        p = subprocess.run(["git", "-C", root, "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=10)
        return p.stdout.decode().strip() or None
    except (OSError, subprocess.TimeoutExpired):
        return None


class Progress:
    """One status line: workload, allocator, repeat, elapsed, time left."""

    def __init__(self, total, quiet=False):
        self.total, self.done = total, 0
        self.t0 = time.monotonic()
        self.tty = sys.stderr.isatty() and not quiet
        self.quiet = quiet
        self.line = ""
        self.cur_start = None
        self.left = 0.0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        if not quiet:
            threading.Thread(target=self._ticker, daemon=True).start()

    @staticmethod
    def fmt(s):
        s = int(max(s, 0))
        return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"

    def _render(self):
        now = time.monotonic()
        run_el = now - self.cur_start if self.cur_start else 0
        left = max(self.left - run_el, 0)
        return (f"[{self.done + 1:>3}/{self.total}] {self.what} | {self.fmt(now - self.t0)} elapsed, "
                f"~{self.fmt(left)} left")

    def _ticker(self):
        """Refreshes the line every second on a terminal; elsewhere (CI logs)
        prints it again every 30 s while a long run goes on."""
        last = time.monotonic()
        while not self.stop.wait(1.0):
            with self.lock:
                if not self.cur_start:
                    continue
                if self.tty:
                    sys.stderr.write("\r\033[K" + self._render())
                elif time.monotonic() - max(last, self.cur_start) >= 30:
                    last = time.monotonic()
                    sys.stderr.write(self._render() + " (running)\n")
                else:
                    continue
                sys.stderr.flush()

    def start(self, what, left_s):
        with self.lock:
            self.what, self.left, self.cur_start = what, left_s, time.monotonic()
            if self.quiet:
                return
            if self.tty:
                sys.stderr.write("\r\033[K" + self._render())
            else:
                sys.stderr.write(self._render() + "\n")
            sys.stderr.flush()

    def end(self, summary):
        with self.lock:
            self.done += 1
            self.cur_start = None
            if self.quiet:
                return
            if self.tty:
                sys.stderr.write("\r\033[K")
            sys.stderr.write(f"      {self.what}: {summary}\n")
            sys.stderr.flush()

    def close(self):
        self.stop.set()


def run_summary(rec):
    if rec["status"] != "ok":
        return f"{rec['status'].upper()} {rec.get('detail', '')[:200]}"
    bits = []
    if rec.get("time") is not None:
        bits.append(f"time {rec['time']:.3f}" if isinstance(rec["time"], float) else f"time {rec['time']}")
    if rec.get("maxrss"):
        bits.append(f"peak {report.fmt_bytes(rec['maxrss'])}")
    if rec.get("ratio") is not None:
        bits.append(f"ratio {rec['ratio']:.3f}")
    return "ok  " + ", ".join(bits)


def parse_args(argv):
    reg = registry()
    wl = "\n".join(f"  {w.name:<14} [{w.group}] {w.about}" for w in reg.values())
    ap = argparse.ArgumentParser(
        prog="bench/run.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Runs tidemalloc's benchmark workloads under several allocators (LD_PRELOAD), interleaved "
                    "and repeated, and reports medians side by side.",
        epilog=HELP_EPILOG.format(workloads=wl, groups=", ".join(f"{k} ({v})" for k, v in GROUPS.items()),
                                  default=",".join(allocators.DEFAULT), builtins=", ".join(allocators.BUILTIN_NAMES)))
    ap.add_argument("--quick", action="store_true", help="small parameters, one repeat, tide+glibc; validates output")
    ap.add_argument("--alloc", "--allocs", dest="alloc", help="comma-separated allocators (names or .so paths)")
    ap.add_argument("--workloads", "-w", help="comma-separated workloads or groups (default: all)")
    ap.add_argument("--repeat", type=int, help="runs per workload and allocator (default 3; quick 1)")
    ap.add_argument("--app-repeat", type=int, default=1, help="runs of each application (default 1)")
    ap.add_argument("--callgrind", action="store_true", help="only the callgrind fast-path measurement")
    ap.add_argument("--skip-apps", action="store_true", help="leave out the applications (RocksDB, JVM, Redis, Python)")
    ap.add_argument("--out", help="output directory (default bench/results/<timestamp>/)")
    ap.add_argument("--sleep-ms", type=int, help="sleep after the waves / churn in the frag-* scenarios "
                                                   "(default 12000, or twice the allocator's decay time if longer)")
    ap.add_argument("--rocksdb-seconds", type=int, help="RocksDB run length (default 120; quick 5)")
    ap.add_argument("--jvm-seconds", type=int, help="jvm-rocksdb run length (default 300; quick 5)")
    ap.add_argument("--timeout-scale", type=float, default=1.0, help="multiply every timeout")
    ap.add_argument("--no-install", action="store_true", help="never apt-get install missing packages")
    ap.add_argument("--scratch", help="directory for the RocksDB database and Redis (default: $TMPDIR/tidebench)")
    ap.add_argument("--bench-bin", help="use workload binaries from this directory instead of building them")
    ap.add_argument("--tide-lib", help="path of libtidemalloc.so (default build/libtidemalloc.so)")
    ap.add_argument("--env", action="append", default=[], metavar="ALLOC:VAR=VALUE",
                    help="extra environment for one allocator (repeatable), e.g. tide:TIDE_CONF=decay_ms:500")
    ap.add_argument("--strict", action="store_true", help="exit non-zero if any run failed (implied by --quick)")
    ap.add_argument("--list", action="store_true", help="list workloads and allocators, then exit")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    return ap.parse_args(argv)


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    reg = registry()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # bench/
    root = os.path.dirname(here)
    if args.list:
        for w in reg.values():
            print(f"{w.name:<14} {w.group:<10} {w.about}")
        print("\nallocators:", ", ".join(allocators.BUILTIN_NAMES), "or a path to a .so")
        return 0
    if args.repeat is not None and args.repeat < 1 or args.app_repeat < 1:
        print("--repeat and --app-repeat must be at least 1", file=sys.stderr)
        return 2
    quick = args.quick
    repeat = args.repeat or (1 if quick else 3)
    app_repeat = 1 if quick and args.app_repeat == 1 else args.app_repeat
    pkg.allow_install = not args.no_install

    # Workloads.
    requested = ["callgrind"] if args.callgrind else expand((args.workloads or "all").split(","))
    skipped = [n for n in requested if args.skip_apps and n in reg and reg[n].group == "apps"]
    wnames = [n for n in requested if n not in skipped]

    # Allocators.
    alloc_given = args.alloc is not None
    specs = args.alloc.split(",") if alloc_given else (["tide", "glibc"] if quick else list(allocators.DEFAULT))
    allocs = []
    for s in specs:
        if s.strip():
            a = allocators.resolve(s, root, args.tide_lib)
            if all(x.name != a.name for x in allocs):
                allocs.append(a)
    extras = {}
    if not alloc_given and not quick:
        for n in wnames:
            w = reg.get(n)
            for e in (w.extra_allocs if w else ()):
                if all(x.name != e for x in allocs) and e not in extras:
                    extras[e] = allocators.resolve(e, root, args.tide_lib)
    for item in args.env:
        try:
            who, kv = item.split(":", 1)
            var, val = kv.split("=", 1)
        except ValueError:
            print(f"--env wants ALLOC:VAR=VALUE, not {item!r}", file=sys.stderr)
            return 2
        targets = [a for a in allocs + list(extras.values()) if a.name == who]
        if not targets:
            print(f"# --env {item}: no allocator named {who} in this run", file=sys.stderr)
        for a in targets:
            a.env[var] = val

    def allocs_for(w):
        return allocs + [extras[e] for e in w.extra_allocs if e in extras]

    # Output directory.
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = os.path.abspath(args.out or os.path.join(here, "results", stamp + ("-quick" if quick else "")))
    logs = os.path.join(out, "logs")
    os.makedirs(logs, exist_ok=True)
    if not args.out:
        latest = os.path.join(here, "results", "latest")
        try:
            if os.path.islink(latest):
                os.unlink(latest)
            if not os.path.exists(latest):
                os.symlink(os.path.basename(out), latest)
        except OSError:
            pass
    log = open(os.path.join(out, "prepare.log"), "a")
    scratch = args.scratch or os.path.join(tempfile.gettempdir(), f"tidebench-{os.getuid()}")
    print(f"# tidemalloc bench: {'quick' if quick else 'full'} mode, results in {out}", file=sys.stderr)

    # Build the workloads; install what the allocators need.
    t_start = time.monotonic()
    bin_dir, berr = build_workloads(root, args.bench_bin, log)
    if berr:
        print(f"# {berr}", file=sys.stderr)
    ctx = Ctx(root=root, bin_dir=bin_dir or "/nonexistent", out_dir=out, logs_dir=logs, scratch=scratch, quick=quick,
              sleep_ms=args.sleep_ms, timeout_scale=args.timeout_scale, app_duration=args.rocksdb_seconds,
              jvm_duration=args.jvm_seconds, log=log)
    unusable = {}
    for a in allocs + list(extras.values()):
        why = a.prepare()
        if why:
            unusable[a.name] = why
            print(f"# allocator {a.name}: {why}", file=sys.stderr)

    # The plan: per workload, repeats interleaved across allocators (the
    # order rotates each repeat so no allocator always runs first).
    plan = []
    for n in wnames:
        w = reg.get(n)
        if w is None:
            continue
        reps = {"once": 1, "app_repeat": app_repeat}.get(w.repeat_key, repeat)
        al = allocs_for(w)
        for rep in range(reps):
            k = rep % len(al) if al else 0
            for a in al[k:] + al[:k]:
                plan.append((w, a, rep))

    records = []
    for n in wnames:
        if n not in reg:
            records.append({"workload": n, "alloc": None, "rep": 0, "status": "unknown",
                            "detail": f"unknown workload (known: {', '.join(reg)}; groups: {', '.join(GROUPS)})",
                            "samples": [], "result": {}})
            print(f"# unknown workload '{n}'", file=sys.stderr)

    observed = {}
    interrupted = False
    prog = Progress(len(plan), args.quiet)

    def est(w):
        o = observed.get(w.name)
        return sum(o) / len(o) if o else w.estimate(quick)

    try:
        for i, (w, a, rep) in enumerate(plan):
            left = sum(est(x[0]) for x in plan[i:])
            nreps = {"once": 1, "app_repeat": app_repeat}.get(w.repeat_key, repeat)
            prog.start(f"{w.name} | {a.name} | rep {rep + 1}/{nreps}", left)
            t = time.monotonic()
            if a.name in unusable:
                rec = {"workload": w.name, "alloc": a.name, "rep": rep,
                       "status": a.status, "detail": unusable[a.name],
                       "samples": [], "result": {}, "time": None, "ratio": None, "maxrss": None, "wall_s": None,
                       "user_s": None, "sys_s": None}
            elif w.runner is None and not bin_dir:
                rec = {"workload": w.name, "alloc": a.name, "rep": rep, "status": "error", "detail": berr,
                       "samples": [], "result": {}, "time": None, "ratio": None, "maxrss": None, "wall_s": None,
                       "user_s": None, "sys_s": None}
            else:
                try:
                    rec = (w.runner or run_c_workload)(w, a, rep, ctx)
                except Exception as e:  # a bug in one runner must not end the whole benchmark
                    rec = {"workload": w.name, "alloc": a.name, "rep": rep, "status": "error",
                           "detail": f"runner error: {type(e).__name__}: {e}", "samples": [], "result": {},
                           "time": None, "ratio": None, "maxrss": None, "wall_s": None, "user_s": None,
                           "sys_s": None}
                observed.setdefault(w.name, []).append(time.monotonic() - t)
            records.append(rec)
            prog.end(run_summary(rec))
    except KeyboardInterrupt:
        interrupted = True
        print("\n# interrupted: reporting what has run", file=sys.stderr)
    finally:
        prog.close()

    for n in skipped:
        for a in allocs_for(reg[n]):
            records.append({"workload": n, "alloc": a.name, "rep": 0, "status": "skipped",
                            "detail": "--skip-apps", "samples": [], "result": {}, "time": None, "ratio": None,
                            "maxrss": None, "wall_s": None, "user_s": None, "sys_s": None})
    order = requested
    rows = report.summarize(order, allocs_for, records, reg)
    geo = report.geomeans(rows, reg)
    head = (f"tidemalloc bench: {'quick mode (small parameters: the descriptions give the full ones)' if quick else 'full mode'}"
            f", {repeat} repeat(s) ({app_repeat} for the applications), medians; {datetime.datetime.now():%Y-%m-%d %H:%M}, git {_git_describe(root)}\n")
    text = head + report.table(rows, geo, reg)
    sys.stdout.write(text)
    sys.stdout.flush()
    charts = report.charts(out, records, reg, allocs_for)
    meta = {"mode": "quick" if quick else "full", "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "host": platform.node(), "kernel": platform.release(), "cpus": os.cpu_count(),
            "argv": sys.argv[1:] if argv is None else argv, "repeat": repeat, "app_repeat": app_repeat,
            "allocators": [{"name": a.name, "preload": a.preload, "env": a.env, "family": a.family,
                            "decay_ms": a.decay_ms(), "problem": unusable.get(a.name)}
                           for a in allocs + list(extras.values())],
            "workloads": {n: reg[n].about for n in order if n in reg},
            "bench_bin": bin_dir, "git": _git_describe(root), "seconds": round(time.monotonic() - t_start, 1)}
    paths = report.write_files(out, meta, records, rows, geo, text)
    expected = [(r["workload"], r["alloc"]) for r in rows]
    strict = quick or args.strict
    problems = report.validate(out, expected, list(charts), reg, strict)
    for name in glob.glob(os.path.join(out, "logs", "*.cg")):
        os.remove(name)  # callgrind profiles are large and were parsed already
    log.close()
    print(f"\n# {len(records)} runs in {Progress.fmt(time.monotonic() - t_start)}; results: "
          f"{paths['json']}, {paths['summary_csv']}, {paths['runs_csv']}"
          + (f"; charts: {os.path.join(out, 'charts')}/" if charts else ""))
    if interrupted:
        return 130
    if problems:
        print(f"# validation: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems[:40]:
            print(f"#   {p}", file=sys.stderr)
        if strict or any("unreadable" in p or "header" in p or "rows, expected" in p or "chart" in p
                         for p in problems):
            return 1
    elif strict:
        print("# validation: all runs ok and output well-formed", file=sys.stderr)
    return 0
