/*
 * KvService: a small key-value service in the shape of Venice's read path --
 * a JVM over RocksDB through JNI (Rocks.java, rocks_jni.c) -- for tidemalloc's
 * benchmarks and tests.
 *
 *   KvService serve --db=DIR [options]   many reader threads doing random gets,
 *                                        rate-limited writers; fills DIR first
 *                                        when it is empty
 *   KvService load  --db=DIR [options]   only the fill (prepares a database)
 *   KvService check --db=DIR [options]   deterministic: fill, concurrent reads,
 *                                        concurrent writes to disjoint key
 *                                        ranges, reopen, verification scan
 *
 * serve prints, on stdout, one line per --report-ms:
 *   progress t_ms=<ms> reads=<n> writes=<n> misses=<n> read_bytes=<B> write_bytes=<B> cache_usage=<B> heap_used=<B>
 * (cumulative counts since the start of the serve phase) and at the end
 *   result workload=jvm-rocksdb seconds=<s> reads=<n> writes=<n> reads_per_s=<x> writes_per_s=<x> ...
 * Lines starting with '#' are comments.  check prints only what is the same
 * under every allocator (counts and FNV-1a hashes, no times) and exits 1 if
 * any value read back is not the one written.
 *
 * Options are --name=value; sizes accept K, M and G suffixes.  --help lists them.
 */

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

public final class KvService {
    private static final String META_KEY = "~meta:keys";

    private static final String USAGE = String.join("\n",
        "usage: KvService serve|load|check --db=DIR [--name=value ...]",
        "common:  --db=DIR           database directory (created if missing)",
        "         --cache=SIZE       LRU block cache, also holding index and filter blocks (serve 256M, check 8M)",
        "         --write-buffer=SIZE memtable size (serve 64M, check 1M)",
        "         --bloom-bits=N     bloom filter bits per key (10)",
        "         --jobs=N           RocksDB background jobs (2)",
        "         --value-min=SIZE --value-max=SIZE  value sizes, uniform (100, 8000)",
        "         --seed=N           random seed (serve 1, check 42)",
        "serve:   --keys=N           keys loaded into an empty database (200000)",
        "         --load-threads=N   threads of the fill (2)",
        "         --readers=N        reader threads (32)",
        "         --writers=N        writer threads (1)",
        "         --write-rate=N     writes per second, all writers together (1000; 0: no writes)",
        "         --seconds=S        length of the serve phase (300)",
        "         --report-ms=MS     progress line interval (1000)",
        "check:   --keys=N (20000) --threads=N (8) --reads=N per thread (10000) --writes=N per thread (1500)");

    // ------------------------------------------------------------ options

    private final Map<String, String> opts = new HashMap<>();

