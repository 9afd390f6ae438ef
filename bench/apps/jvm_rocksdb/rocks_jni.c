/* rocks_jni.c — a small JNI wrapper around RocksDB's C API (rocksdb/c.h)
 * for bench/apps/jvm_rocksdb/Rocks.java: open a database with an LRU block
 * cache that also holds index and filter blocks (bloom filter), get, put,
 * delete, an iterator for ordered scans, close.  Keys and values cross the
 * boundary as Java byte[]; every RocksDB error becomes a Java
 * RuntimeException carrying RocksDB's message.
 *
 * The copies follow what RocksJava does: a put copies the Java arrays into
 * native buffers (GetByteArrayRegion), a get reads into a PinnableSlice and
 * copies it into a new Java array (NewByteArray + SetByteArrayRegion).  So
 * every call allocates native memory, as Venice's own Java-over-RocksDB
 * stack does.
 *
 * C11, no other dependency than the JDK's jni.h and librocksdb.
 */
#include <jni.h>
#include <rocksdb/c.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One open database and everything it owns. */
struct rj_db {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *cache;
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts;
};

/* Keys up to this size are copied onto the stack. */
#define RJ_KEY_STACK 256

static void rj_throw(JNIEnv *env, const char *what, const char *detail)
{
    char msg[1024];
    jclass cls;

    if ((*env)->ExceptionCheck(env))
        return; /* one pending exception is enough */
    cls = (*env)->FindClass(env, "java/lang/RuntimeException");
    if (cls == NULL)
        return; /* FindClass threw already */
    if (detail != NULL) {
        size_t n = strlen(what);
        if (n > sizeof msg - 3)
            n = sizeof msg - 3;
        memcpy(msg, what, n);
        msg[n++] = ':';
        msg[n++] = ' ';
        size_t d = strlen(detail);
        if (d > sizeof msg - 1 - n)
            d = sizeof msg - 1 - n;
        memcpy(msg + n, detail, d);
        msg[n + d] = '\0';
        (*env)->ThrowNew(env, cls, msg);
    } else {
        (*env)->ThrowNew(env, cls, what);
    }
    (*env)->DeleteLocalRef(env, cls);
}

/* Throws and frees RocksDB's error string if there is one; returns 1 then. */
static int rj_check(JNIEnv *env, const char *what, char *err)
{
    if (err == NULL)
        return 0;
    rj_throw(env, what, err);
    rocksdb_free(err);
    return 1;
}

static struct rj_db *rj_handle(JNIEnv *env, jlong h)
{
    struct rj_db *d = (struct rj_db *)(intptr_t)h;
    if (d == NULL || d->db == NULL) {
        rj_throw(env, "rocks: database is closed", NULL);
        return NULL;
    }
    return d;
}

/* A Java byte[] copied into native memory: a stack buffer for small keys,
 * malloc for the rest. */
struct rj_bytes {
    char *p;
    size_t n;
    int heap;
};

static int rj_bytes_get(JNIEnv *env, jbyteArray a, char *stack, size_t stack_size, struct rj_bytes *out)
{
    if (a == NULL) {
        rj_throw(env, "rocks: null byte array", NULL);
        return -1;
    }
    jsize n = (*env)->GetArrayLength(env, a);
    out->n = (size_t)n;
    out->heap = stack == NULL || (size_t)n > stack_size;
    out->p = out->heap ? malloc(n > 0 ? (size_t)n : 1) : stack;
    if (out->p == NULL) {
        rj_throw(env, "rocks: out of memory", NULL);
        return -1;
    }
    (*env)->GetByteArrayRegion(env, a, 0, n, (jbyte *)out->p);
    return 0;
}

static void rj_bytes_free(struct rj_bytes *b)
{
    if (b->heap)
        free(b->p);
}

static jbyteArray rj_new_array(JNIEnv *env, const char *p, size_t n)
{
    if (n > (size_t)INT32_MAX) {
        rj_throw(env, "rocks: value too large for a Java array", NULL);
        return NULL;
    }
    jbyteArray a = (*env)->NewByteArray(env, (jsize)n);
    if (a == NULL)
        return NULL; /* OutOfMemoryError pending */
    (*env)->SetByteArrayRegion(env, a, 0, (jsize)n, (const jbyte *)p);
    return a;
}

static void rj_free_db(struct rj_db *d)
{
    if (d->db != NULL)
        rocksdb_close(d->db);
    if (d->ropts != NULL)
        rocksdb_readoptions_destroy(d->ropts);
    if (d->wopts != NULL)
        rocksdb_writeoptions_destroy(d->wopts);
    if (d->opts != NULL)
        rocksdb_options_destroy(d->opts);
    if (d->table != NULL)
        rocksdb_block_based_options_destroy(d->table); /* owns the filter policy */
    if (d->cache != NULL)
        rocksdb_cache_destroy(d->cache);
    free(d);
}

