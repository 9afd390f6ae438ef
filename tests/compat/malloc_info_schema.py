#!/usr/bin/env python3
"""malloc_info under tidemalloc has glibc's schema and tidemalloc's figures.

Runs malloc_info_probe on glibc and with LD_PRELOAD=libtidemalloc.so, parses
both XML documents, and requires:
  - every element of ours, at its place in the tree, with its attributes,
    is one glibc writes there too (so a parser written for glibc's reads it);
  - the element kinds glibc always writes (heap, sizes, total fast/rest/mmap,
    system current/max, aspace total/mprotect) are all there;
  - the figures are tidemalloc's: the mmap total is its huge bytes, and
    system current and the rest size are mallinfo2's arena and fordblks.
usage: malloc_info_schema.py PROBE LIBTIDEMALLOC
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ET


def run(probe, preload):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = preload
    out = subprocess.run([probe], env=env, capture_output=True, text=True, check=True).stdout
    xml_end = out.index("</malloc>") + len("</malloc>")
    figures = {}
    for line in out[xml_end:].split("\n"):
        parts = line.split()
        if len(parts) == 3:
            figures[parts[0] + "." + parts[1]] = int(parts[2])
    return ET.fromstring(out[:xml_end]), figures


def shapes(root):
    """(path, tag, type attribute, attribute names) for every element."""
    found = set()

    def walk(e, path):
        key = (path, e.tag, e.get("type"), tuple(sorted(e.attrib)))
        found.add(key)
        for c in e:
            walk(c, path + "/" + e.tag)

    walk(root, "")
    return found


def main():
    probe, lib = sys.argv[1], os.path.abspath(sys.argv[2])
    glibc_root, _ = run(probe, None)
    tide_root, fig = run(probe, lib)
    glibc, ours = shapes(glibc_root), shapes(tide_root)
    strange = ours - glibc
    if strange:
        sys.exit(f"elements glibc does not write: {sorted(strange)}")
    must = {(p, t, ty) for (p, t, ty, _) in glibc if t in ("heap", "sizes", "total", "system", "aspace")}
    missing = must - {(p, t, ty) for (p, t, ty, _) in ours}
    if missing:
        sys.exit(f"elements glibc writes and we do not: {sorted(missing)}")

    def top(tag, typ):
        for e in tide_root.findall(tag):
            if e.get("type") == typ:
                return int(e.get("size"))
        sys.exit(f"no top-level <{tag} type={typ}>")

    checks = [
        ("mmap total = tide huge_live", top("total", "mmap"), fig["tide.huge_live"]),
        ("system current = mallinfo2 arena", top("system", "current"), fig["mallinfo2.arena"]),
        ("rest = mallinfo2 fordblks", top("total", "rest"), fig["mallinfo2.fordblks"]),
    ]
    for what, a, b in checks:
        if a != b:
            sys.exit(f"{what}: {a} vs {b}")
        print(f"ok: {what} ({a})")
    if fig["tide.huge_live"] < 40 << 20:
        sys.exit("the 40 MiB block is not in the mmap total")
    sizes = tide_root.find("heap/sizes")
    if len(sizes) == 0:
        sys.exit("no free-block sizes listed after freeing a third of 20,000 blocks")
    print(f"PASS: malloc_info has glibc's schema ({len(ours)} element shapes) and tidemalloc's figures")


main()
