/* Fragmentation statistics (tide_stats_frag, service/frag.c and mesh.c, on
 * core/slab_census.c) on slabs whose occupancy the test sets block by
 * block: the free bytes inside partly used slabs, the occupancy bins, and
 * the mesh estimate's pairing of slabs whose live blocks do not overlap. */
#define _GNU_SOURCE
#include "runner.h"
#include "check.h"
#include "tidemalloc.h"

#include "core/pagemap.h"
#include "core/size_class.h"
#include "service/frag.h"

#include <string.h>

/* 448-byte blocks: 146 to a 64 KiB slab; nothing else in the test uses the class. */
#define BS 448u
#define SLABS 8
#define PER_SLAB (16u * 4096 / BS)

static void *blocks[SLABS * PER_SLAB + 2 * PER_SLAB];
static size_t nblocks;

static unsigned slot_of(void *p)
{
    span_t *s = pagemap_lookup(p);
    return (unsigned)(((char *)p - s->start) / BS);
}

static int class_448(void)
{
    for (unsigned k = 0; k < SC_COUNT; k++)
        if (sc_block_size[k] == BS)
            return (int)k;
    return -1;
}

/* Fill whole slabs, then keep the blocks keep() says. Returns the blocks kept. */
static size_t shape(bool (*keep)(void *p))
{
    nblocks = 0;
    span_t *first = NULL;
    size_t full = 0;
    /* Allocate until SLABS slabs are full (the first one may have been
     * partly used before: skip to a fresh slab boundary). */
    while (full < SLABS * PER_SLAB) {
        void *p = tide_malloc(BS);
        blocks[nblocks++] = p;
        if (!first && slot_of(p) == 0)
            first = pagemap_lookup(p);
        if (first)
            full++;
    }
    size_t kept = 0;
    for (size_t i = 0; i < nblocks; i++) {
        if (keep(blocks[i]) && pagemap_lookup(blocks[i])->capacity == PER_SLAB) {
            kept++;
        } else {
            tide_free(blocks[i]);
            blocks[i] = NULL;
        }
    }
    return kept;
}

static void release_all(void)
{
    for (size_t i = 0; i < nblocks; i++)
        tide_free(blocks[i]);
    nblocks = 0;
}

static bool every_fourth(void *p) { return slot_of(p) % 4 == 0; }

/* Even slabs keep slots 0, 4, 8, ...; odd slabs slots 2, 6, 10, ...: the
 * slabs pair off with no overlap. */
static bool alternate(void *p)
{
    span_t *s = pagemap_lookup(p);
    unsigned slab = (unsigned)(((uintptr_t)s->start >> 16) & 1);
    return slot_of(p) % 4 == (slab ? 2u : 0u);
}

TEST(free_bytes_inside_partly_used_slabs)
{
    int k = class_448();
    CHECK(k >= 0);
    size_t kept = shape(every_fourth);
    CHECK(kept >= SLABS * PER_SLAB / 4 - 1);
    tide_frag_stats_t s;
    tide_frag_cell_t c[64];
    CHECK_EQ(tide_stats_frag(&s, c, 64, TIDE_FRAG_MESH), SC_COUNT);
    /* Every slab of the class is a quarter used: its other blocks are free
     * and pinned (the partly used slab the test started in adds at most one
     * slab's worth). */
    uint64_t want = (uint64_t)(SLABS * PER_SLAB - kept) * BS;
    CHECK_MSG(c[k].free_bytes >= want && c[k].free_bytes <= want + PER_SLAB * BS, "free %llu, want %llu",
              (unsigned long long)c[k].free_bytes, (unsigned long long)want);
    CHECK(c[k].partly_used >= SLABS && c[k].partly_used <= SLABS + 1);
    CHECK(c[k].live_bytes >= kept * BS);
    CHECK(c[k].carved_bytes >= (uint64_t)SLABS * PER_SLAB * BS);
    /* 37 of 146 blocks used: bin 2 (20-30 %). */
    CHECK_MSG(s.bins[2].slabs >= SLABS, "bin 2 holds %llu slabs", (unsigned long long)s.bins[2].slabs);
    CHECK(s.total.free_bytes >= c[k].free_bytes);
    /* The same live slots in every slab: nothing to mesh. */
    CHECK_EQ(c[k].mesh_pairs, 0);
    release_all();
}

TEST(mesh_pairs_slabs_whose_blocks_do_not_overlap)
{
    int k = class_448();
    shape(alternate);
    tide_frag_stats_t s;
    tide_frag_cell_t c[64];
    tide_stats_frag(&s, c, 64, TIDE_FRAG_MESH);
    /* Consecutive 64 KiB slabs alternate: SLABS / 2 pairs, each freeing one
     * slab's 16 carved pages. */
    CHECK_MSG(c[k].mesh_pairs >= SLABS / 2 - 1 && c[k].mesh_pairs <= SLABS / 2 + 1, "pairs %llu",
              (unsigned long long)c[k].mesh_pairs);
    CHECK_EQ(c[k].mesh_bytes, c[k].mesh_pairs * 16 * 4096);
    CHECK(s.total.mesh_bytes >= c[k].mesh_bytes);
    /* Without the flag nothing is paired. */
    tide_stats_frag(&s, c, 64, 0);
    CHECK_EQ(c[k].mesh_bytes, 0);
    release_all();
    /* Every block back: no partly used slab of the class is left. */
    tide_stats_frag(&s, c, 64, TIDE_FRAG_MESH);
    CHECK_MSG(c[k].free_bytes <= PER_SLAB * BS, "after freeing: %llu", (unsigned long long)c[k].free_bytes);
}

TEST(bad_arguments)
{
    CHECK_EQ(tide_stats_frag(NULL, NULL, 0, 0), -1);
    tide_frag_stats_t s;
    CHECK_EQ(tide_stats_frag(&s, NULL, 0, 0), SC_COUNT);
}

/* The in-place estimate (mesh.c): a freed 12 KiB block spans three whole
 * pages; the first keeps its free-list link, the other two could go back.
 * Blocks under a page never free one. */
#define BIG 12288u
TEST(inplace_counts_whole_free_pages_but_the_link_page)
{
    int k = -1, k448 = class_448();
    for (unsigned i = 0; i < SC_COUNT; i++)
        if (sc_block_size[i] == BIG)
            k = (int)i;
    CHECK(k >= 0);
    enum { N = 64 };
    void *big[N];
    for (int i = 0; i < N; i++)
        big[i] = tide_malloc(BIG);
    size_t freed = 0;
    for (int i = 0; i < N; i++) {
        span_t *s = pagemap_lookup(big[i]);
        unsigned slot = (unsigned)(((char *)big[i] - s->start) / BIG);
        /* Odd slots go; slot 0 stays, so every slab stays partly used. */
        if (slot % 2 == 1 && s->capacity > 1) {
            tide_free(big[i]);
            big[i] = NULL;
            freed++;
        }
    }
    CHECK(freed >= N / 4);
    tide_frag_stats_t s;
    tide_frag_cell_t c[SC_COUNT];
    uint64_t inplace[SC_COUNT];
    memset(c, 0, sizeof c);
    memset(&s, 0, sizeof s);
    memset(inplace, 0, sizeof inplace);
    CHECK(mesh_estimate(c, &s.total, inplace));
    CHECK_MSG(inplace[k] == freed * 2 * 4096, "in place %llu, want %llu", (unsigned long long)inplace[k],
              (unsigned long long)(freed * 2 * 4096));
    CHECK_EQ(inplace[k448], 0);
    for (int i = 0; i < N; i++)
        tide_free(big[i]);
}
