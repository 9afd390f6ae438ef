"""The allocators a run compares.

Built-in names:
  tide        <repo>/build/libtidemalloc.so (make build)
  glibc       no preload: the C library's own malloc
  jemalloc    Debian libjemalloc2
  jemalloc-bg jemalloc with MALLOC_CONF=background_thread:true (purges while idle)
  mimalloc    Debian libmimalloc2.0
  tcmalloc    Debian libtcmalloc-minimal4 (gperftools)
Anything else containing '/' or ending in .so is a path to a shared library
to preload, named after the file (libfoo.so -> foo) or NAME=PATH.
"""

import os
import re
import sysconfig
from dataclasses import dataclass, field

from . import pkg

MULTIARCH = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"


def _libdir_file(name):
    for d in (f"/usr/lib/{MULTIARCH}", f"/lib/{MULTIARCH}", "/usr/lib64", "/usr/lib"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return p
    return os.path.join(f"/usr/lib/{MULTIARCH}", name)


def libc_path():
    return _libdir_file("libc.so.6")


@dataclass
class Allocator:
    name: str
    preload: str | None = None  # path to LD_PRELOAD, None for glibc
    env: dict = field(default_factory=dict)
    package: str | None = None  # Debian package that ships `preload`
    error: str | None = None  # why it cannot run (unknown name, missing file)
    family: str = ""  # tide, glibc, jemalloc, mimalloc, tcmalloc, custom, unknown
    status: str = "ok"  # set by prepare()

    def prepare(self):
        """Installs the package if needed; returns None or why it cannot run
        (and sets self.status: unknown, missing (a package that could not be
        installed: the environment's fault) or error (a file not found))."""
        self.status = "unknown" if self.family == "unknown" else "error"
        if self.error:
            return self.error
        if self.preload is None:
            return None
        if self.package:
            why = pkg.ensure(self.package, self.preload)
            if why:
                self.status = "missing"
                return why
        if not os.path.exists(self.preload):
            if self.family == "tide":
                return f"{self.preload} not found (run make build)"
            return f"{self.preload} not found"
        return None

    def child_env(self, extra=None, force_preload=None):
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        env.update(self.env)
        if extra:
            env.update(extra)
        pre = self.preload or force_preload
        if pre:
            env["LD_PRELOAD"] = pre
        return env

    def decay_ms(self):
        """The allocator's time-based purge delay, when it has one that
        works while the process idles (else None)."""
        if self.family == "tide":
            conf = self.env.get("TIDE_CONF", os.environ.get("TIDE_CONF", ""))
            v = parse_conf_ms(conf, ("decay_ms", "dirty_decay_ms", "decay"))
            return 1000.0 if v is None else v
        if self.family == "jemalloc":
            conf = self.env.get("MALLOC_CONF", os.environ.get("MALLOC_CONF", ""))
            v = parse_conf_ms(conf, ("dirty_decay_ms",))
            return 10000.0 if v is None else v
        return None


def parse_conf_ms(conf, keys):
    """Finds key:value or key=value (separated by , ; or spaces) in a
    configuration string; the value in ms, or with an s / ms suffix."""
    for item in re.split(r"[,;\s]+", conf or ""):
        m = re.match(r"^([A-Za-z_]+)\s*[:=]\s*(-?[0-9.]+)\s*(ms|s)?$", item)
        if m and m.group(1) in keys:
            v = float(m.group(2))
            if m.group(3) == "s":
                v *= 1000.0
            return v
    return None


def builtin(name, root, tide_lib=None):
    if name == "tide":
        return Allocator("tide", tide_lib or os.path.join(root, "build", "libtidemalloc.so"), family="tide")
    if name == "glibc":
        return Allocator("glibc", None, family="glibc")
    if name in ("jemalloc", "jemalloc-bg"):
        env = {"MALLOC_CONF": "background_thread:true"} if name == "jemalloc-bg" else {}
        return Allocator(name, _libdir_file("libjemalloc.so.2"), env, "libjemalloc2", family="jemalloc")
    if name == "mimalloc":
        return Allocator(name, _libdir_file("libmimalloc.so.2"), {}, "libmimalloc2.0", family="mimalloc")
    if name == "tcmalloc":
        return Allocator(name, _libdir_file("libtcmalloc_minimal.so.4"), {}, "libtcmalloc-minimal4",
                         family="tcmalloc")
    return None


BUILTIN_NAMES = ("tide", "glibc", "jemalloc", "jemalloc-bg", "mimalloc", "tcmalloc")
DEFAULT = ("tide", "glibc", "jemalloc", "mimalloc", "tcmalloc")


def resolve(spec, root, tide_lib=None):
    """One --alloc item -> Allocator (with .error set if it is unusable)."""
    spec = spec.strip()
    a = builtin(spec, root, tide_lib)
    if a:
        return a
    name, path = None, spec
    if "=" in spec:
        name, path = spec.split("=", 1)
    if "/" in path or path.endswith(".so") or ".so." in path:
        path = os.path.abspath(path)
        if not name:
            base = os.path.basename(path)
            base = re.sub(r"\.so(\.[0-9.]+)?$", "", base)
            name = base[3:] if base.startswith("lib") and len(base) > 3 else base
        base = os.path.basename(path)
        family = next((f for f in ("tide", "jemalloc", "mimalloc", "tcmalloc") if f in base), "custom")
        a = Allocator(name, path, family=family)
        if not os.path.exists(path):
            a.error = f"{path} not found"
        return a
    return Allocator(spec, None, error=f"unknown allocator '{spec}' (known: {', '.join(BUILTIN_NAMES)} "
                                       f"or a path to a .so)", family="unknown")
