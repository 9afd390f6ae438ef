/* tidemalloc tests — main() for binaries made of TEST() cases. */
#include "runner.h"
#include "check.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static struct test_case *head, **tail = &head;

void test_register(struct test_case *tc)
{
    tc->next = NULL;
    *tail = tc;
    tail = &tc->next;
}

static int selected(const char *name, int argc, char **argv)
{
    if (argc <= 1)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (struct test_case *tc = head; tc; tc = tc->next)
            printf("%s\n", tc->name);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        int found = 0;
        for (struct test_case *tc = head; tc; tc = tc->next)
            if (strcmp(tc->name, argv[i]) == 0)
                found = 1;
        if (!found) {
            fprintf(stderr, "no such test case: %s\n", argv[i]);
            return 2;
        }
    }

    int passed = 0, failed = 0;
    static jmp_buf env;
    check_recover_thread = pthread_self();
    for (struct test_case *volatile tc = head; tc; tc = tc->next) {
        if (!selected(tc->name, argc, argv))
            continue;
        printf("[ RUN  ] %s\n", tc->name);
        fflush(stdout);
        double t0 = now_ms();
        int before = check_failures;
        if (setjmp(env) == 0) {
            check_recover = &env;
            tc->fn();
        }
        check_recover = NULL;
        double t1 = now_ms();
        if (check_failures != before) {
            failed++;
            printf("[ FAIL ] %s (%.0f ms)\n", tc->name, t1 - t0);
        } else {
            passed++;
            printf("[   OK ] %s (%.0f ms)\n", tc->name, t1 - t0);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed\n", passed, failed);
    fflush(stdout);
    if (passed + failed == 0) {
        fprintf(stderr, "no test case ran\n");
        return 2;
    }
    return failed ? 1 : 0;
}
