/* tidemalloc tests — run a misuse in a forked child and check the report.
 *
 *   expect_misuse(fn, arg, "free", p, "double free (block is already free)");
 *
 * forks; the child (stderr captured, no core file, a 20 s alarm) runs
 * fn(arg), which must not return: the allocator has to print the one line
 *     tidemalloc: <call>(<ptr>): <reason>
 * and abort.  The parent CHECKs that the child died of SIGABRT and that its
 * stderr holds exactly that line (pointer in the allocator's 0x%lx form);
 * on failure the child's stderr is shown.  Works inside a TEST() case: a
 * CHECK failing in the child ends the child, not the parent's runner.
 */
#ifndef TIDE_TEST_EXPECT_MISUSE_H
#define TIDE_TEST_EXPECT_MISUSE_H

void expect_misuse(void (*fn)(void *arg), void *arg, const char *call, const void *ptr,
                   const char *reason);

#endif
