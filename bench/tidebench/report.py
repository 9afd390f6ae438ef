"""Aggregating runs (medians), the text table, geometric means, output files
and their validation."""

import csv
import io
import json
import math
import os
import statistics
import xml.etree.ElementTree as ET

from . import svg

MiB = 1 << 20
OK_STATES = ("ok",)
SOFT_STATES = ("missing", "skipped")  # environment, not a failure of the allocator or the runner


def _median(vals):
    vals = [v for v in vals if isinstance(v, (int, float)) and math.isfinite(v)]
    return statistics.median(vals) if vals else None


def median_run(runs, key):
    """The ok run whose `key` is the median (the lower middle for even counts)."""
    ok = [r for r in runs if r["status"] == "ok" and isinstance(key(r), (int, float))]
    if not ok:
        return None
    ok.sort(key=key)
    return ok[(len(ok) - 1) // 2]


def _status_text(runs):
    ok = [r for r in runs if r["status"] == "ok"]
    bad = [r for r in runs if r["status"] != "ok"]
    if not bad:
        return "ok", ""
    first = bad[0]
    what = {"crash": "crashed", "timeout": "timed out", "invalid": "bad output", "error": "failed",
            "missing": "missing", "skipped": "skipped", "unknown": "unknown"}.get(first["status"], first["status"])
    detail = first.get("detail") or ""
    if ok:
        return f"ok {len(ok)}/{len(runs)}", f"{len(bad)} run(s) {what}: {detail}"
    return what, detail


def fmt_bytes(b):
    if b is None:
        return "-"
    if b >= 10 * (1 << 30):
        return f"{b / (1 << 30):.1f} GiB"
    if b >= 1 << 30:
        return f"{b / (1 << 30):.2f} GiB"
    return f"{b / MiB:.1f} MiB"


def fmt_time(w, v):
    if v is None:
        return "-"
    if w.time_metric == "rate" and w.rate_key == "mops_per_s":
        return f"{v:.2f} Mops/s"
    if w.time_metric == "rate":
        return f"{v:,.0f}/s"
    if w.time_metric == "instr":
        return f"{v:.1f}"
    return f"{v:.3f} s" if v < 10 else f"{v:.2f} s"


def _f(res, k):
    v = res.get(k) if res else None
    return v if isinstance(v, (int, float)) and math.isfinite(v) else None


def notes_for(w, alloc, runs, row):
    """Workload-specific figures, from the medians of the ok runs."""
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return ""
    med = {}
    for k in ok[0]["result"]:
        med[k] = _median([_f(r["result"], k) for r in ok])
    row["extra"] = {k: v for k, v in med.items() if v is not None}
    if w.kind == "frag" and w.prog == "frag_waves":
        end, settle = med.get("ratio_end"), med.get("settle_ms")
        decay = alloc.decay_ms() if alloc else None
        s = f"end {end:.2f}" if end is not None else "end -"
        if settle is not None and settle >= 0:
            s += f", <={w.target:.2f} after {settle / 1000:.1f} s"
        else:
            s += f", never <={w.target:.2f}"
        slept = med.get("sleep_ms")
        if decay is not None:
            deadline = decay + 1000
            met = settle is not None and 0 <= settle <= deadline
            if not met and slept is not None and slept < deadline:
                s += f" (target: within {deadline / 1000:.1f} s: not seen, slept only {slept / 1000:.1f} s)"
                met = None
            else:
                s += f" (target: within {deadline / 1000:.1f} s: {'met' if met else 'missed'})"
            row["target_met"] = met
        else:
            row["target_met"] = settle is not None and settle >= 0
        return s
    if w.kind == "frag" and w.prog == "frag_bands":
        # the definition, RSS / live, first; (RSS - start) / live (the ratio column) in brackets
        a_end, a_mx, a_idle = (med.get(f"abs_ratio_{k}") for k in ("churn_end", "max_churn", "idle"))
        r_end, r_mx, r_idle = (med.get(f"ratio_{k}") for k in ("churn_end", "max_churn", "idle"))
        idle_ms = med.get("idle_ms")
        if None in (a_end, a_mx, a_idle, r_end, r_mx, r_idle, idle_ms):
            return ""
        met = a_end <= w.target and (w.idle_target is None or a_idle <= w.idle_target)
        row["target_met"] = met
        s = (f"RSS/live: end of churn {a_end:.2f}, max {a_mx:.2f}, after {idle_ms / 1000:.1f} s idle {a_idle:.2f} "
             f"[(RSS-start)/live {r_end:.2f} / {r_mx:.2f} / {r_idle:.2f}] (target end <={w.target:.2f}")
        if w.idle_target is not None:
            s += f", idle <={w.idle_target:.2f}"
        return s + f": {'met' if met else 'missed'})"
    if w.kind == "frag":
        end, mx = med.get("ratio_end"), med.get("ratio_max_churn")
        if end is None or mx is None:
            return ""
        met = end <= w.target and mx <= w.target
        row["target_met"] = met
        return f"max while churning {mx:.2f}, end {end:.2f} (target <={w.target:.2f}: {'met' if met else 'missed'})"
    if w.name == "rocksdb":
        return (f"RSS median {fmt_bytes(med.get('rss_median'))}, max {fmt_bytes(med.get('rss_max'))}, "
                f"slope {med.get('slope_mb_per_min', 0):+.1f} MB/min (2nd half)")
    if w.name == "jvm-rocksdb":
        return (f"RSS median {fmt_bytes(med.get('rss_median'))}, max {fmt_bytes(med.get('rss_max'))}, "
                f"end {fmt_bytes(med.get('rss_end'))}, slope {med.get('slope_mb_per_min', 0):+.1f} MB/min "
                f"(2nd half), {med.get('writes_per_s', 0):,.0f} writes/s")
    if w.name == "redis":
        parts = []
        for st in ("filled", "deleted", "waited", "refilled", "settled"):
            v = med.get(f"ratio_{st}")
            if v is not None:
                parts.append(f"{st} {v:.2f}")
        return "ratio " + ", ".join(parts)
    if w.kind == "callgrind":
        bits = []
        for k, v in med.items():
            if k.startswith("instr_per_pair_") and v is not None:
                s = k[len("instr_per_pair_"):]
                inside = med.get(f"in_allocator_per_pair_{s}")
                label = f"{s} B" if s.isdigit() else s.replace("batch", "batch of ").replace("_", " x ") + " B"
                bits.append(f"{label}: {v:.1f}" + (f" ({inside:.1f} in allocator)" if inside is not None else ""))
        if med.get("loop_per_iter") is not None:
            bits.append(f"loop {med['loop_per_iter']:.1f}/iter subtracted")
        return "; ".join(bits)
    return ""


def summarize(plan_workloads, allocs_for, records, registry):
    """Rows: one per (workload, allocator) in plan order."""
    by = {}
    for r in records:
        by.setdefault((r["workload"], r["alloc"]), []).append(r)
    rows = []
    for wname in plan_workloads:
        w = registry.get(wname)
        if w is None:
            runs = by.get((wname, None), [])
            rows.append({"workload": wname, "alloc": "-", "status": "unknown",
                         "detail": runs[0]["detail"] if runs else "unknown workload", "runs": 0, "runs_ok": 0})
            continue
        wrows = []
        for alloc in allocs_for(w):
            runs = by.get((wname, alloc.name), [])
            st, detail = _status_text(runs) if runs else ("not run", "the run was interrupted")
            ok = [r for r in runs if r["status"] == "ok"]
            row = {"workload": wname, "alloc": alloc.name, "status": st, "detail": detail, "runs": len(runs),
                   "runs_ok": len(ok), "time": _median([r["time"] for r in ok]),
                   "time_unit": {"rate": w.rate_key or "per_s", "instr": "instructions"}.get(w.time_metric, "s"),
                   "wall_s": _median([r["wall_s"] for r in ok]), "user_s": _median([r["user_s"] for r in ok]),
                   "sys_s": _median([r["sys_s"] for r in ok]), "peak_rss": _median([r["maxrss"] for r in ok]),
                   "ratio": _median([r["ratio"] for r in ok]) if w.ratio else None,
                   "time_vs_best": None, "ratio_vs_best": None, "notes": ""}
            row["notes"] = notes_for(w, alloc, runs, row)
            wrows.append(row)
        times = [r["time"] for r in wrows if r["time"] is not None and r["time"] > 0]
        if times:
            best = max(times) if w.time_metric == "rate" else min(times)
            for r in wrows:
                if r["time"] is not None and r["time"] > 0:
                    r["time_vs_best"] = best / r["time"] if w.time_metric == "rate" else r["time"] / best
        ratios = [r["ratio"] for r in wrows if r["ratio"] is not None and r["ratio"] > 0]
        if ratios:
            best = min(ratios)
            for r in wrows:
                if r["ratio"] is not None and r["ratio"] > 0:
                    r["ratio_vs_best"] = r["ratio"] / best
        rows.extend(wrows)
    return rows


def geomeans(rows, registry):
    out = {}
    for r in rows:
        w = registry.get(r["workload"])
        if w is None:
            continue
        g = out.setdefault(r["alloc"], {"time_logs": [], "ratio_logs": []})
        if w.geomean and r.get("time_vs_best"):
            g["time_logs"].append(math.log(r["time_vs_best"]))
        if r.get("ratio_vs_best"):
            g["ratio_logs"].append(math.log(r["ratio_vs_best"]))
    res = {}
    for a, g in out.items():
        res[a] = {"time_vs_best": math.exp(statistics.fmean(g["time_logs"])) if g["time_logs"] else None,
                  "time_workloads": len(g["time_logs"]),
                  "ratio_vs_best": math.exp(statistics.fmean(g["ratio_logs"])) if g["ratio_logs"] else None,
                  "ratio_workloads": len(g["ratio_logs"])}
    return res


def table(rows, geo, registry):
    buf = io.StringIO()
    cur = None
    hdr = f"  {'allocator':<13}{'time':>14}{'x best':>8}{'peak RSS':>12}{'ratio':>8}{'x best':>8}  status / notes"
    for r in rows:
        w = registry.get(r["workload"])
        if r["workload"] != cur:
            cur = r["workload"]
            buf.write("\n")
            if w is None:
                buf.write(f"== {cur}: {r['detail']}\n")
                continue
            label = {"rate": w.time_label, "instr": w.time_label, "work": "time (work)"}.get(w.time_metric, "time")
            buf.write(f"== {cur} -- {w.about}\n")
            buf.write(hdr.replace(f"{'time':>14}", f"{label:>14}") + "\n")
        if w is None:
            continue
        tv = f"{r['time_vs_best']:.2f}" if r.get("time_vs_best") else "-"
        rv = f"{r['ratio']:.3f}" if r.get("ratio") is not None else "-"
        rb = f"{r['ratio_vs_best']:.2f}" if r.get("ratio_vs_best") else "-"
        st = r["status"]
        tail = st if st != "ok" else ""
        if r.get("notes"):
            tail = (tail + "  " if tail else "") + r["notes"]
        if r.get("detail") and st != "ok":
            tail += f"  [{r['detail'][:150]}]"
        buf.write(f"  {r['alloc']:<13}{fmt_time(w, r.get('time')):>14}{tv:>8}{fmt_bytes(r.get('peak_rss')):>12}"
                  f"{rv:>8}{rb:>8}  {tail}\n")
    buf.write("\n== geometric means (x best; over the workloads each allocator completed)\n")
    buf.write(f"  {'allocator':<13}{'time':>8}{'(n)':>6}{'ratio':>8}{'(n)':>6}\n")
    for a, g in geo.items():
        t = f"{g['time_vs_best']:.3f}" if g["time_vs_best"] else "-"
        q = f"{g['ratio_vs_best']:.3f}" if g["ratio_vs_best"] else "-"
        buf.write(f"  {a:<13}{t:>8}{g['time_workloads']:>6}{q:>8}{g['ratio_workloads']:>6}\n")
    return buf.getvalue()


# ------------------------------------------------------------------ charts

def charts(out_dir, records, registry, allocs_for):
    """One SVG per charted workload: the median run of each allocator."""
    made = {}
    os.makedirs(os.path.join(out_dir, "charts"), exist_ok=True)
    wnames = []
    for r in records:
        if r["workload"] not in wnames:
            wnames.append(r["workload"])
    for wname in wnames:
        w = registry.get(wname)
        if w is None or not w.chart:
            continue
        series, live_pts, live_of, base = [], None, None, None
        for i, alloc in enumerate(allocs_for(w)):
            runs = [r for r in records if r["workload"] == wname and r["alloc"] == alloc.name]
            key = (lambda r: r["time"]) if w.kind == "app" else (lambda r: r["ratio"])
            m = median_run(runs, key)
            if m is None or not m["samples"]:
                continue
            b = m["result"].get("base_rss", 0.0) if w.kind == "frag" else 0.0
            pts = [(s["t_ms"] / 1000.0, (s["rss"] - b) / MiB) for s in m["samples"]]
            series.append({"label": alloc.name, "points": pts})
            if w.kind == "frag" and live_pts is None:
                live_pts = [(s["t_ms"] / 1000.0, s["live"] / MiB) for s in m["samples"]]
                live_of = alloc.name
            if w.name == "rocksdb":
                base = m["result"].get("cache")
        if not series:
            continue
        hlines = []
        if w.kind == "frag":
            series.append({"label": f"live ({live_of}'s run)", "points": live_pts or [], "colour": "#000000",
                           "dash": True})
            ylabel, sub = "RSS above start (MiB)", f"target: (RSS - start) / live <= {w.target:.2f}"
            if w.idle_target is not None:
                sub = f"targets: RSS / live <= {w.target:.2f} at the end of the churn, <= {w.idle_target:.2f} after idle"
        elif w.name == "rocksdb":
            ylabel, sub = "RSS (MiB)", "RocksDB db_bench readwhilewriting, RSS sampled every second"
            if base:
                hlines = [(base / MiB, "block cache capacity")]
        else:
            ylabel, sub = "RSS (MiB)", "RSS sampled every second"
        text = svg.line_chart(f"{wname}: RSS over time", series, "time (s)", ylabel, subtitle=sub, hlines=hlines)
        path = os.path.join(out_dir, "charts", f"{wname}.svg")
        with open(path, "w") as f:
            f.write(text)
        made[wname] = path
    return made


# ------------------------------------------------------------- files

SUMMARY_FIELDS = ["workload", "alloc", "status", "runs_ok", "runs", "time", "time_unit", "time_vs_best", "wall_s",
                  "user_s", "sys_s", "peak_rss", "ratio", "ratio_vs_best", "notes", "detail"]
RUN_FIELDS = ["workload", "alloc", "rep", "status", "detail", "wall_s", "user_s", "sys_s", "maxrss", "time", "ratio",
              "cmd"]


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def write_files(out_dir, meta, records, rows, geo, table_text):
    paths = {}
    p = os.path.join(out_dir, "results.json")
    with open(p, "w") as f:
        json.dump(_clean({"meta": meta, "summary": rows, "geomean": geo, "runs": records}), f, indent=1)
    paths["json"] = p
    p = os.path.join(out_dir, "summary.csv")
    with open(p, "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=SUMMARY_FIELDS, extrasaction="ignore")
        wr.writeheader()
        for r in rows:
            wr.writerow({k: _clean(r.get(k)) for k in SUMMARY_FIELDS})
    paths["summary_csv"] = p
    p = os.path.join(out_dir, "runs.csv")
    with open(p, "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=RUN_FIELDS, extrasaction="ignore")
        wr.writeheader()
        for r in records:
            wr.writerow({k: _clean(r.get(k)) for k in RUN_FIELDS})
    paths["runs_csv"] = p
    p = os.path.join(out_dir, "table.txt")
    with open(p, "w") as f:
        f.write(table_text)
    paths["table"] = p
    return paths


def validate(out_dir, expected_rows, chart_names, registry, strict_status):
    """Re-reads what was written and checks it is well-formed. Returns a list
    of problems (empty when all is well)."""
    problems = []
    try:
        with open(os.path.join(out_dir, "results.json")) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        return [f"results.json unreadable: {e}"]
    for key in ("meta", "summary", "geomean", "runs"):
        if key not in data:
            problems.append(f"results.json has no '{key}'")
    rows = {(r["workload"], r["alloc"]): r for r in data.get("summary", [])}
    for wname, aname in expected_rows:
        r = rows.get((wname, aname))
        if r is None:
            problems.append(f"no summary row for {wname} / {aname}")
            continue
        w = registry.get(wname)
        st = r["status"]
        if st in SOFT_STATES:
            continue
        if st != "ok":
            if strict_status:
                problems.append(f"{wname} / {aname}: {st} {r.get('detail', '')}".strip())
            continue
        t = r.get("time")
        if not isinstance(t, (int, float)) or not t > 0:
            problems.append(f"{wname} / {aname}: time {t!r} is not a positive number")
        if w is not None and w.ratio:
            q = r.get("ratio")
            if not isinstance(q, (int, float)) or not math.isfinite(q):
                problems.append(f"{wname} / {aname}: ratio {q!r} is not a number")
        pr = r.get("peak_rss")
        if w is not None and w.kind != "callgrind" and (not isinstance(pr, (int, float)) or pr <= 0):
            problems.append(f"{wname} / {aname}: peak RSS {pr!r} is not a positive number")
    for run in data.get("runs", []):
        w = registry.get(run.get("workload"))
        if w is None or run.get("status") != "ok":
            continue
        if len(run.get("samples", [])) < w.min_samples:
            problems.append(f"{w.name} / {run['alloc']} rep {run['rep']}: too few samples")
    for name, fields in (("summary.csv", SUMMARY_FIELDS), ("runs.csv", RUN_FIELDS)):
        try:
            with open(os.path.join(out_dir, name), newline="") as f:
                rd = csv.DictReader(f)
                if rd.fieldnames != fields:
                    problems.append(f"{name}: unexpected header")
                n = sum(1 for _ in rd)
            want = len(data.get("summary", [])) if name == "summary.csv" else len(data.get("runs", []))
            if n != want:
                problems.append(f"{name}: {n} rows, expected {want}")
        except OSError as e:
            problems.append(f"{name}: {e}")
    for name in chart_names:
        p = os.path.join(out_dir, "charts", f"{name}.svg")
        try:
            root = ET.parse(p).getroot()
            if not root.tag.endswith("svg") or not root.findall(".//{http://www.w3.org/2000/svg}polyline"):
                problems.append(f"{p}: no lines")
        except (OSError, ET.ParseError) as e:
            problems.append(f"chart {name}: {e}")
    return problems
