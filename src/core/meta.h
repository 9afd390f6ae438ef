/* meta — memory for the allocator's own bookkeeping (heaps, regions, span
 * descriptors), taken straight from the OS so it never recurses into malloc
 * and never sits inside the pages it describes. */
#ifndef TIDE_META_H
#define TIDE_META_H

#include <stdbool.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

/* Zeroed, 64-byte aligned, never freed (callers recycle what they take). */
void *meta_alloc(size_t size);
size_t meta_bytes(void);
bool meta_owns(const void *p);
void meta_fork_prepare(void);
void meta_fork_parent(void);
void meta_fork_child(void);

#pragma GCC visibility pop

#endif
