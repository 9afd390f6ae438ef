/*
 * Rocks.java: the Java side of rocks_jni.c, a small JNI binding of RocksDB's
 * C API. One object per open database; get/put/delete may be called from
 * any number of threads at once, close() only once they are done.
 *
 * The native library is loaded from the system property rocks.jni (a path)
 * if it is set, else as "rocks_jni" from java.library.path.
 */
final class Rocks implements AutoCloseable {
    static {
        String path = System.getProperty("rocks.jni");
        if (path != null && !path.isEmpty()) {
            System.load(path);
        } else {
            System.loadLibrary("rocks_jni");
        }
    }

    private static native long open(String path, long cacheBytes, long writeBufferBytes, int bloomBitsPerKey,
                                    int backgroundJobs, boolean syncWrites);

    private static native byte[] get(long h, byte[] key);

    private static native void put(long h, byte[] key, byte[] value);

    private static native void delete(long h, byte[] key);

    private static native void flush(long h);

    private static native long cacheUsage(long h);

    private static native void close(long h);

    private static native long iterOpen(long h);

    private static native boolean iterValid(long it);

    private static native byte[] iterKey(long it);

    private static native byte[] iterValue(long it);

    private static native void iterNext(long it);

    private static native void iterClose(long it);

    private volatile long handle;

    /**
     * Opens (creating it if missing) the database in dir: an LRU block cache of
     * cacheBytes that also holds index and filter blocks, a bloom filter of
     * bloomBitsPerKey bits per key (0: none), memtables of writeBufferBytes
     * (0: RocksDB's default), backgroundJobs flush/compaction threads (0:
     * default), no compression.
     */
    Rocks(String dir, long cacheBytes, long writeBufferBytes, int bloomBitsPerKey, int backgroundJobs) {
        handle = open(dir, cacheBytes, writeBufferBytes, bloomBitsPerKey, backgroundJobs, false);
    }

    /** The value stored under key, or null. */
    byte[] get(byte[] key) {
        return get(handle, key);
    }

    void put(byte[] key, byte[] value) {
        put(handle, key, value);
    }

    void delete(byte[] key) {
        delete(handle, key);
    }

    /** Writes the memtables to SST files and waits for it. */
    void flush() {
        flush(handle);
    }

    /** Bytes the block cache holds now. */
    long cacheUsage() {
        return cacheUsage(handle);
    }

    @Override
    public void close() {
        long h = handle;
        handle = 0;
        if (h != 0) {
            close(h);
        }
    }

    /** Visits every key/value pair in key order. */
    interface Visitor {
        void visit(byte[] key, byte[] value);
    }

    void scan(Visitor v) {
        long it = iterOpen(handle);
        try {
            while (iterValid(it)) {
                v.visit(iterKey(it), iterValue(it));
                iterNext(it);
            }
        } finally {
            iterClose(it);
        }
    }

    /** True when the database holds no key at all. */
    boolean isEmpty() {
        long it = iterOpen(handle);
        try {
            return !iterValid(it);
        } finally {
            iterClose(it);
        }
    }
}
