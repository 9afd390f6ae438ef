/* fork() from a signal handler while the program allocates: a timer signal
 * forks thousands of times, interrupting malloc and free wherever they are
 * (inside the page heap's lock, in the middle of a slab update). Every
 * child allocates and frees blocks of mixed sizes and exits 0; the parent
 * carries on; another thread keeps allocating through it all (--threads).
 * A watchdog fails the test if no fork completes for 20 seconds: a
 * deadlock. glibc passes this only single-threaded (tst-mallocfork2 is its
 * test: it skips its malloc locks at fork when no other thread exists), so
 * its reference run is --threads=0 --watchdog=0 --child=exit (the test's
 * own timeout stands in for the watchdog; glibc's children, like
 * tst-mallocfork2's, only exit: one that allocates can find the heap the
 * handler interrupted half updated). Usage: fork_in_signal [--forks=N]
 * [--threads=N] [--watchdog=0]. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_long forks_done, child_failures;
static atomic_bool stop;
static bool child_allocates = true;
/* One fork per round of the main loop at most: a fork slower than the timer
 * would otherwise chain handlers and starve the loop (glibc's test stops
 * its signal sender for the same reason). */
static volatile sig_atomic_t armed = 1;

static void child_work(void)
{
    static const size_t sizes[] = { 8, 24, 100, 512, 2000, 9000, 20000, 70000, 300000, 5u << 20 };
    void *p[sizeof sizes / sizeof sizes[0]];
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            p[i] = malloc(sizes[i]);
            if (!p[i])
                _exit(2);
            memset(p[i], (int)i, sizes[i] < 4096 ? sizes[i] : 4096);
        }
        void *q = realloc(p[2], 5000);
        if (!q)
            _exit(3);
        p[2] = q;
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            free(p[i]);
    }
    _exit(0);
}

static void on_timer(int sig)
{
    (void)sig;
    if (!armed)
        return;
    armed = 0;
    int saved = errno;
    pid_t pid = fork();
    if (pid == 0) {
        if (child_allocates)
            child_work();
        _exit(0);
    }
    if (pid > 0) {
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            atomic_fetch_add(&child_failures, 1);
        atomic_fetch_add(&forks_done, 1);
    }
    errno = saved;
}

static void block_timer(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
}

static void *other_thread(void *arg)
{
    (void)arg;
    block_timer();
    void *slots[257] = { 0 };
    unsigned seed = 99;
    while (!atomic_load(&stop)) {
        unsigned i = (unsigned)rand_r(&seed) % 257;
        free(slots[i]);
        size_t size = (size_t)rand_r(&seed) % (rand_r(&seed) % 8 ? 2048 : 200000);
        slots[i] = malloc(size);
        if (slots[i] && size)
            ((char *)slots[i])[0] = 1;
    }
    for (unsigned i = 0; i < 257; i++)
        free(slots[i]);
    return NULL;
}

static void *watchdog(void *arg)
{
    (void)arg;
    block_timer();
    long last = -1;
    int still = 0;
    while (!atomic_load(&stop)) {
        sleep(1);
        long now = atomic_load(&forks_done);
        still = now == last ? still + 1 : 0;
        last = now;
        if (still >= 20) {
            fprintf(stderr, "FAIL: no fork completed for 20 s after %ld forks: deadlock\n", now);
            fflush(stderr);
            _exit(3);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long target = 3000;
    int threads = 1;
    bool with_watchdog = true;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--forks=", 8) == 0)
            target = atol(argv[i] + 8);
        else if (strncmp(argv[i], "--threads=", 10) == 0)
            threads = atoi(argv[i] + 10);
        else if (strcmp(argv[i], "--child=exit") == 0)
            child_allocates = false;
        else if (strcmp(argv[i], "--watchdog=0") == 0)
            with_watchdog = false;
    }
    pthread_t dog, others[8];
    if (with_watchdog)
        pthread_create(&dog, NULL, watchdog, NULL);
    for (int t = 0; t < threads && t < 8; t++)
        pthread_create(&others[t], NULL, other_thread, NULL);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_timer;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
    setitimer(ITIMER_REAL, &it, NULL);

    enum { SLOTS = 1009 };
    static void *objects[SLOTS];
    unsigned seed = 1;
    long ops = 0;
    while (atomic_load(&forks_done) < target) {
        armed = 1;
        int slot = rand_r(&seed) % SLOTS;
        size_t size = (size_t)rand_r(&seed) % (rand_r(&seed) % 16 ? 70000 : 3u << 20);
        free(objects[slot]);
        objects[slot] = malloc(size);
        if (!objects[slot] && size) {
            fprintf(stderr, "FAIL: malloc(%zu) failed in the parent\n", size);
            return 1;
        }
        if (size)
            memset(objects[slot], 7, size < 256 ? size : 256);
        ops++;
    }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    atomic_store(&stop, true);
    for (int t = 0; t < threads && t < 8; t++)
        pthread_join(others[t], NULL);
    if (with_watchdog)
        pthread_join(dog, NULL);
    for (int i = 0; i < SLOTS; i++)
        free(objects[i]);
    long failed = atomic_load(&child_failures);
    printf("fork_in_signal: %ld forks from the signal handler, %ld parent operations, %d other threads, "
           "%ld children failed\n", atomic_load(&forks_done), ops, threads, failed);
    printf("%d passed, %d failed\n", failed == 0, failed != 0);
    return failed != 0;
}
