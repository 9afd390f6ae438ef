/* tidemalloc tests — expect_misuse (expect_misuse.h). */
#include "expect_misuse.h"

#include "check.h"
#include "runner.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

void expect_misuse(void (*fn)(void *arg), void *arg, const char *call, const void *ptr,
                   const char *reason)
{
    int err_pipe[2];
    CHECK(pipe(err_pipe) == 0);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The runner's recovery point belongs to the parent: a CHECK that
         * fails here must end this process (check.h). */
        check_recover = NULL;
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        close(err_pipe[0]);
        dup2(err_pipe[1], 2);
        close(err_pipe[1]);
        alarm(20);
        fn(arg);
        static const char survived[] = "(child survived the misuse)\n";
        if (write(2, survived, sizeof survived - 1) < 0) {
        }
        _exit(0);
    }
    close(err_pipe[1]);
    static char err[16384];
    size_t n = read_until_eof(err_pipe[0], err, sizeof err - 1);
    close(err_pipe[0]);
    err[n] = '\0';
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);

    char want[512];
    snprintf(want, sizeof want, "tidemalloc: %s(0x%lx): %s\n", call, (unsigned long)(uintptr_t)ptr,
             reason);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "child %s %d, expected SIGABRT; its stderr: %s",
              WIFSIGNALED(status) ? "killed by signal" : "exited with status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), err);
    /* The line, whole: at the start of stderr or of a line of it. */
    const char *at = strstr(err, want);
    CHECK_MSG(at != NULL && (at == err || at[-1] == '\n'), "expected the line \"%.*s\"; stderr was: %s",
              (int)strlen(want) - 1, want, err);
}
