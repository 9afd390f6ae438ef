"""An allocation-heavy Python program for the allocator benchmarks.

Run with PYTHONMALLOC=malloc so every object goes through malloc/free (the
runner does that). It builds a record store of dicts, lists, tuples and
strings, serialises and parses it as JSON, trims it, rebuilds it with other
sizes, and churns many small objects, printing one result line:
    result workload=python work_ms=... objects=... checksum=... peak_rss=...
"""

import argparse
import json
import random
import time


class Item:
    def __init__(self, i, name, tags):
        self.i = i
        self.name = name
        self.tags = tags
        self.extra = {"score": i * 0.5, "seen": bool(i & 1)}


COLOURS = ("red", "green", "blue")


def build(rng, n, width):
    store = {}
    base = rng.randrange(1 << 30)
    for i in range(n):
        h = (base + i) * 2654435761 & 0xFFFFFFFF  # cheap pseudo-random sizes
        name = "item-%d-%s" % (i, "x" * (h % width))
        tags = [COLOURS[(h >> (8 + k)) % 3] * (1 + (h >> (4 * k)) % 3) for k in range((h >> 20) % 6)]
        store[name] = Item(i, name, tags)
    return store


def to_json(store, step):
    rows = [{"i": it.i, "name": it.name, "tags": it.tags, "extra": it.extra}
            for k, it in store.items() if it.i % step == 0]
    return json.dumps(rows)


def peak_rss():
    """VmHWM in bytes (0 if /proc is not there)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    n = int(50000 * a.scale)
    t0 = time.perf_counter()
    objects = 0
    checksum = 0
    store = build(rng, n, 40)
    objects += n
    for rnd in range(4):
        text = to_json(store, 3)
        rows = json.loads(text)
        checksum += len(rows) + len(text)
        # trim: drop a random half, then refill with larger names and more tags
        keys = list(store)
        rng.shuffle(keys)
        for k in keys[: len(keys) // 2]:
            del store[k]
        more = build(rng, n // 2, 120 + 40 * rnd)
        store.update({k + "-r%d" % rnd: v for k, v in more.items()})
        objects += n // 2
        # churn small objects: tuples, short strings, small lists
        acc = []
        for i in range(n):
            acc.append((i, str(i), [i, i + 1]))
            if len(acc) > 5000:
                checksum += sum(t[0] for t in acc[::500])
                acc = acc[2500:]
        objects += n
        # string building
        parts = [w.name.upper() for w in list(store.values())[:20000]]
        checksum += len("|".join(parts))
        checksum += sum(len(v.tags) for v in store.values()) % 1000003
    ms = (time.perf_counter() - t0) * 1000.0
    print("result workload=python work_ms=%.1f objects=%d checksum=%d peak_rss=%d"
          % (ms, objects, checksum % 1000000007, peak_rss()))


if __name__ == "__main__":
    main()
