"""Fast-path cost: instructions per free+malloc pair, counted by callgrind.

Method (bench/workloads/fastpath.c): single-threaded steady state, a few
hundred blocks of one small size live, free one and allocate its
replacement. Callgrind counts instructions only inside run_pairs()
(--toggle-collect), for N and for 2N pairs; the difference divided by N
removes start-up and warm-up. The same is done for the loop without
malloc/free (--mode=empty), and that per-iteration cost is subtracted.

Callgrind does not replace malloc (only memcheck-like tools do; we pass
--soname-synonyms=somalloc=NONE anyway), so the preloaded allocator runs.
This is checked twice: the program reports which object malloc and free
resolved to (dladdr), and callgrind's per-object counts must put most of
each pair's instructions inside that object.
"""

import os
import re
import shutil

from . import parse, pkg, proc
from .allocators import libc_path
from .workloads import Workload, new_record

SIZES = (32, 64)
BATCH, BATCH_SIZE = 64, 32  # the batch variant: free 64 blocks of 32 B, then allocate 64


def workload():
    return Workload(
        "callgrind", "callgrind", "callgrind",
        "instructions per free+malloc pair in steady state (256 live blocks of 32 B and of 64 B; free one, "
        "allocate one), counted by callgrind for N and 2N pairs and subtracted, empty loop subtracted; also "
        "a batch variant (free 64, then allocate 64)",
        est=(25.0, 12.0), timeout=(300.0, 120.0), time_metric="instr", time_label="instr/pair", ratio=False,
        required=("instr_per_pair",), geomean=False, runner=run, repeat_key="once")


def parse_callgrind(path):
    """Returns (total Ir, {object: self Ir})."""
    per_obj, total = {}, None
    ob = None
    skip_next = False
    with open(path, errors="replace") as f:
        for line in f:
            if skip_next:  # the inclusive cost line after calls=
                skip_next = False
                continue
            c = line[:1]
            if c.isdigit() or c in "+-*":
                if ob is not None:
                    parts = line.split()
                    if len(parts) >= 2:
                        try:
                            per_obj[ob] = per_obj.get(ob, 0) + int(parts[1])
                        except ValueError:
                            pass
                continue
            if line.startswith("ob="):
                ob = re.sub(r"^\(\d+\)\s*", "", line[3:].strip()) or ob
            elif line.startswith("calls="):
                skip_next = True
            elif line.startswith("totals:") or line.startswith("summary:"):
                try:
                    total = int(line.split()[1])
                except (IndexError, ValueError):
                    pass
    return total, per_obj


def _one(ctx, alloc, exe, mode, iters, size, tag):
    out = os.path.join(ctx.logs_dir, f"callgrind.{alloc.name}.{tag}.cg")
    cmd = ["valgrind", "--tool=callgrind", "--soname-synonyms=somalloc=NONE",
           "--toggle-collect=run_pairs", "--toggle-collect=run_empty", "--toggle-collect=run_batch",
           "--toggle-collect=run_batch_empty", f"--callgrind-out-file={out}",
           "--compress-strings=no", "--compress-pos=no", exe, f"--mode={mode}", f"--iters={iters}",
           f"--size={size}", "--live=256", f"--batch={BATCH}"]
    r = proc.run(cmd, env=alloc.child_env(), timeout=120 * ctx.timeout_scale,
                 log_prefix=os.path.join(ctx.logs_dir, f"callgrind.{alloc.name}.{tag}"))
    if r.status != "ok":
        return None, f"{tag}: {r.detail}", r
    result, _, problems = parse.parse_output(r.stdout)
    if problems:
        return None, f"{tag}: {'; '.join(problems)}", r
    if not os.path.exists(out):
        return None, f"{tag}: no callgrind output", r
    total, per_obj = parse_callgrind(out)
    if total is None:
        return None, f"{tag}: callgrind output without totals", r
    return {"total": total, "per_obj": per_obj, "result": result}, None, r


