#!/usr/bin/env python3
"""What meshing would free (docs/STATS.md, "The mesh estimate"), measured on
a running workload: runs CMD under tidemalloc with the stats socket, asks
`tide stats --json PID` every --every-ms, and prints, at the moment the free
space inside partly used slabs peaked and at the last answer, that free
space, the mesh estimate and live bytes. Short runs: see docs/BENCHMARKS.md.

    bench/mesh_estimate.py [--tide build/tide] [--lib build/libtidemalloc.so] -- CMD ARGS...
"""
import argparse
import json
import os
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--tide", default=os.path.join(root, "build", "tide"))
    ap.add_argument("--lib", default=os.path.join(root, "build", "libtidemalloc.so"))
    ap.add_argument("--every-ms", type=int, default=250)
    ap.add_argument("--label", default="")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command")
    env = dict(os.environ)
    env["LD_PRELOAD"] = a.lib
    env["TIDE_CONF"] = ",".join(x for x in (env.get("TIDE_CONF", ""), "stats_socket:true") if x)
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    best = last = None
    while p.poll() is None:
        time.sleep(a.every_ms / 1000)
        r = subprocess.run([a.tide, "stats", "--json", str(p.pid)], capture_output=True, text=True)
        if r.returncode != 0:
            continue
        try:
            t = json.loads(r.stdout)["frag"]["total"]
        except (ValueError, KeyError):
            continue
        last = t
        if best is None or t["free_bytes"] > best["free_bytes"]:
            best = t
    if best is None:
        print(f"{a.label or cmd[0]}: no answer from the process", file=sys.stderr)
        return 1
    mib = lambda v: v / 1048576
    for what, t in (("at the most free", best), ("last", last)):
        share = 100 * t["mesh_bytes"] / t["free_bytes"] if t["free_bytes"] else 0
        print(f"{a.label or cmd[0]}: {what}: live in slabs {mib(t['live_bytes']):.1f} MiB, free in partly used slabs "
              f"{mib(t['free_bytes']):.1f} MiB ({t['partly_used']} slabs), meshing would free "
              f"{mib(t['mesh_bytes']):.1f} MiB ({t['mesh_pairs']} pairs, {share:.0f}% of the free space)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
