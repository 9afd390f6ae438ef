"""Running one child process: environment, timeout, rusage, output capture.

The child runs in its own session (so a timeout kills everything it
started); it is reaped with os.wait4 in a helper thread, which gives its
rusage (peak RSS, user and system time) and an exact end time while the
caller's thread can sample it once a second.
"""

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field


@dataclass
class ProcResult:
    status: str  # ok | crash | timeout | error
    rc: int | None = None
    signal: str | None = None
    wall_s: float = 0.0
    user_s: float = 0.0
    sys_s: float = 0.0
    maxrss: int = 0  # bytes: wait4's ru_maxrss (see read_hwm)
    stdout: str = ""
    stderr: str = ""
    detail: str = ""
    samples: list = field(default_factory=list)  # from the on_tick sampler


def signal_name(num):
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def read_smaps_rollup(pid):
    """Rss, Anonymous and LazyFree of a process in bytes (None if gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            text = f.read()
    except OSError:
        return None
    out = {"rss": 0, "anon": 0, "lazyfree": 0}
    keys = {"Rss:": "rss", "Anonymous:": "anon", "LazyFree:": "lazyfree"}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in keys:
            out[keys[parts[0]]] = int(parts[1]) * 1024
    return out


def read_hwm(pid):
    """Peak RSS (VmHWM) of a live process in bytes, or None. The runner uses
    this rather than wait4's ru_maxrss, which Linux carries over exec from
    the (large) Python parent that forked the child."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _wait(p, t0, timeout, done, on_tick, tick, res):
    """Waits for the reaper; samples with on_tick; kills on timeout.
    Returns True if the child timed out."""
    next_tick = tick
    while not done.is_set():
        elapsed = time.monotonic() - t0
        if elapsed >= timeout:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            done.wait(10)
            return True
        wait = min(timeout - elapsed, (next_tick - elapsed) if on_tick else 0.5)
        if done.wait(max(wait, 0.001)):
            break
        if on_tick and time.monotonic() - t0 >= next_tick:
            s = on_tick(p.pid, time.monotonic() - t0)
            if s is not None:
                res.samples.append(s)
            next_tick += tick
    return False


def run(cmd, env=None, timeout=600.0, log_prefix=None, on_tick=None, tick=1.0, cwd=None, stdin=None,
        on_start=None):
    """Runs cmd to completion. on_tick(pid, elapsed_s) is called every `tick`
    seconds while the child runs; what it returns (if not None) is appended
    to result.samples. on_start(pid) is called once the child exists.
    log_prefix: write <prefix>.out / <prefix>.err."""
    out_path = err_path = None
    if log_prefix:
        out_path, err_path = log_prefix + ".out", log_prefix + ".err"
        fout, ferr = open(out_path, "w+b"), open(err_path, "w+b")
    else:
        import tempfile
        fout, ferr = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    res = ProcResult(status="error")
    try:
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(cmd, env=env, stdout=fout, stderr=ferr, stdin=stdin or subprocess.DEVNULL,
                                 cwd=cwd, start_new_session=True)
        except OSError as e:
            res.detail = f"cannot start {cmd[0]}: {e}"
            return res
        box = {}
        done = threading.Event()

        def reap():
            while True:
                try:
                    _, st, ru = os.wait4(p.pid, 0)
                    break
                except InterruptedError:
                    continue
                except ChildProcessError:
                    st, ru = 0, None
                    break
            box["t1"] = time.monotonic()
            box["status"], box["ru"] = st, ru
            done.set()

        th = threading.Thread(target=reap, daemon=True)
        th.start()
        if on_start:
            on_start(p.pid)
        try:
            timed_out = _wait(p, t0, timeout, done, on_tick, tick, res)
        except BaseException:  # Ctrl-C or a failing sampler: take the child down with us
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            raise
        th.join(5)
        p.returncode = 0  # reaped by wait4 above; keep Popen from trying again
        st, ru = box.get("status", 0), box.get("ru")
        res.wall_s = box.get("t1", time.monotonic()) - t0
        if ru is not None:
            res.user_s, res.sys_s = ru.ru_utime, ru.ru_stime
            res.maxrss = ru.ru_maxrss * 1024
        if timed_out:
            res.status, res.detail = "timeout", f"timed out after {timeout:.3g} s"
        elif os.WIFSIGNALED(st):
            res.signal = signal_name(os.WTERMSIG(st))
            res.status, res.detail = "crash", f"killed by {res.signal}"
        else:
            res.rc = os.WEXITSTATUS(st)
            res.status = "ok" if res.rc == 0 else "error"
            if res.rc:
                res.detail = f"exit status {res.rc}"
        fout.seek(0)
        ferr.seek(0)
        res.stdout = fout.read().decode("utf-8", "replace")
        res.stderr = ferr.read().decode("utf-8", "replace")
        if res.status != "ok":
            tail = [ln for ln in res.stderr.strip().splitlines() if ln.strip()][-2:]
            if tail:
                res.detail += ": " + " | ".join(t.strip()[:160] for t in tail)
        return res
    finally:
        fout.close()
        ferr.close()