def _same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def run(w, alloc, rep, ctx):
    rec = new_record(w, alloc, rep)
    if not shutil.which("valgrind"):
        why = pkg.ensure("valgrind", "/usr/bin/valgrind", ctx.log)
        if why:
            rec["status"], rec["detail"] = "missing", why
            return rec
    exe = os.path.join(ctx.bin_dir, "fastpath")
    if not os.access(exe, os.X_OK):
        rec["detail"] = f"{exe} not built"
        return rec
    n = 12800 if ctx.quick else 200000  # multiples of BATCH
    expect = alloc.preload or libc_path()
    res, wall, user, sys_, maxrss = {}, 0.0, 0.0, 0.0, 0
    runs = {}
    plan = [("empty", 32, n, "empty-n"), ("empty", 32, 2 * n, "empty-2n"),
            ("batch-empty", 32, n, "bempty-n"), ("batch-empty", 32, 2 * n, "bempty-2n")]
    for s in SIZES:
        plan += [("pairs", s, n, f"s{s}-n"), ("pairs", s, 2 * n, f"s{s}-2n")]
    plan += [("batch", BATCH_SIZE, n, "b-n"), ("batch", BATCH_SIZE, 2 * n, "b-2n")]
    for mode, size, iters, tag in plan:
        got, err, r = _one(ctx, alloc, exe, mode, iters, size, tag)
        wall, user, sys_ = wall + r.wall_s, user + r.user_s, sys_ + r.sys_s
        maxrss = max(maxrss, r.maxrss)
        if err:
            rec["status"] = r.status if r.status != "ok" else "invalid"
            rec["detail"] = err
            rec.update(wall_s=wall, user_s=user, sys_s=sys_, maxrss=maxrss)
            return rec
        runs[tag] = got
    # valgrind's own peak RSS says nothing about the allocator
    rec.update(wall_s=wall, user_s=user, sys_s=sys_, maxrss=None)
    loop = (runs["empty-2n"]["total"] - runs["empty-n"]["total"]) / n
    bloop = (runs["bempty-2n"]["total"] - runs["bempty-n"]["total"]) / n
    res["loop_per_iter"] = round(loop, 2)
    res["batch_loop_per_iter"] = round(bloop, 2)
    problems = []
    for key, tag, lp in [(str(s), f"s{s}", loop) for s in SIZES] + [(f"batch{BATCH}_{BATCH_SIZE}", "b", bloop)]:
        a, b = runs[f"{tag}-n"], runs[f"{tag}-2n"]
        per = (b["total"] - a["total"]) / n - lp
        res[f"instr_per_pair_{key}"] = round(per, 1)
        # The same difference, counted only inside the allocator's object.
        # Code callgrind cannot place in any object ("???") counts too:
        # gperftools puts malloc and free in sections of their own.
        objs = [o for o in set(a["per_obj"]) | set(b["per_obj"]) if o == "???" or _same_file(o, expect)]
        inside = sum(b["per_obj"].get(o, 0) - a["per_obj"].get(o, 0) for o in objs) / n
        res[f"in_allocator_per_pair_{key}"] = round(inside, 1)
        mf, ff = b["result"].get("malloc_from"), b["result"].get("free_from")
        res["malloc_from"], res["free_from"] = mf, ff
        if not (isinstance(mf, str) and _same_file(mf, expect) and isinstance(ff, str) and _same_file(ff, expect)):
            problems.append(f"malloc/free resolved to {mf} / {ff}, expected {expect}")
        if inside < 0.5 * per or inside < 5:
            problems.append(f"{key}: only {inside:.1f} of {per:.1f} instructions per pair ran inside {expect}")
    res["instr_per_pair"] = res[f"instr_per_pair_{SIZES[0]}"]
    res["iters"] = float(n)
    rec["result"] = res
    rec["time"] = res["instr_per_pair"]
    if problems:
        rec["status"], rec["detail"] = "invalid", "; ".join(sorted(set(problems))[:2])
    else:
        rec["status"] = "ok"
    return rec
