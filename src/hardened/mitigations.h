/* mitigations — every mitigation the hardened build applies, by name, with
 * its compile-time switch (in the spirit of snmalloc's mitigations list).
 *
 * TIDE_MITIGATIONS(X) calls X(id, name, switch, on) once per mitigation:
 *   id      the short name MITIGATION_ON(id) takes;
 *   name    what docs/SECURITY.md calls it;
 *   switch  the macro that turns it off (-Dswitch=0);
 *   on      1 when it is applied (a constant: code written as
 *           `if (MITIGATION_ON(id))` is dropped by the compiler when off).
 *
 * All are on in the hardened build. Only the slack canary and random slot
 * order can be turned off: they are the ones docs/SECURITY.md ("Cost")
 * measures, and a build without them is for measuring only, never shipped.
 * The others are not switchable yet: their code has no off path, so
 * defining their switch is an error rather than a silent no-op.
 *
 *   encoded_links  secure_list.h (the key: init.c)
 *   shuffle        shuffle.c
 *   slab_guard     slab.c (faults reported by fault.c)
 *   large_guard    large.c (faults reported by fault.c)
 *   block_state    slab.c (the arrays), checks.c and secure_fast.h (the checks)
 *   canary         secure.h (fill and check), checks.c, secure_fast.h; the
 *                  guarded pool's own gap check (guarded.c) ignores the switch
 *   sampled        guarded.c (at run time: TIDE_CONF=secure_sample:0)
 */
#ifndef TIDE_MITIGATIONS_H
#define TIDE_MITIGATIONS_H

#ifndef TIDE_MITIGATION_CANARY
#define TIDE_MITIGATION_CANARY 1
#endif
#ifndef TIDE_MITIGATION_SHUFFLE
#define TIDE_MITIGATION_SHUFFLE 1
#endif
#if (TIDE_MITIGATION_CANARY != 0 && TIDE_MITIGATION_CANARY != 1) || \
    (TIDE_MITIGATION_SHUFFLE != 0 && TIDE_MITIGATION_SHUFFLE != 1)
#error "a mitigation switch is 0 (off) or 1 (on)"
#endif
#if defined(TIDE_MITIGATION_ENCODED_LINKS) || defined(TIDE_MITIGATION_SLAB_GUARD) || \
    defined(TIDE_MITIGATION_LARGE_GUARD) || defined(TIDE_MITIGATION_BLOCK_STATE) ||  \
    defined(TIDE_MITIGATION_SAMPLED)
#error "only TIDE_MITIGATION_CANARY and TIDE_MITIGATION_SHUFFLE can be switched (mitigations.h)"
#endif
#if defined(TIDE_SECURE_NO_CANARY) || defined(TIDE_SECURE_NO_SHUFFLE)
#error "renamed: -DTIDE_MITIGATION_CANARY=0, -DTIDE_MITIGATION_SHUFFLE=0 (mitigations.h)"
#endif

#define TIDE_MITIGATIONS(X)                                                                        \
    X(encoded_links, "encoded free-list links", TIDE_MITIGATION_ENCODED_LINKS, 1)                   \
    X(shuffle, "random slot order", TIDE_MITIGATION_SHUFFLE, TIDE_MITIGATION_SHUFFLE)               \
    X(slab_guard, "slab guard pages", TIDE_MITIGATION_SLAB_GUARD, 1)                                \
    X(large_guard, "large-block guard pages", TIDE_MITIGATION_LARGE_GUARD, 1)                       \
    X(block_state, "per-block state (exact double/invalid free, sized-free checks)",                \
      TIDE_MITIGATION_BLOCK_STATE, 1)                                                               \
    X(canary, "slack canary", TIDE_MITIGATION_CANARY, TIDE_MITIGATION_CANARY)                       \
    X(sampled, "sampled guarded slots (GWP-style)", TIDE_MITIGATION_SAMPLED, 1)

enum {
#define TIDE_MITIGATION_ENUM(id, name, sw, on) MITIGATION_ON_##id = (on),
    TIDE_MITIGATIONS(TIDE_MITIGATION_ENUM)
#undef TIDE_MITIGATION_ENUM
};

/* 1 if mitigation id is applied in this build, as a constant expression. */
#define MITIGATION_ON(id) (MITIGATION_ON_##id)

#endif
