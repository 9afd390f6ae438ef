/* tidemalloc tests — build a test written against the standard names
 * (malloc, free, ...) against the prefixed API instead (tide_malloc,
 * tide_free, ...), linking tidemalloc_prefixed, which does not override
 * malloc.  Sanitizer builds use this: the sanitizer keeps malloc, the code
 * under test is reached through tide_*.
 *
 * Include it after every system header (alloc_api.h does that).
 */
#ifndef TIDE_TEST_PREFIXED_H
#define TIDE_TEST_PREFIXED_H

#include "tidemalloc.h"

#define malloc tide_malloc
#define free tide_free
#define calloc tide_calloc
#define realloc tide_realloc
#define reallocarray tide_reallocarray
#define posix_memalign tide_posix_memalign
#define aligned_alloc tide_aligned_alloc
#define memalign tide_memalign
#define valloc tide_valloc
#define pvalloc tide_pvalloc
#define malloc_usable_size tide_malloc_usable_size
#define free_sized tide_free_sized
#define free_aligned_sized tide_free_aligned_sized

/* glibc's internal aliases have no prefixed counterpart: map them to the
 * same entry points so the cases that use them still run. */
#define __libc_malloc tide_malloc
#define __libc_free tide_free
#define __libc_calloc tide_calloc
#define __libc_realloc tide_realloc
#define __libc_memalign tide_memalign
#define __libc_valloc tide_valloc
#define __libc_pvalloc tide_pvalloc

#endif
