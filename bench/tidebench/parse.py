"""The workloads' line protocol.

    sample t_ms=<ms> rss=<B> anon=<B> lazyfree=<B> live=<B> phase=<word>
    result workload=<name> key=value ...

Values that parse as numbers become floats; everything else stays a string.
"""

import math

SAMPLE_KEYS = ("t_ms", "rss", "anon", "lazyfree", "live")


def _value(v):
    try:
        f = float(v)
    except ValueError:
        return v
    return f


def parse_kv(tokens):
    out = {}
    for tok in tokens:
        if "=" not in tok:
            raise ValueError(f"token without '=': {tok!r}")
        k, v = tok.split("=", 1)
        if not k:
            raise ValueError(f"empty key in {tok!r}")
        out[k] = _value(v)
    return out


def parse_output(text):
    """Returns (result dict or None, samples, problems)."""
    result, samples, problems = None, [], []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = line.split()
        kind = words[0]
        try:
            kv = parse_kv(words[1:])
        except ValueError as e:
            problems.append(f"line {n}: {e}")
            continue
        if kind == "result":
            if result is not None:
                problems.append(f"line {n}: second result line")
            result = kv
        elif kind == "sample":
            missing = [k for k in SAMPLE_KEYS if not isinstance(kv.get(k), float)]
            if missing:
                problems.append(f"line {n}: sample without numeric {','.join(missing)}")
                continue
            samples.append(kv)
        else:
            problems.append(f"line {n}: unexpected line {line[:60]!r}")
    if result is None:
        problems.append("no result line")
    return result, samples, problems


def check_numbers(result, keys):
    """Problems for keys that are missing or not finite numbers."""
    bad = []
    for k in keys:
        v = result.get(k) if result else None
        if not isinstance(v, float) or not math.isfinite(v):
            bad.append(f"result key {k} missing or not a number ({v!r})")
    return bad