/* long open(String path, long cacheBytes, long writeBufferBytes,
 *           int bloomBitsPerKey, int backgroundJobs, boolean syncWrites) */
JNIEXPORT jlong JNICALL Java_Rocks_open(JNIEnv *env, jclass cls, jstring jpath, jlong cache_bytes,
                                        jlong write_buffer, jint bloom_bits, jint jobs, jboolean sync)
{
    (void)cls;
    if (jpath == NULL || cache_bytes < 0 || write_buffer < 0 || bloom_bits < 0 || jobs < 0) {
        rj_throw(env, "rocks.open: bad arguments", NULL);
        return 0;
    }
    const char *path = (*env)->GetStringUTFChars(env, jpath, NULL);
    if (path == NULL)
        return 0;
    struct rj_db *d = calloc(1, sizeof *d);
    if (d == NULL) {
        (*env)->ReleaseStringUTFChars(env, jpath, path);
        rj_throw(env, "rocks.open: out of memory", NULL);
        return 0;
    }
    d->cache = rocksdb_cache_create_lru((size_t)cache_bytes);
    d->table = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(d->table, d->cache);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(d->table, 1);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(d->table, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(d->table, 1);
    if (bloom_bits > 0)
        rocksdb_block_based_options_set_filter_policy(d->table, rocksdb_filterpolicy_create_bloom(bloom_bits));
    d->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(d->opts, 1);
    rocksdb_options_set_block_based_table_factory(d->opts, d->table);
    rocksdb_options_set_compression(d->opts, rocksdb_no_compression);
    if (write_buffer > 0)
        rocksdb_options_set_write_buffer_size(d->opts, (size_t)write_buffer);
    if (jobs > 0)
        rocksdb_options_set_max_background_jobs(d->opts, jobs);
    rocksdb_options_set_info_log_level(d->opts, 2 /* WARN */);
    rocksdb_options_set_keep_log_file_num(d->opts, 2);
    d->ropts = rocksdb_readoptions_create();
    d->wopts = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(d->wopts, sync ? 1 : 0);

    char *err = NULL;
    d->db = rocksdb_open(d->opts, path, &err);
    (*env)->ReleaseStringUTFChars(env, jpath, path);
    if (rj_check(env, "rocks.open", err) || d->db == NULL) {
        rj_throw(env, "rocks.open: failed", NULL);
        rj_free_db(d);
        return 0;
    }
    return (jlong)(intptr_t)d;
}

/* byte[] get(long h, byte[] key): null when the key is absent. */
JNIEXPORT jbyteArray JNICALL Java_Rocks_get(JNIEnv *env, jclass cls, jlong h, jbyteArray jkey)
{
    (void)cls;
    struct rj_db *d = rj_handle(env, h);
    char kbuf[RJ_KEY_STACK];
    struct rj_bytes k;
    if (d == NULL || rj_bytes_get(env, jkey, kbuf, sizeof kbuf, &k) != 0)
        return NULL;
    char *err = NULL;
    rocksdb_pinnableslice_t *ps = rocksdb_get_pinned(d->db, d->ropts, k.p, k.n, &err);
    rj_bytes_free(&k);
    if (rj_check(env, "rocks.get", err) || ps == NULL) {
        if (ps != NULL)
            rocksdb_pinnableslice_destroy(ps);
        return NULL; /* an error, or no such key */
    }
    size_t vlen = 0;
    const char *v = rocksdb_pinnableslice_value(ps, &vlen);
    jbyteArray out = rj_new_array(env, v, vlen);
    rocksdb_pinnableslice_destroy(ps);
    return out;
}

/* void put(long h, byte[] key, byte[] value) */
JNIEXPORT void JNICALL Java_Rocks_put(JNIEnv *env, jclass cls, jlong h, jbyteArray jkey, jbyteArray jval)
{
    (void)cls;
    struct rj_db *d = rj_handle(env, h);
    char kbuf[RJ_KEY_STACK];
    struct rj_bytes k, v;
    if (d == NULL || rj_bytes_get(env, jkey, kbuf, sizeof kbuf, &k) != 0)
        return;
    if (rj_bytes_get(env, jval, NULL, 0, &v) != 0) {
        rj_bytes_free(&k);
        return;
    }
    char *err = NULL;
    rocksdb_put(d->db, d->wopts, k.p, k.n, v.p, v.n, &err);
    rj_bytes_free(&k);
    rj_bytes_free(&v);
    rj_check(env, "rocks.put", err);
}

/* void delete(long h, byte[] key) */
JNIEXPORT void JNICALL Java_Rocks_delete(JNIEnv *env, jclass cls, jlong h, jbyteArray jkey)
{
    (void)cls;
    struct rj_db *d = rj_handle(env, h);
    char kbuf[RJ_KEY_STACK];
    struct rj_bytes k;
    if (d == NULL || rj_bytes_get(env, jkey, kbuf, sizeof kbuf, &k) != 0)
        return;
    char *err = NULL;
    rocksdb_delete(d->db, d->wopts, k.p, k.n, &err);
    rj_bytes_free(&k);
    rj_check(env, "rocks.delete", err);
}

/* void flush(long h): memtables to SST files, waiting for it. */
JNIEXPORT void JNICALL Java_Rocks_flush(JNIEnv *env, jclass cls, jlong h)
{
    (void)cls;
    struct rj_db *d = rj_handle(env, h);
    if (d == NULL)
        return;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 1);
    char *err = NULL;
    rocksdb_flush(d->db, fo, &err);
    rocksdb_flushoptions_destroy(fo);
    rj_check(env, "rocks.flush", err);
}

