/* tidemalloc tests — a minimal test-case registry and runner.
 *
 *   TEST(name) { ... CHECK(...); ... }
 *
 * registers a case (before main, without allocating).  runner.c provides
 * main(): with no arguments it runs every registered case, otherwise only
 * the named ones; "--list" prints the names.  It prints one line per case
 * and a closing "N passed, N failed" line, and exits nonzero if any case
 * failed.
 */
#ifndef TIDE_TEST_RUNNER_H
#define TIDE_TEST_RUNNER_H

#include <pthread.h>
#include <setjmp.h>

#ifdef __cplusplus
extern "C" {
#endif

struct test_case {
    const char *name;
    const char *file;
    void (*fn)(void);
    struct test_case *next;
};

void test_register(struct test_case *tc);

/* Used by check.c to recover from a failed CHECK inside a test case. */
extern jmp_buf *volatile check_recover;
extern pthread_t check_recover_thread;

#ifdef __cplusplus
}
#endif

#define TEST(name)                                                           \
    static void test_fn_##name(void);                                        \
    static struct test_case test_case_##name = {#name, __FILE__,             \
                                                test_fn_##name, 0};          \
    __attribute__((constructor)) static void test_reg_##name(void)           \
    {                                                                        \
        test_register(&test_case_##name);                                    \
    }                                                                        \
    static void test_fn_##name(void)

#endif
