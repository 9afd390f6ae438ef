/* meta — bump allocation from 1 MiB chunks taken straight from the OS, for
 * heaps, regions, span descriptors and profiler records.
 *
 * Invariant: meta memory is never freed and never inside a page-heap
 * region, so the allocator's own records neither recurse into malloc nor
 * pin a page a program's block could use; meta_owns knows every chunk (the
 * leak check skips them).
 */
#include "meta.h"
#include "platform/lock.h"

#include <pthread.h>

#include "platform/os.h"

#define META_CHUNK ((size_t)1 << 20)

static pthread_mutex_t meta_lock = PTHREAD_MUTEX_INITIALIZER;
static char *bump, *bump_end;
/* Every chunk, for meta_owns (the leak check must not scan our records). */
#define META_MAX_CHUNKS 4096
static struct { char *base; size_t size; } chunks[META_MAX_CHUNKS];
static size_t nchunks;
static size_t total;

void *meta_alloc(size_t size)
{
    size = (size + 63) & ~(size_t)63;
    lock_acquire(&meta_lock);
    if ((size_t)(bump_end - bump) < size) {
        size_t chunk = size > META_CHUNK ? (size + OS_PAGE_SIZE - 1) & ~(OS_PAGE_SIZE - 1) : META_CHUNK;
        char *p = os_reserve(chunk, OS_PAGE_SIZE);
        if (!p) {
            lock_release(&meta_lock);
            return NULL;
        }
        bump = p;
        bump_end = p + chunk;
        if (nchunks < META_MAX_CHUNKS) {
            chunks[nchunks].base = p;
            chunks[nchunks].size = chunk;
            nchunks++;
        }
    }
    void *out = bump;
    bump += size;
    total += size;
    lock_release(&meta_lock);
    return out;
}

bool meta_owns(const void *p)
{
    lock_acquire(&meta_lock);
    bool found = false;
    for (size_t i = 0; i < nchunks && !found; i++)
        found = (const char *)p >= chunks[i].base && (const char *)p < chunks[i].base + chunks[i].size;
    lock_release(&meta_lock);
    return found;
}

size_t meta_bytes(void)
{
    return __atomic_load_n(&total, __ATOMIC_RELAXED);
}

void meta_fork_prepare(void) { pthread_mutex_lock(&meta_lock); }
void meta_fork_parent(void) { pthread_mutex_unlock(&meta_lock); }
void meta_fork_child(void) { pthread_mutex_init(&meta_lock, NULL); }