    private KvService(String[] args, int from) {
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'");
            }
            int eq = a.indexOf('=');
            if (eq < 0) {
                opts.put(a.substring(2), "1");
            } else {
                opts.put(a.substring(2, eq), a.substring(eq + 1));
            }
        }
    }

    private static long parseSize(String name, String v) {
        String s = v.trim();
        long mul = 1;
        if (!s.isEmpty()) {
            char c = Character.toUpperCase(s.charAt(s.length() - 1));
            if (c == 'K' || c == 'M' || c == 'G') {
                mul = c == 'K' ? 1L << 10 : c == 'M' ? 1L << 20 : 1L << 30;
                s = s.substring(0, s.length() - 1);
            }
        }
        try {
            long n = Long.parseLong(s);
            if (n < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(n, mul);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("--" + name + ": not a non-negative size: '" + v + "'");
        }
    }

    private final List<String> used = new ArrayList<>();

    private long num(String name, long dflt) {
        used.add(name);
        String v = opts.get(name);
        return v == null ? dflt : parseSize(name, v);
    }

    private int inum(String name, long dflt) {
        long v = num(name, dflt);
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--" + name + ": too large");
        }
        return (int) v;
    }

    private String str(String name) {
        used.add(name);
        String v = opts.get(name);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }

    private void rejectUnknown() {
        for (String k : opts.keySet()) {
            if (!used.contains(k)) {
                throw new IllegalArgumentException("unknown option --" + k);
            }
        }
    }

    // ------------------------------------------------- keys and values

    /** "key" followed by 12 decimal digits: byte order is numeric order. */
    static byte[] key(long k) {
        byte[] b = new byte[15];
        b[0] = 'k';
        b[1] = 'e';
        b[2] = 'y';
        for (int i = 14; i >= 3; i--) {
            b[i] = (byte) ('0' + (k % 10));
            k /= 10;
        }
        return b;
    }

    /** The number in a key made by key(), or -1. */
    static long keyIndex(byte[] b) {
        if (b.length != 15 || b[0] != 'k' || b[1] != 'e' || b[2] != 'y') {
            return -1;
        }
        long k = 0;
        for (int i = 3; i < 15; i++) {
            int d = b[i] - '0';
            if (d < 0 || d > 9) {
                return -1;
            }
            k = k * 10 + d;
        }
        return k;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** The value written for (seed, key, version) in check mode: its size
     *  uniform in [min, max], its bytes a splitmix64 stream. */
    static byte[] value(long seed, long k, int version, int min, int max) {
        long h = mix(mix(seed * 0x9e3779b97f4a7c15L + k) + version);
        int n = min + (int) Long.remainderUnsigned(h, (long) max - min + 1);
        byte[] v = new byte[n];
        long s = h;
        for (int i = 0; i < n; i += 8) {
            s += 0x9e3779b97f4a7c15L;
            long r = mix(s);
            for (int j = 0; j < 8 && i + j < n; j++) {
                v[i + j] = (byte) (r >>> (8 * j));
            }
        }
        return v;
    }

    static final long FNV_OFFSET = 0xcbf29ce484222325L;

    static long fnv(long h, byte[] b) {
        for (byte x : b) {
            h ^= x & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    static long fnvLong(long h, long v) {
        for (int i = 0; i < 8; i++) {
            h ^= (v >>> (8 * i)) & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    // ---------------------------------------------------------- threads

    /** Runs body(i) on n threads and waits for them; rethrows the first failure. */
    interface Body {
        void run(int i) throws Exception;
    }

    static void parallel(String name, int n, Body body) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] ts = new Thread[n];
        for (int i = 0; i < n; i++) {
            final int id = i;
            ts[i] = new Thread(() -> {
                try {
                    body.run(id);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, name + "-" + i);
            ts[i].start();
        }
        for (Thread t : ts) {
            t.join();
        }
        rethrow(failure.get());
    }

    static void rethrow(Throwable t) throws Exception {
        if (t instanceof Exception) {
            throw (Exception) t;
        }
        if (t instanceof Error) {
            throw (Error) t;
        }
        if (t != null) {
            throw new RuntimeException(t);
        }
    }

    static void out(String fmt, Object... args) {
        System.out.println(String.format(Locale.ROOT, fmt, args));
        System.out.flush();
    }

    // ------------------------------------------------------------ serve

    private int valueMin;
    private int valueMax;

    private void checkValueSizes() {
        valueMin = inum("value-min", 100);
        valueMax = inum("value-max", 8000);
        if (valueMin > valueMax || valueMax < 1) {
            throw new IllegalArgumentException("--value-min must be <= --value-max");
        }
    }

    private byte[] randomValue(SplittableRandom r) {
        byte[] v = new byte[valueMin + r.nextInt(valueMax - valueMin + 1)];
        r.nextBytes(v);
        return v;
    }

    private static long metaKeys(Rocks db) {
        byte[] m = db.get(META_KEY.getBytes(StandardCharsets.US_ASCII));
        if (m == null) {
            return -1;
        }
        return Long.parseLong(new String(m, StandardCharsets.US_ASCII));
    }

    /** Fills keys [0, keys) when the database has not been filled; returns the key count. */
    private long load(Rocks db, long keys, int threads, long seed) throws Exception {
        long have = metaKeys(db);
        if (have >= 0) {
            if (have != keys) {
                out("# database already holds %d keys (--keys=%d ignored)", have, keys);
            }
            out("loaded keys=%d bytes=0 ms=0 existing=1", have);
            return have;
        }
        if (keys < 1) {
            throw new IllegalArgumentException("--keys must be at least 1");
        }
        out("# loading %d keys with %d thread(s), values %d-%d B", keys, threads, valueMin, valueMax);
        long t0 = System.nanoTime();
        LongAdder bytes = new LongAdder();
        parallel("load", threads, t -> {
            SplittableRandom r = new SplittableRandom(seed * 31 + 1000 + t);
            for (long k = keys * t / threads; k < keys * (t + 1) / threads; k++) {
                byte[] v = randomValue(r);
                db.put(key(k), v);
                bytes.add(v.length);
            }
        });
        db.flush();
        db.put(META_KEY.getBytes(StandardCharsets.US_ASCII),
               Long.toString(keys).getBytes(StandardCharsets.US_ASCII));
        db.flush();
        out("loaded keys=%d bytes=%d ms=%d existing=0", keys, bytes.sum(), (System.nanoTime() - t0) / 1000000);
        return keys;
    }

    private String dbDir;
    private long dbCache;
    private long dbWriteBuffer;
    private int dbBloomBits;
    private int dbJobs;

    /** Reads the database options (before rejectUnknown). */
    private void dbOptions(long cacheDflt, long wbDflt) {
        dbDir = str("db");
        dbCache = num("cache", cacheDflt);
        dbWriteBuffer = num("write-buffer", wbDflt);
        dbBloomBits = inum("bloom-bits", 10);
        dbJobs = inum("jobs", 2);
    }

    private Rocks openDb() {
        return new Rocks(dbDir, dbCache, dbWriteBuffer, dbBloomBits, dbJobs);
    }

    private int serve(boolean loadOnly) throws Exception {
        checkValueSizes();
        long keysOpt = num("keys", 200000);
        int loadThreads = Math.max(1, inum("load-threads", 2));
        long seed = num("seed", 1);
        int readers = inum("readers", 32);
        int writers = inum("writers", 1);
        long rate = num("write-rate", 1000);
        long seconds = num("seconds", 300);
        long reportMs = Math.max(10, num("report-ms", 1000));
        dbOptions(256L << 20, 64L << 20);
        long cache = dbCache;
        rejectUnknown();
        try (Rocks db = openDb()) {
            long keys = load(db, keysOpt, loadThreads, seed);
            if (loadOnly) {
                return 0;
            }
            int nw = rate > 0 ? writers : 0;
            out("# serve: %d readers, %d writers at %d writes/s, %d keys, cache %d B, %d s",
                readers, nw, nw > 0 ? rate : 0, keys, cache, seconds);
            LongAdder reads = new LongAdder(), misses = new LongAdder(), readBytes = new LongAdder();
            LongAdder writes = new LongAdder(), writeBytes = new LongAdder();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> ts = new ArrayList<>();
            final StopFlag flag = new StopFlag();
            for (int i = 0; i < readers; i++) {
                final int id = i;
                ts.add(new Thread(() -> {
                    SplittableRandom r = new SplittableRandom(seed * 7919 + id);
                    try {
                        while (!flag.stop) {
                            byte[] v = db.get(key(r.nextLong(keys)));
                            if (v == null) {
                                misses.increment();
                            } else {
                                readBytes.add(v.length);
                            }
                            reads.increment();
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                        flag.stop = true;
                    }
                }, "reader-" + i));
            }
            for (int i = 0; i < nw; i++) {
                final int id = i;
                // Each writer keeps its share of the rate on a fixed schedule;
                // when it falls more than a second behind it drops the backlog.
                final long period = Math.max(1, 1_000_000_000L * nw / rate);
                ts.add(new Thread(() -> {
                    SplittableRandom r = new SplittableRandom(seed * 104729 + id);
                    long next = System.nanoTime() + period * id / nw;
                    try {
                        while (!flag.stop) {
                            long now = System.nanoTime();
                            if (next > now) {
                                LockSupport.parkNanos(next - now);
                                continue;
                            }
                            if (now - next > 1_000_000_000L) {
                                next = now;
                            }
                            byte[] v = randomValue(r);
                            db.put(key(r.nextLong(keys)), v);
                            writes.increment();
                            writeBytes.add(v.length);
                            next += period;
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                        flag.stop = true;
                    }
                }, "writer-" + i));
            }
            long t0 = System.nanoTime();
            for (Thread t : ts) {
                t.start();
            }
            long end = t0 + seconds * 1_000_000_000L;
            long nextReport = t0 + reportMs * 1_000_000L;
            Runtime rt = Runtime.getRuntime();
            while (!flag.stop) {
                long now = System.nanoTime();
                if (now >= end) {
                    break;
                }
                long wake = Math.min(nextReport, end);
                if (wake > now) {
                    LockSupport.parkNanos(wake - now);
                    continue;
                }
                out("progress t_ms=%d reads=%d writes=%d misses=%d read_bytes=%d write_bytes=%d cache_usage=%d heap_used=%d",
                    (now - t0) / 1_000_000, reads.sum(), writes.sum(), misses.sum(), readBytes.sum(),
                    writeBytes.sum(), db.cacheUsage(), rt.totalMemory() - rt.freeMemory());
                nextReport += reportMs * 1_000_000L;
            }
            flag.stop = true;
            for (Thread t : ts) {
                t.join();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            rethrow(failure.get());
            long nr = reads.sum(), nwr = writes.sum();
            out("result workload=jvm-rocksdb seconds=%.3f readers=%d writers=%d keys=%d cache=%d reads=%d writes=%d "
                + "misses=%d read_bytes=%d write_bytes=%d reads_per_s=%.1f writes_per_s=%.1f cache_usage=%d",
                secs, readers, nw, keys, cache, nr, nwr, misses.sum(), readBytes.sum(), writeBytes.sum(),
                nr / secs, nwr / secs, db.cacheUsage());
        }
        return 0;
    }

    static final class StopFlag {
        volatile boolean stop;
    }

    // ------------------------------------------------------------ check

    private int check() throws Exception {
        checkValueSizes();
        final int n = inum("keys", 20000);
        final int threads = Math.max(1, inum("threads", 8));
        final int readsPer = inum("reads", 10000);
        final int writesPer = inum("writes", 1500);
        final long seed = num("seed", 42);
        final int vmin = valueMin, vmax = valueMax;
        // Every thread may insert up to writesPer new keys after the first n.
        final long total = (long) n + (long) threads * writesPer;
        if (n < threads || total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--keys must be at least --threads, and keys + threads * writes < 2^31");
        }
        dbOptions(8L << 20, 1L << 20);
        String dir = dbDir;
        rejectUnknown();
        // version[k]: the version of key k's value, -1 if k is absent.  Each
        // thread writes only its own indices; join() publishes them.
        final int[] version = new int[(int) total];
        java.util.Arrays.fill(version, n, (int) total, -1);
        int bad = 0;
        try (Rocks db = openDb()) {
            if (!db.isEmpty()) {
                throw new IllegalStateException("check needs an empty database, " + dir + " has keys");
            }
            // Fill: each thread a contiguous range.
            final long[] fillBytes = new long[threads];
            parallel("fill", threads, t -> {
                for (int k = (int) ((long) n * t / threads); k < (long) n * (t + 1) / threads; k++) {
                    byte[] v = value(seed, k, 0, vmin, vmax);
                    db.put(key(k), v);
                    fillBytes[t] += v.length;
                }
            });
            long fb = 0;
            for (long b : fillBytes) {
                fb += b;
            }
            db.flush();
            out("fill keys=%d threads=%d bytes=%d", n, threads, fb);

            // Reads over a fixed key set (10% of the keys asked for are absent).
            final long[][] rd = new long[threads][5]; // found, absent, bytes, fnv, bad
            parallel("read", threads, t -> {
                SplittableRandom r = new SplittableRandom(seed * 1000003 + t);
                long found = 0, absent = 0, bytes = 0, h = FNV_OFFSET, nbad = 0;
                int span = n + n / 10;
                for (int i = 0; i < readsPer; i++) {
                    int k = r.nextInt(span);
                    byte[] v = db.get(key(k));
                    h = fnvLong(h, k);
                    if (v == null) {
                        absent++;
                        h = fnvLong(h, -1);
                        if (k < n) {
                            nbad++;
                        }
                    } else {
                        found++;
                        bytes += v.length;
                        h = fnvLong(h, v.length);
                        h = fnv(h, v);
                        if (k >= n || !java.util.Arrays.equals(v, value(seed, k, 0, vmin, vmax))) {
                            nbad++;
                        }
                    }
                }
                rd[t][0] = found;
                rd[t][1] = absent;
                rd[t][2] = bytes;
                rd[t][3] = h;
                rd[t][4] = nbad;
            });
            for (int t = 0; t < threads; t++) {
                out("read thread=%d gets=%d found=%d absent=%d bytes=%d fnv=%016x bad=%d",
                    t, readsPer, rd[t][0], rd[t][1], rd[t][2], rd[t][3], rd[t][4]);
                bad += (int) rd[t][4];
            }

            // Writes: thread t owns keys [n*t/T, n*(t+1)/T) and the new keys
            // [n + t*writesPer, n + (t+1)*writesPer): overwrites (70%), inserts
            // (20%), deletes (10%), and reads back one of its keys after every
            // fourth operation.
            final long[][] wr = new long[threads][6]; // puts, inserts, deletes, verified, bad, fnv
            parallel("write", threads, t -> {
                SplittableRandom r = new SplittableRandom(seed * 7777777 + t);
                int lo = (int) ((long) n * t / threads), hi = (int) ((long) n * (t + 1) / threads);
                int newLo = n + t * writesPer, newNext = newLo;
                long puts = 0, inserts = 0, deletes = 0, verified = 0, nbad = 0, h = FNV_OFFSET;
                for (int i = 0; i < writesPer; i++) {
                    int op = r.nextInt(10);
                    int k;
                    if (op < 2) {
                        k = newNext++;
                        version[k] = 1;
                        db.put(key(k), value(seed, k, 1, vmin, vmax));
                        inserts++;
                    } else if (op < 3) {
                        k = lo + r.nextInt(hi - lo);
                        version[k] = -1;
                        db.delete(key(k));
                        deletes++;
                    } else {
                        k = lo + r.nextInt(hi - lo);
                        int ver = version[k] < 0 ? 1 : version[k] + 1;
                        version[k] = ver;
                        db.put(key(k), value(seed, k, ver, vmin, vmax));
                        puts++;
                    }
                    h = fnvLong(h, ((long) op << 32) | k);
                    if (i % 4 == 3) {
                        int q = r.nextInt(hi - lo + newNext - newLo);
                        int kq = q < hi - lo ? lo + q : newLo + (q - (hi - lo));
                        byte[] v = db.get(key(kq));
                        byte[] want = version[kq] < 0 ? null : value(seed, kq, version[kq], vmin, vmax);
                        if (want == null ? v != null : !java.util.Arrays.equals(v, want)) {
                            nbad++;
                        }
                        verified++;
                    }
                }
                wr[t][0] = puts;
                wr[t][1] = inserts;
                wr[t][2] = deletes;
                wr[t][3] = verified;
                wr[t][4] = nbad;
                wr[t][5] = h;
            });
            for (int t = 0; t < threads; t++) {
                out("write thread=%d puts=%d inserts=%d deletes=%d verified=%d ops_fnv=%016x bad=%d",
                    t, wr[t][0], wr[t][1], wr[t][2], wr[t][3], wr[t][5], wr[t][4]);
                bad += (int) wr[t][4];
            }
            db.flush();
        }

        // Reopen (WAL replay, SST files) and scan everything in key order.
        long expected = 0;
        for (int v : version) {
            if (v >= 0) {
                expected++;
            }
        }
        final long[] sc = new long[4]; // keys, bytes, fnv, bad
        sc[2] = FNV_OFFSET;
        try (Rocks db = openDb()) {
            final long[] prev = {-1};
            db.scan((k, v) -> {
                long ki = keyIndex(k);
                sc[0]++;
                sc[1] += v.length;
                sc[2] = fnvLong(sc[2], k.length);
                sc[2] = fnv(sc[2], k);
                sc[2] = fnvLong(sc[2], v.length);
                sc[2] = fnv(sc[2], v);
                if (ki < 0 || ki >= total || ki <= prev[0] || version[(int) ki] < 0
                    || !java.util.Arrays.equals(v, value(seed, ki, version[(int) ki], vmin, vmax))) {
                    sc[3]++;
                }
                prev[0] = ki;
            });
        }
        if (sc[0] != expected) {
            sc[3] += Math.abs(sc[0] - expected);
        }
        out("verify keys=%d expected=%d bytes=%d fnv=%016x bad=%d", sc[0], expected, sc[1], sc[2], sc[3]);
        bad += (int) sc[3];
        out(bad == 0 ? "check ok" : "check FAILED: %d bad values", bad);
        return bad == 0 ? 0 : 1;
    }

    // ------------------------------------------------------------- main

    public static void main(String[] args) {
        if (args.length < 1 || args[0].equals("--help") || args[0].equals("-h")) {
            System.out.println(USAGE);
            System.exit(args.length < 1 ? 2 : 0);
        }
        int rc;
        try {
            KvService s = new KvService(args, 1);
            switch (args[0]) {
                case "serve":
                    rc = s.serve(false);
                    break;
                case "load":
                    rc = s.serve(true);
                    break;
                case "check":
                    rc = s.check();
                    break;
                default:
                    throw new IllegalArgumentException("unknown mode '" + args[0] + "' (serve, load or check)");
            }
        } catch (IllegalArgumentException e) {
            System.err.println("KvService: " + e.getMessage());
            System.err.println(USAGE);
            rc = 2;
        } catch (Throwable t) {
            System.err.println("KvService: failed:");
            t.printStackTrace();
            rc = 1;
        }
        System.out.flush();
        System.exit(rc);
    }
}
