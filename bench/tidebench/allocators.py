"""The allocators a run compares.

Built-in names are the rows of tools/allocators.tsv, the list `tide run`
reads too (through a header CMake generates from it), so both know the same
names, Debian packages and sonames:
  tide        <repo>/build/libtidemalloc.so (make build)
  glibc       no preload: the C library's own malloc
  jemalloc    Debian libjemalloc2
  mimalloc    Debian libmimalloc2.0
  tcmalloc    Debian libtcmalloc-minimal4 (gperftools)
and bench's own variant of one of them:
  jemalloc-bg jemalloc with MALLOC_CONF=background_thread:true (purges while idle)
Anything else containing '/' or ending in .so is a path to a shared library
to preload, named after the file (libfoo.so -> foo) or NAME=PATH.
"""

import os
import re
import sysconfig
from dataclasses import dataclass, field

from . import pkg

MULTIARCH = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"


def _libdir_file(*names):
    """The first of names (preferred first) found in a library directory;
    else where the first would be, for the package install to put it."""
    for name in names:
        for d in (f"/usr/lib/{MULTIARCH}", f"/lib/{MULTIARCH}", "/usr/lib64", "/usr/lib"):
            p = os.path.join(d, name)
            if os.path.exists(p):
                return p
    return os.path.join(f"/usr/lib/{MULTIARCH}", names[0])


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


TABLE_PATH = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                                           os.pardir, "tools", "allocators.tsv"))


@dataclass(frozen=True)
class TableEntry:
    """One row of tools/allocators.tsv (its header comment says what each
    column means)."""
    name: str
    family: str
    package: str | None  # None: built here (tide), or nothing to preload (glibc)
    sonames: tuple  # preferred first; empty for the C library itself


def load_table(path=TABLE_PATH):
    """The rows of the allocator list, in its order."""
    entries = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            if len(fields) != 4:
                raise ValueError(f"{path}:{lineno}: want 4 columns (name family package sonames), "
                                 f"found {len(fields)}: {line}")
            name, family, package, sonames = fields
            entries.append(TableEntry(name, family, None if package == "-" else package,
                                      () if sonames == "-" else tuple(sonames.split(","))))
    return entries


TABLE = load_table()
_BY_NAME = {e.name: e for e in TABLE}

# Benchmark-only configurations of a listed allocator: the same library with
# other settings, so not in the shared list (tide run has no use for them).
VARIANTS = {"jemalloc-bg": ("jemalloc", {"MALLOC_CONF": "background_thread:true"})}


def _builtin_names():
    """The list's names, each variant right after the allocator it configures."""
    names = []
    for e in TABLE:
        names.append(e.name)
        names += [v for v, (base, _) in VARIANTS.items() if base == e.name]
    return tuple(names)


BUILTIN_NAMES = _builtin_names()
DEFAULT = tuple(e.name for e in TABLE)
# The families a library file's name is matched against (a custom .so).
_PRELOADED_FAMILIES = tuple(dict.fromkeys(e.family for e in TABLE if e.sonames))


def builtin(name, root, tide_lib=None):
    base, env = VARIANTS.get(name, (name, {}))
    e = _BY_NAME.get(base)
    if e is None:
        return None
    if not e.sonames:
        return Allocator(name, None, family=e.family)
    if e.package is None:  # built by this project, into build/
        lib = tide_lib if tide_lib and e.family == "tide" else os.path.join(root, "build", e.sonames[0])
        return Allocator(name, lib, family=e.family)
    return Allocator(name, _libdir_file(*e.sonames), dict(env), e.package, family=e.family)


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
        family = next((f for f in _PRELOADED_FAMILIES if f in base), "custom")
        a = Allocator(name, path, family=family)
        if not os.path.exists(path):
            a.error = f"{path} not found"
        return a
    return Allocator(spec, None, error=f"unknown allocator '{spec}' (known: {', '.join(BUILTIN_NAMES)} "
                                       f"or a path to a .so)", family="unknown")
