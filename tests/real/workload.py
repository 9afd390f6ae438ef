"""A deterministic, allocation-heavy Python workload for the tidemalloc
real-program test (run with PYTHONMALLOC=malloc, so every object is a
malloc'd block).  Prints digests of what it computed; the output must be
identical on glibc and on tidemalloc."""
import collections
import hashlib
import json
import random
import re
import sys
import threading
import zlib


def digest(obj):
    return hashlib.sha256(repr(obj).encode()).hexdigest()[:16]


def dicts_and_lists(rng):
    # A word index: many small strings, lists and dict resizes.
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 12)))
             for _ in range(60000)]
    index = collections.defaultdict(list)
    for i, w in enumerate(words):
        index[w[:3]].append(i)
    counts = collections.Counter(words)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    nested = {f"k{i}": {"vals": list(range(i % 50)), "name": words[i], "sq": i * i}
              for i in range(40000)}
    total = sum(len(v["vals"]) for v in nested.values())
    for i in range(0, 40000, 3):
        del nested[f"k{i}"]
    print("dicts:", len(index), len(counts), top[:3], total, len(nested), digest(sorted(index)[:100]))
    return words


def strings(words):
    text = " ".join(words)
    parts = text.split(" ")
    up = text.upper().replace("A", "<a>")
    fmt = ["{:>10}|{:<8}|{:^6}".format(w, len(w), w[::-1][:3]) for w in words[:20000]]
    joined = "\n".join(fmt)
    b = bytearray()
    for w in words[:30000]:
        b += w.encode() + b","
    print("strings:", len(text), len(parts), len(up), hashlib.sha256(joined.encode()).hexdigest()[:16],
          len(b), hashlib.md5(bytes(b)).hexdigest()[:12])
    return text


def json_round_trip(rng):
    doc = []
    for i in range(15000):
        doc.append({
            "id": i,
            "name": f"item-{i:06d}",
            "tags": [rng.choice(["red", "green", "blue", "cyan"]) for _ in range(rng.randint(0, 6))],
            "price": round(rng.random() * 1000, 2),
            "nested": {"a": [i, i * 2, {"b": str(i)}], "ok": i % 2 == 0, "none": None},
        })
    s = json.dumps(doc, sort_keys=True)
    back = json.loads(s)
    assert back == doc
    s2 = json.dumps(back, indent=1, sort_keys=True)
    again = json.loads(s2)
    assert again == doc
    print("json:", len(s), len(s2), hashlib.sha256(s.encode()).hexdigest()[:16])


def sorting(rng):
    nums = [rng.randint(-10**9, 10**9) for _ in range(300000)]
    tuples = [(rng.randint(0, 100), f"{rng.random():.6f}", i) for i in range(100000)]
    nums.sort()
    tuples.sort(key=lambda t: (t[0], t[1]))
    strs = sorted(str(n) for n in nums[:100000])
    print("sort:", nums[0], nums[-1], nums[150000], tuples[0], tuples[-1], strs[:2], digest(nums[::1000]))


def regexes(text):
    pat = re.compile(r"\b([a-z])([a-z]*)\1\b")
    found = pat.findall(text)
    subbed = re.sub(r"([aeiou])([^aeiou ]+)", lambda m: m.group(2).upper() + m.group(1), text[:400000])
    splits = re.split(r"[xyz]+", text[:300000])
    emails = " ".join(f"user{i}@host{i % 7}.example.org" for i in range(5000))
    addr = re.findall(r"(\w+)@(\w+)\.example\.org", emails)
    print("regex:", len(found), found[:3], len(subbed), hashlib.sha256(subbed.encode()).hexdigest()[:16],
          len(splits), len(addr), addr[-1])


def bigints_and_compression():
    f = 1
    for i in range(2, 1400):  # str() of ints is capped at 4300 digits
        f *= i
    s = str(f)
    data = ("".join(str(i * i) for i in range(60000))).encode()
    comp = zlib.compress(data, 6)
    assert zlib.decompress(comp) == data
    print("bigint:", len(s), sum(map(int, s)) % 100000, "zlib:", len(data), len(comp))


def objects():
    class Node:
        __slots__ = ("key", "left", "right")

        def __init__(self, key):
            self.key = key
            self.left = None
            self.right = None

    rng = random.Random(7)
    root = None
    keys = list(range(60000))
    rng.shuffle(keys)
    for k in keys:
        node = Node(k)
        if root is None:
            root = node
            continue
        cur = root
        while True:
            if k < cur.key:
                if cur.left is None:
                    cur.left = node
                    break
                cur = cur.left
            else:
                if cur.right is None:
                    cur.right = node
                    break
                cur = cur.right
    out, stack, cur = [], [], root
    while stack or cur:
        while cur:
            stack.append(cur)
            cur = cur.left
        cur = stack.pop()
        out.append(cur.key)
        cur = cur.right
    assert out == sorted(keys)
    print("tree:", len(out), out[:3], out[-1])


def threads():
    results = [None] * 4

    def work(n):
        rng = random.Random(n)
        d = {}
        for i in range(40000):
            d[rng.randint(0, 5000)] = [str(i)] * (i % 5)
        results[n] = (len(d), sum(len(v) for v in d.values()))

    ts = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("threads:", results)


def main():
    rng = random.Random(20240601)
    words = dicts_and_lists(rng)
    text = strings(words)
    json_round_trip(rng)
    sorting(rng)
    regexes(text)
    bigints_and_compression()
    objects()
    threads()
    print("python workload done", sys.version_info[:2])


if __name__ == "__main__":
    main()
