/* The TIDE_DEBUG build's validators fire: a slab whose count no longer
 * matches its free lists, and a free list that leaves its slab, each stop
 * the program with the invariant named (core/debug.h). Built and run only
 * in the debug build (-DTIDE_DEBUG=ON). */
#include "runner.h"
#include "check.h"
#include "core/pagemap.h"
#include "tidemalloc.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run corrupt() then allocate until the slow path runs the validator, in a
 * child; expect SIGABRT with `want` on its stderr. */
static void expect_invariant(void (*corrupt)(void), const char *want)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        corrupt();
        for (int i = 0; i < 100000; i++)
            if (!tide_malloc(48))
                break;
        _exit(0);
    }
    close(fds[1]);
    char err[4096];
    size_t n = 0;
    ssize_t k;
    while (n < sizeof err - 1 && (k = read(fds[0], err + n, sizeof err - 1 - n)) > 0)
        n += (size_t)k;
    err[n] = 0;
    close(fds[0]);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
    CHECK(strstr(err, "tidemalloc: invariant broken at ") != NULL);
    CHECK(strstr(err, want) != NULL);
}

static void miscount_used(void)
{
    void *p = tide_malloc(48);
    pagemap_lookup(p)->used++;
}

static void link_outside_the_slab(void)
{
    void *p = tide_malloc(48), *q = tide_malloc(48);
    static char elsewhere[64] __attribute__((aligned(16)));
    tide_free(q);
    tide_free(p); /* p heads the local list, q follows */
    ((block_t *)p)->next = (block_t *)elsewhere;
}

TEST(a_miscounted_slab_is_caught)
{
    expect_invariant(miscount_used, "used + free blocks = carved blocks");
}

TEST(a_free_list_leaving_its_slab_is_caught)
{
    expect_invariant(link_outside_the_slab, "a free-list block is a carved block start of its slab");
}
