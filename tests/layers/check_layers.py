#!/usr/bin/env python3
"""The layering rules of src/ (docs/ARCHITECTURE.md, "Layers"), checked.

1. A file includes only its own folder and the folders below its own:
       platform < core < config < prof, hardened < service < api < compat
   (prof and hardened are siblings: neither includes the other).
   Public headers (tidemalloc.h) and system headers are not layers.
2. The hook headers the build selects (<mitigation_*.h>) are included only
   by the files allowed to, and each variant obeys rule 1 for its folder.
3. No `#if TIDE_SECURE` (or #ifdef / defined()) outside src/hardened/,
   src/api/alloc_fast.h and the build files.
4. System calls only in src/platform/os.c.

Prints one line per violation and exits 1 if there is any.
"""
import os
import re
import sys

BELOW = {
    "platform": set(),
    "core": {"platform"},
    "config": {"platform", "core"},
    "prof": {"platform", "core", "config"},
    "hardened": {"platform", "core", "config"},
    "service": {"platform", "core", "config", "prof"},
    "api": {"platform", "core", "config", "prof", "hardened", "service"},
    "compat": {"platform", "core", "config", "prof", "hardened", "service", "api"},
}
# <hook header>: the folders whose files may include it.
HOOK_HEADERS = {
    "mitigation_span.h": {"core"},
    "mitigation_hooks.h": {"core"},
    "mitigation_api_hooks.h": {"api"},
}
SECURE_IF_ALLOWED = ("hardened/", "api/alloc_fast.h")
SYSCALLS = r"\b(mmap|munmap|mremap|madvise|mprotect|write|read|open|openat|close|unlink|readlink|" \
           r"socket|bind|listen|accept4?|recv|send|setsockopt|sigaction|getrandom|getpid|" \
           r"clock_gettime|secure_getenv|getenv|syscall)\s*\("

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
SECURE_IF = re.compile(r'^\s*#\s*(if|ifdef|ifndef|elif)\b.*\bTIDE_SECURE\b', re.M)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', text)


def main(src):
    problems = []
    layers = sorted(d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d)))
    for layer in layers:
        if layer not in BELOW:
            problems.append(f"src/{layer}/: a folder that is not a layer (add it to {__file__})")
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".c", ".h", ".cc")):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            layer = rel.split(os.sep)[0]
            # A hook variant lives in the layer that defines it: the
            # default in core/hooks or api/hooks, the hardened one in
            # hardened/hooks.
            allowed = BELOW.get(layer, set()) | {layer}
            text = open(path, encoding="utf-8").read()
            for lineno, (kind, inc) in ((text.count("\n", 0, m.start()) + 1, (m.group(1), m.group(2)))
                                        for m in INCLUDE.finditer(text)):
                if kind == "<":
                    if inc in HOOK_HEADERS and layer not in HOOK_HEADERS[inc]:
                        problems.append(f"src/{rel}:{lineno}: includes the hook header <{inc}>, "
                                        f"which only {sorted(HOOK_HEADERS[inc])} may include")
                    continue
                if inc == "tidemalloc.h":
                    continue
                target = inc.split("/")[0] if "/" in inc else layer
                if "/" not in inc and not os.path.exists(os.path.join(root, inc)):
                    problems.append(f"src/{rel}:{lineno}: \"{inc}\" is not in its folder: name the layer")
                elif target not in allowed:
                    problems.append(f"src/{rel}:{lineno}: {layer}/ includes {inc}: "
                                    f"{layer}/ may include only {sorted(allowed)}")
            if SECURE_IF.search(text) and not rel.startswith(SECURE_IF_ALLOWED):
                for m in SECURE_IF.finditer(text):
                    lineno = text.count("\n", 0, m.start()) + 1
                    problems.append(f"src/{rel}:{lineno}: #if TIDE_SECURE outside hardened/ and "
                                    f"api/alloc_fast.h: use a hook")
            if rel != os.path.join("platform", "os.c"):
                code = strip_comments(text)
                for m in re.finditer(SYSCALLS, code):
                    before = code[max(0, m.start() - 2):m.start()]
                    if before.endswith((".", ">", "_")) or re.search(r"[A-Za-z0-9_]$", before):
                        continue  # a member, or part of a longer name
                    lineno = code.count("\n", 0, m.start()) + 1
                    problems.append(f"src/{rel}:{lineno}: system call {m.group(1)}() outside "
                                    f"platform/os.c")
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} violation(s)")
        return 1
    print("check_layers: src/ follows the layering rules")
    return 0


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "src")))
