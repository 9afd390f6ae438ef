/* mitigations — every mitigation the hardened build applies, by name, with
 * its switch and the level that applies it (in the spirit of snmalloc's
 * mitigations list; docs/SECURITY.md has what each catches and costs).
 *
 * Two levels, two libraries built from the same sources:
 *   TIDE_SECURE_LEVEL 1  production, libtidemalloc-secure.so: the
 *       deterministic checks on every call, the expensive ones sampled;
 *   TIDE_SECURE_LEVEL 2  full, libtidemalloc-secure-full.so: every check
 *       on every call, for debugging.
 * A level is a build, not a TIDE_CONF option, so that the production fast
 * paths carry no test of the level and the full level's checks cost the
 * production library nothing.
 *
 * TIDE_MITIGATIONS(X) calls X(id, name, switch, on) once per mitigation:
 *   id      the short name MITIGATION_ON(id) takes;
 *   name    what docs/SECURITY.md calls it;
 *   switch  the macro that turns it off (-Dswitch=0), or a TIDE_CONF
 *           option where the name says so;
 *   on      1 when it is applied (a constant: code written as
 *           `if (MITIGATION_ON(id))` is dropped by the compiler when off).
 *
 * Only the canary and random slot order can be turned off at compile time
 * (for measuring what they cost, never shipped); the guarded slots at run
 * time (secure_sample:0). The others have no off path, so defining their
 * switch is an error rather than a silent no-op.
 *
 *   encoded_links   secure_list.h (the key: secure_init.c)
 *   shuffle         shuffle.c
 *   slab_guard      secure_slab.c (faults reported by fault.c)
 *   large_guard     secure_large.c (faults reported by fault.c)
 *   block_state     secure_slab.c (the arrays), checks.c, secure_fast.h
 *   canary          secure.h (fill, check, sampling), checks.c, secure_fast.h
 *   sampled         guarded.c (TIDE_CONF secure_sample, secure_slots)
 *   kept_decay      secure_slab.c, secure_large.c (secure_decay.c: the policy)
 *   guard_all       guarded.c: full level, every block of at most a page
 *   zero_size       guarded.c: full level, malloc(0) points at a guard page
 *   large_quarantine secure_large.c: full level
 *   large_head_guard secure_large.c (faults: fault.c): full level
 *   zero_on_free    checks.c, guarded.c: full level
 *   exit_check      guarded.c: full level
 */
#ifndef TIDE_MITIGATIONS_H
#define TIDE_MITIGATIONS_H

#ifndef TIDE_SECURE_LEVEL
#define TIDE_SECURE_LEVEL 1
#endif
#if TIDE_SECURE_LEVEL != 1 && TIDE_SECURE_LEVEL != 2
#error "TIDE_SECURE_LEVEL is 1 (production) or 2 (full)"
#endif
#define SECURE_FULL (TIDE_SECURE_LEVEL == 2)

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
    defined(TIDE_MITIGATION_SAMPLED) || defined(TIDE_MITIGATION_KEPT_DECAY)
#error "only TIDE_MITIGATION_CANARY and TIDE_MITIGATION_SHUFFLE can be switched (mitigations.h)"
#endif
#if defined(TIDE_SECURE_NO_CANARY) || defined(TIDE_SECURE_NO_SHUFFLE)
#error "renamed: -DTIDE_MITIGATION_CANARY=0, -DTIDE_MITIGATION_SHUFFLE=0 (mitigations.h)"
#endif

/* The slack canary is filled in one allocation in SECURE_CANARY_SAMPLE
 * (per thread, counted by the guarded pool's countdown) and checked when
 * that block is freed: 1 at the full level. A power of two. Production's
 * rate is the budget's (docs/SECURITY.md, "Cost"): an overflow into the
 * slack of a block is caught with probability 1 / SECURE_CANARY_SAMPLE. */
#ifndef SECURE_CANARY_SAMPLE
#define SECURE_CANARY_SAMPLE (SECURE_FULL ? 1 : 16)
#endif
#if SECURE_CANARY_SAMPLE < 1 || (SECURE_CANARY_SAMPLE & (SECURE_CANARY_SAMPLE - 1)) != 0
#error "SECURE_CANARY_SAMPLE is a power of two"
#endif

#define TIDE_MITIGATIONS(X)                                                                        \
    X(encoded_links, "encoded free-list links", TIDE_MITIGATION_ENCODED_LINKS, 1)                   \
    X(shuffle, "random slot order", TIDE_MITIGATION_SHUFFLE, TIDE_MITIGATION_SHUFFLE)               \
    X(slab_guard, "slab guard pages", TIDE_MITIGATION_SLAB_GUARD, 1)                                \
    X(large_guard, "large-block guard pages", TIDE_MITIGATION_LARGE_GUARD, 1)                       \
    X(block_state, "per-block state (exact double/invalid free, sized-free checks)",                \
      TIDE_MITIGATION_BLOCK_STATE, 1)                                                               \
    X(canary, "slack canary (sampled: SECURE_CANARY_SAMPLE)", TIDE_MITIGATION_CANARY,               \
      TIDE_MITIGATION_CANARY)                                                                       \
    X(sampled, "sampled guarded slots (GWP-style; TIDE_CONF secure_sample)", TIDE_MITIGATION_SAMPLED, 1) \
    X(kept_decay, "kept guarded memory under the decay policy", TIDE_MITIGATION_KEPT_DECAY, 1)      \
    X(guard_all, "every block of at most a page in a guarded slot (full)", TIDE_SECURE_LEVEL,       \
      SECURE_FULL)                                                                                  \
    X(zero_size, "malloc(0) points at a guard page (full)", TIDE_SECURE_LEVEL, SECURE_FULL)         \
    X(large_quarantine, "freed large runs inaccessible until reused (full)", TIDE_SECURE_LEVEL,     \
      SECURE_FULL)                                                                                  \
    X(large_head_guard, "a guard page before each large block (full)", TIDE_SECURE_LEVEL, SECURE_FULL) \
    X(zero_on_free, "freed blocks cleared (full)", TIDE_SECURE_LEVEL, SECURE_FULL)                  \
    X(exit_check, "live guarded blocks' slack checked at exit (full)", TIDE_SECURE_LEVEL, SECURE_FULL)

enum {
#define TIDE_MITIGATION_ENUM(id, name, sw, on) MITIGATION_ON_##id = (on),
    TIDE_MITIGATIONS(TIDE_MITIGATION_ENUM)
#undef TIDE_MITIGATION_ENUM
};

/* 1 if mitigation id is applied in this build, as a constant expression. */
#define MITIGATION_ON(id) (MITIGATION_ON_##id)

#endif
