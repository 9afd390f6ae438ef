/* run tree — finds the lowest run of n free pages in a region in O(log n).
 *
 * A segment tree over the free bitmap's 64-bit words. Each node summarises
 * its stretch of pages: the free run touching its start (pre), the one
 * touching its end (suf) and the longest inside it (max). The first fit
 * for n pages goes left while the left half alone has a long enough run,
 * takes the run straddling the middle if that is long enough, and goes right
 * otherwise — so the answer is the lowest-addressed run, as a linear scan
 * would find, without walking every hole below it.
 */
#ifndef TIDE_RUN_TREE_H
#define TIDE_RUN_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

#define RT_WORDS 256 /* leaves: one per bitmap word (64 pages) */

typedef struct rt_node {
    uint16_t pre, suf, max;
} rt_node_t;

typedef struct run_tree {
    rt_node_t node[2 * RT_WORDS]; /* node[1] is the root; leaves from RT_WORDS */
} run_tree_t;

static inline rt_node_t rt_leaf(uint64_t w)
{
    if (w == ~(uint64_t)0)
        return (rt_node_t){ 64, 64, 64 };
    if (w == 0)
        return (rt_node_t){ 0, 0, 0 };
    rt_node_t n;
    n.pre = (uint16_t)__builtin_ctzll(~w);
    n.suf = (uint16_t)__builtin_clzll(~w);
    /* Longest run by binary lifting: p[k] marks the starts of runs of at
     * least 2^k; extend the best length found greedily from the top. */
    uint64_t p[6];
    p[0] = w;
    for (int k = 1; k < 6; k++)
        p[k] = p[k - 1] & (p[k - 1] >> (1u << (k - 1)));
    unsigned m = 0;
    uint64_t cur = ~(uint64_t)0;
    for (int k = 5; k >= 0; k--) {
        uint64_t t = cur & (p[k] >> m);
        if (t) {
            cur = t;
            m += 1u << k;
        }
    }
    n.max = (uint16_t)m;
    return n;
}

static inline rt_node_t rt_join(rt_node_t l, rt_node_t r, unsigned half)
{
    rt_node_t n;
    n.pre = (uint16_t)(l.pre == half ? half + r.pre : l.pre);
    n.suf = (uint16_t)(r.suf == half ? half + l.suf : r.suf);
    unsigned m = l.max > r.max ? l.max : r.max;
    unsigned mid = (unsigned)l.suf + r.pre;
    n.max = (uint16_t)(m > mid ? m : mid);
    return n;
}

/* Recompute the summaries over bitmap pages [a, b). */
static inline void rt_update(run_tree_t *t, const uint64_t *bits, size_t a, size_t b)
{
    if (a >= b)
        return;
    size_t lo = (a >> 6) + RT_WORDS, hi = ((b - 1) >> 6) + RT_WORDS;
    for (size_t i = lo; i <= hi; i++)
        t->node[i] = rt_leaf(bits[i - RT_WORDS]);
    unsigned half = 64;
    while (lo > 1) {
        lo >>= 1;
        hi >>= 1;
        bool changed = false;
        for (size_t i = lo; i <= hi; i++) {
            rt_node_t n = rt_join(t->node[2 * i], t->node[2 * i + 1], half);
            changed |= n.pre != t->node[i].pre || n.suf != t->node[i].suf || n.max != t->node[i].max;
            t->node[i] = n;
        }
        if (!changed && lo == hi)
            break; /* ancestors summarise the same children as before */
        half <<= 1;
    }
}

static inline size_t rt_longest(const run_tree_t *t)
{
    return t->node[1].max;
}

/* Lowest page index starting n free pages; SIZE_MAX if none. */
static inline size_t rt_first_fit(const run_tree_t *t, const uint64_t *bits, size_t n)
{
    if (n == 0 || t->node[1].max < n)
        return SIZE_MAX;
    size_t i = 1, pos = 0, len = (size_t)RT_WORDS * 64;
    while (i < RT_WORDS) {
        size_t half = len >> 1;
        const rt_node_t *l = &t->node[2 * i], *r = &t->node[2 * i + 1];
        if (l->max >= n) {
            i = 2 * i;
        } else if ((size_t)l->suf + r->pre >= n) {
            return pos + half - l->suf;
        } else {
            i = 2 * i + 1;
            pos += half;
        }
        len = half;
    }
    /* A leaf with a run of n (<= 64) inside it. */
    uint64_t w = bits[i - RT_WORDS], x = w;
    for (size_t k = 1; k < n; k++)
        x &= w >> k;
    return pos + (size_t)__builtin_ctzll(x);
}

#pragma GCC visibility pop

#endif
