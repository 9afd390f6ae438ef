/* isolated — a small segregated-fit allocator over one reserved region, for
 * a child forked mid-operation (isolated.h says why).
 *
 * Blocks come in power-of-two classes from 16 bytes up, each preceded by a
 * 16-byte header naming its class and where its class block starts (an
 * aligned block sits inside a larger one). Freed blocks go on their class's
 * list and are reused; nothing is returned to the OS, the child being
 * short-lived by nature (it execs or exits).
 *
 * Invariant: every block the isolated allocator handed out lies inside
 * [base, base + size) and its header's magic is intact; a spin lock (no
 * pthread mutex: the child may have inherited those held) serialises the
 * child's threads, if it makes any.
 */
#include "isolated.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "platform/os.h"

#define ISOLATED_CLASSES 40
#define HEADER_BYTES 16
#define HEADER_MAGIC 0x7469736fu /* "tiso" */

typedef struct header {
    uint32_t magic;
    uint32_t cls;
    uint64_t block_off; /* the class block's offset in the region */
} header_t;

bool isolated_mode;

static struct {
    char *base;
    size_t size, used;
    void *free[ISOLATED_CLASSES]; /* class blocks, linked through their first word */
    bool busy; /* __atomic builtins */
} iso;

static void spin_lock(void)
{
    while (__atomic_exchange_n(&iso.busy, true, __ATOMIC_ACQUIRE))
        ;
}

static void spin_unlock(void)
{
    __atomic_store_n(&iso.busy, false, __ATOMIC_RELEASE);
}

void isolated_enter(void)
{
    /* Address space only (MAP_NORESERVE): halve it until the kernel agrees. */
    for (size_t want = (size_t)1 << 32; want >= ((size_t)1 << 24) && !iso.base; want >>= 1) {
        iso.base = os_reserve(want, OS_PAGE_SIZE);
        iso.size = iso.base ? want : 0;
    }
    __atomic_store_n(&isolated_mode, true, __ATOMIC_RELEASE);
}

static unsigned class_of(size_t bytes)
{
    unsigned c = 4; /* 16 bytes */
    while (((size_t)1 << c) < bytes)
        c++;
    return c;
}

void *isolated_alloc(size_t size, size_t align, bool zero)
{
    if (align < HEADER_BYTES)
        align = HEADER_BYTES;
    if (size > ((size_t)1 << 38) || align > ((size_t)1 << 30)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t need = HEADER_BYTES + size + (align > HEADER_BYTES ? align : 0);
    unsigned cls = class_of(need);
    if (cls >= ISOLATED_CLASSES) {
        errno = ENOMEM;
        return NULL;
    }
    spin_lock();
    char *block = iso.free[cls];
    bool fresh = block == NULL;
    if (block) {
        iso.free[cls] = *(void **)block;
    } else if (iso.base && iso.size - iso.used >= ((size_t)1 << cls)) {
        block = iso.base + iso.used;
        iso.used += (size_t)1 << cls;
    }
    spin_unlock();
    if (!block) {
        errno = ENOMEM;
        return NULL;
    }
    char *p = (char *)(((uintptr_t)block + HEADER_BYTES + align - 1) & ~(uintptr_t)(align - 1));
    header_t *h = (header_t *)(p - HEADER_BYTES);
    h->magic = HEADER_MAGIC;
    h->cls = cls;
    h->block_off = (uint64_t)(block - iso.base);
    if (zero && !fresh)
        memset(p, 0, size);
    return p;
}

bool isolated_owns(const void *p)
{
    return iso.base && (const char *)p >= iso.base + HEADER_BYTES && (const char *)p < iso.base + iso.used;
}

size_t isolated_usable_size(const void *p)
{
    const header_t *h = (const header_t *)((const char *)p - HEADER_BYTES);
    const char *block = iso.base + h->block_off;
    return (size_t)((block + ((size_t)1 << h->cls)) - (const char *)p);
}

void isolated_free(void *p)
{
    if (!isolated_owns(p))
        return; /* from before the fork: its structures are not ours to touch */
    header_t *h = (header_t *)((char *)p - HEADER_BYTES);
    if (h->magic != HEADER_MAGIC || h->cls >= ISOLATED_CLASSES)
        return;
    char *block = iso.base + h->block_off;
    h->magic = 0;
    spin_lock();
    *(void **)block = iso.free[h->cls];
    iso.free[h->cls] = block;
    spin_unlock();
}

void *isolated_realloc(void *p, size_t size, size_t old_usable)
{
    void *q = isolated_alloc(size, 0, false);
    if (q == NULL)
        return NULL;
    memcpy(q, p, old_usable < size ? old_usable : size);
    isolated_free(p);
    return q;
}