/* long cacheUsage(long h): bytes held by the block cache. */
JNIEXPORT jlong JNICALL Java_Rocks_cacheUsage(JNIEnv *env, jclass cls, jlong h)
{
    (void)cls;
    struct rj_db *d = rj_handle(env, h);
    return d == NULL ? 0 : (jlong)rocksdb_cache_get_usage(d->cache);
}

/* void close(long h): the caller guarantees no other thread uses h. */
JNIEXPORT void JNICALL Java_Rocks_close(JNIEnv *env, jclass cls, jlong h)
{
    (void)env;
    (void)cls;
    struct rj_db *d = (struct rj_db *)(intptr_t)h;
    if (d != NULL)
        rj_free_db(d);
}

/* ---- iterators: long iterOpen(long h) positioned at the first key;
 * boolean iterValid(long it); byte[] iterKey(long it); byte[]
 * iterValue(long it); void iterNext(long it); void iterClose(long it)
 * (which throws if the iteration ended on an error). */

JNIEXPORT jlong JNICALL Java_Rocks_iterOpen(JNIEnv *env, jclass cls, jlong h)
{
    (void)cls;
    struct rj_db *d = rj_handle(env, h);
    if (d == NULL)
        return 0;
    rocksdb_iterator_t *it = rocksdb_create_iterator(d->db, d->ropts);
    if (it == NULL) {
        rj_throw(env, "rocks.iterOpen: failed", NULL);
        return 0;
    }
    rocksdb_iter_seek_to_first(it);
    return (jlong)(intptr_t)it;
}

static rocksdb_iterator_t *rj_iter(JNIEnv *env, jlong it)
{
    rocksdb_iterator_t *p = (rocksdb_iterator_t *)(intptr_t)it;
    if (p == NULL)
        rj_throw(env, "rocks: null iterator", NULL);
    return p;
}

JNIEXPORT jboolean JNICALL Java_Rocks_iterValid(JNIEnv *env, jclass cls, jlong it)
{
    (void)cls;
    rocksdb_iterator_t *p = rj_iter(env, it);
    return p != NULL && rocksdb_iter_valid(p) ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT jbyteArray JNICALL Java_Rocks_iterKey(JNIEnv *env, jclass cls, jlong it)
{
    (void)cls;
    rocksdb_iterator_t *p = rj_iter(env, it);
    if (p == NULL)
        return NULL;
    size_t n = 0;
    const char *k = rocksdb_iter_key(p, &n);
    return rj_new_array(env, k, n);
}

JNIEXPORT jbyteArray JNICALL Java_Rocks_iterValue(JNIEnv *env, jclass cls, jlong it)
{
    (void)cls;
    rocksdb_iterator_t *p = rj_iter(env, it);
    if (p == NULL)
        return NULL;
    size_t n = 0;
    const char *v = rocksdb_iter_value(p, &n);
    return rj_new_array(env, v, n);
}

JNIEXPORT void JNICALL Java_Rocks_iterNext(JNIEnv *env, jclass cls, jlong it)
{
    (void)cls;
    rocksdb_iterator_t *p = rj_iter(env, it);
    if (p != NULL)
        rocksdb_iter_next(p);
}

JNIEXPORT void JNICALL Java_Rocks_iterClose(JNIEnv *env, jclass cls, jlong it)
{
    (void)cls;
    rocksdb_iterator_t *p = rj_iter(env, it);
    if (p == NULL)
        return;
    char *err = NULL;
    rocksdb_iter_get_error(p, &err);
    rocksdb_iter_destroy(p);
    rj_check(env, "rocks.iter", err);
}
