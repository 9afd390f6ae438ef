"""Installing Debian packages the benchmarks need (allocators, applications).

ensure(package, probe) returns None when `probe` (a file the package ships)
exists or the package could be installed, else a reason. It needs root and
apt-get; `apt-get update` is run once, only if the first install attempt
cannot find the package. Outcomes are cached for the run.
"""

import os
import shutil
import subprocess
import sys

_cache = {}
_updated = False
allow_install = True


def _apt(args, log):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    env.pop("LD_PRELOAD", None)
    try:
        p = subprocess.run(["apt-get", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 1, str(e)
    out = p.stdout.decode("utf-8", "replace")
    if log:
        log.write(out)
    return p.returncode, out


def ensure(package, probe, log=None):
    global _updated
    if os.path.exists(probe):
        return None
    if package in _cache:
        return _cache[package]
    why = None
    if not allow_install:
        why = f"{package} not installed (--no-install)"
    elif not shutil.which("apt-get"):
        why = f"{package} not installed and apt-get is not available"
    elif os.geteuid() != 0:
        why = f"{package} not installed (run as root to let the runner install it)"
    else:
        print(f"# installing Debian package {package} ...", file=sys.stderr, flush=True)
        rc, out = _apt(["install", "-y", "-q", "--no-install-recommends", package], log)
        if rc != 0 and not _updated:
            _updated = True
            _apt(["update", "-q"], log)
            rc, out = _apt(["install", "-y", "-q", "--no-install-recommends", package], log)
        if rc != 0:
            last = [ln for ln in out.strip().splitlines() if ln.strip()][-1:] or ["apt-get failed"]
            why = f"cannot install {package}: {last[0][:120]}"
        elif not os.path.exists(probe):
            why = f"{package} installed but {probe} is missing"
    _cache[package] = why
    return why
