/* Bad input: freeing a pointer tidemalloc never returned, or freeing a
 * small block twice in a row, must print one line to stderr naming the
 * call, the pointer and the reason, e.g.
 *     tidemalloc: free(0x7f...): pointer was not allocated by tidemalloc
 * and abort.  Each case runs in a forked child whose stderr is captured;
 * the parent expects SIGABRT and a line that starts with "tidemalloc:",
 * contains "free(" followed by the pointer (parsed numerically) and some
 * reason after it.
 *
 *   bad_free CASE...      run the named cases (default: all)
 *   bad_free --list
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_api.h"

static int report_fd = -1;

/* Tell the parent which pointer is about to be freed. */
static void announce(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    if (write(report_fd, &v, sizeof v) != (ssize_t)sizeof v)
        _exit(90);
}

static char global_array[256];

static void case_stack(void)
{
    char local[64];
    memset(local, 1, sizeof local);
    void *p = opaque_ptr(local + 16);
    announce(p);
    free(p);
}

static void case_global(void)
{
    void *p = opaque_ptr(global_array + 32);
    announce(p);
    free(p);
}

static void case_mmap(void)
{
    void *p = mmap(NULL, 1u << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(91);
    announce(p);
    free(p);
}

static void case_mmap_interior(void)
{
    char *p = mmap(NULL, 1u << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        _exit(91);
    announce(p + 4096 + 48);
    free(p + 4096 + 48);
}

static void case_large_interior_page(void)
{
    char *p = malloc(opaque_size(1u << 20));
    if (p == NULL)
        _exit(92);
    memset(p, 0, 1u << 20);
    char *q = opaque_ptr(p + (256u << 10)); /* page aligned, inside the block */
    announce(q);
    free(q);
}

static void case_large_interior_odd(void)
{
    char *p = malloc(opaque_size(300000));
    if (p == NULL)
        _exit(92);
    char *q = opaque_ptr(p + 100016);
    announce(q);
    free(q);
}

static void case_huge_interior(void)
{
    char *p = malloc(opaque_size(64u << 20));
    if (p == NULL)
        _exit(92);
    char *q = opaque_ptr(p + (32u << 20));
    announce(q);
    free(q);
}

static void case_small_interior(void)
{
    char *p = malloc(opaque_size(64));
    if (p == NULL)
        _exit(92);
    char *q = opaque_ptr(p + 16);
    announce(q);
    free(q);
}

static void case_double_free_small(void)
{
    /* The block most recently freed into its slab, freed again at once. */
    void *p = malloc(opaque_size(48));
    if (p == NULL)
        _exit(92);
    memset(p, 1, 48);
    free(p);
    p = opaque_ptr(p);
    announce(p);
    free(p);
}

static void case_double_free_tiny(void)
{
    void *keep = malloc(opaque_size(8));
    void *p = malloc(opaque_size(8));
    if (p == NULL || keep == NULL)
        _exit(92);
    free(p);
    p = opaque_ptr(p);
    announce(p);
    free(p);
}

static void case_double_free_after_others(void)
{
    /* Other size classes freed in between: the slab of p still has p as
     * its most recently freed block. */
    void *p = malloc(opaque_size(200));
    void *a = malloc(opaque_size(5000));
    void *b = malloc(opaque_size(20));
    if (p == NULL || a == NULL || b == NULL)
        _exit(92);
    free(p);
    free(a);
    free(b);
    p = opaque_ptr(p);
    announce(p);
    free(p);
}

#if defined(TIDE_TEST_PREFIXED)
#undef malloc
#undef free
static void case_glibc_heap(void)
{
    /* A block from the C library's malloc (not tidemalloc's). */
    void *p = malloc(100);
    if (p == NULL)
        _exit(92);
    announce(p);
    tide_free(p);
}
#define malloc tide_malloc
#define free tide_free
#endif

struct bad_case {
    const char *name;
    void (*fn)(void);
};

static const struct bad_case cases[] = {
    {"stack", case_stack},
    {"global", case_global},
    {"mmap", case_mmap},
    {"mmap-interior", case_mmap_interior},
    {"large-interior-page", case_large_interior_page},
    {"large-interior-odd", case_large_interior_odd},
    {"huge-interior", case_huge_interior},
    {"small-interior", case_small_interior},
    {"double-free", case_double_free_small},
    {"double-free-tiny", case_double_free_tiny},
    {"double-free-after-others", case_double_free_after_others},
#if defined(TIDE_TEST_PREFIXED)
    {"glibc-heap", case_glibc_heap},
#endif
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* Returns 0 if the case behaved. */
static int run_case(const struct bad_case *c)
{
    int errp[2], repp[2];
    if (pipe(errp) != 0 || pipe(repp) != 0) {
        perror("pipe");
        return 1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        close(errp[0]);
        close(repp[0]);
        dup2(errp[1], 2);
        close(errp[1]);
        report_fd = repp[1];
        alarm(20);
        c->fn();
        /* Still alive: the bad free went unnoticed. */
        static const char msg[] = "(child survived the bad free)\n";
        if (write(2, msg, sizeof msg - 1) < 0) {
        }
        _exit(0);
    }
    close(errp[1]);
    close(repp[1]);
    uintptr_t ptr = 0;
    int have_ptr = read_until_eof(repp[0], &ptr, sizeof ptr) == sizeof ptr;
    close(repp[0]);
    static char err[65536];
    size_t n = read_until_eof(errp[0], err, sizeof err - 1);
    close(errp[0]);
    err[n] = '\0';
    int st = 0;
    waitpid(pid, &st, 0);

    int bad = 0;
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT)) {
        if (WIFSIGNALED(st))
            fprintf(stderr, "  %s: child killed by signal %d (%s), expected SIGABRT\n", c->name,
                    WTERMSIG(st), strsignal(WTERMSIG(st)));
        else
            fprintf(stderr, "  %s: child exited with status %d, expected SIGABRT\n", c->name,
                    WEXITSTATUS(st));
        bad = 1;
    }
    if (!have_ptr) {
        fprintf(stderr, "  %s: child never reached the bad free\n", c->name);
        bad = 1;
    }
    /* Find the line. */
    const char *line = NULL;
    for (const char *s = err; s && *s; ) {
        if (strncmp(s, "tidemalloc:", 11) == 0) {
            line = s;
            break;
        }
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    if (line == NULL) {
        fprintf(stderr, "  %s: no stderr line starting with \"tidemalloc:\"\n", c->name);
        bad = 1;
    } else {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char one[1024];
        snprintf(one, sizeof one, "%.*s", (int)(len < 1000 ? len : 1000), line);
        const char *call = strstr(one, "free(");
        if (call == NULL) {
            fprintf(stderr, "  %s: message does not name the call free(...): %s\n", c->name, one);
            bad = 1;
        } else {
            char *end = NULL;
            unsigned long long v = strtoull(call + 5, &end, 16);
            if (strncmp(call + 5, "0x", 2) != 0 || end == call + 5) {
                fprintf(stderr, "  %s: no 0x pointer after free(: %s\n", c->name, one);
                bad = 1;
            } else if (have_ptr && v != (unsigned long long)ptr) {
                fprintf(stderr, "  %s: message names %#llx, the freed pointer was %#llx: %s\n",
                        c->name, v, (unsigned long long)ptr, one);
                bad = 1;
            }
            const char *close_paren = end ? strchr(end, ')') : NULL;
            const char *reason = close_paren ? close_paren + 1 : "";
            while (*reason == ':' || *reason == ' ')
                reason++;
            if (*reason == '\0') {
                fprintf(stderr, "  %s: message gives no reason: %s\n", c->name, one);
                bad = 1;
            }
        }
        printf("  %s: %s\n", c->name, one);
    }
    if (bad && n > 0)
        fprintf(stderr, "  %s: child's stderr was:\n%s\n", c->name, err);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < N_CASES; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    int failed = 0, passed = 0;
    for (size_t i = 0; i < N_CASES; i++) {
        int want = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], cases[i].name) == 0)
                want = 1;
        if (!want)
            continue;
        if (run_case(&cases[i])) {
            printf("[ FAIL ] %s\n", cases[i].name);
            failed++;
        } else {
            printf("[   OK ] %s\n", cases[i].name);
            passed++;
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    if (passed + failed == 0) {
        fprintf(stderr, "no such case\n");
        return 2;
    }
    return failed ? 1 : 0;
}
