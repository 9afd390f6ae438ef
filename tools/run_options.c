/* run_options — what `tide run`'s command line asks for, and its usage.
 *
 * Owns the option syntax only: nothing here looks at the system (whether an
 * allocator is installed, whether --out is writable), so every such error
 * is reported where the thing is used, in the order cmd_run meets them.
 * Invariant: when run_parse_options returns RUN_OPTIONS_OK every field is
 * set and, unless listing the allocators, cmd holds at least one word. */
#include "run.h"

#include <string.h>

static void run_usage(FILE *f)
{
    fputs("usage: tide run [options] [--] COMMAND [ARGS...]\n"
          "\n"
          "Runs COMMAND with the chosen allocator and samples it, with its child\n"
          "processes, every interval: RSS, anonymous and LazyFree memory, and the\n"
          "allocator's own figures (live bytes, free bytes it holds).\n"
          "\n"
          "options:\n"
          "  -a, --allocator A    ",
          f);
    /* The names come from the allocator table, so help never lists one
     * that --allocator would refuse. */
    allocator_names(f, " (default)");
    fputs(",\n"
          "                       none (no preload, no statistics) or PATH.so\n"
          "  -i, --interval-ms N  sample every N ms (default 100)\n"
          "  -o, --out DIR        write DIR/timeline.csv, DIR/summary.txt and\n"
          "                       DIR/report.html (default ./tide-run)\n"
          "  -q, --quiet          print no summary at the end\n"
          "      --prof           (tidemalloc) heap profiles into DIR/prof: who pins\n"
          "                       the free space, the top sites' live bytes over time\n"
          "                       (also when TIDE_CONF has prof:true)\n"
          "  -h, --help           this text\n"
          "\n"
          "Exit status: COMMAND's; 128+N if it was killed by signal N; 127 if it was\n"
          "not found, 126 if it could not be executed; 125 if tide itself failed.\n"
          "A program may report its own live bytes by writing lines\n"
          "'app-stats pid=PID live=BYTES' to the fd in $TIDE_STATS_FD.\n",
          f);
}

enum valued_option { OPT_NONE, OPT_ALLOCATOR, OPT_INTERVAL, OPT_OUT };

/* Which option takes a value: arg up to its '=' (long options only). */
static enum valued_option valued_option(const char *arg, const char **inline_value)
{
    size_t optlen = strlen(arg);
    const char *eq = strncmp(arg, "--", 2) == 0 ? strchr(arg, '=') : NULL;
    *inline_value = NULL;
    if (eq) {
        optlen = (size_t)(eq - arg);
        *inline_value = eq + 1;
    }
#define IS(s) (optlen == strlen(s) && strncmp(arg, s, optlen) == 0)
    if (IS("-a") || IS("--allocator"))
        return OPT_ALLOCATOR;
    if (IS("-i") || IS("--interval-ms"))
        return OPT_INTERVAL;
    if (IS("-o") || IS("--out"))
        return OPT_OUT;
#undef IS
    return OPT_NONE;
}

static int set_option(run_options_t *o, enum valued_option opt, const char *val)
{
    if (opt == OPT_ALLOCATOR) {
        o->alloc_name = val;
    } else if (opt == OPT_OUT) {
        o->out = val;
    } else if (!parse_u64(val, strlen(val), &o->interval_ms) || o->interval_ms == 0 ||
               o->interval_ms > 3600000) {
        fprintf(stderr, "tide run: --interval-ms wants a whole number of ms from 1 "
                        "to 3600000, not '%s'\n", val);
        return TIDE_EXIT_OWN;
    }
    return RUN_OPTIONS_OK;
}

int run_parse_options(int argc, char **argv, run_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->alloc_name = RUN_DEFAULT_ALLOCATOR;
    o->out = "tide-run";
    o->interval_ms = 100;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (arg[0] != '-' || arg[1] == '\0')
            break;
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            run_usage(stdout);
            return 0;
        }
        if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
            o->quiet = true;
            continue;
        }
        if (strcmp(arg, "--prof") == 0) {
            o->prof = true;
            continue;
        }
        /* Not in the usage: for the test that holds tide and bench/ to the
         * same allocator table. */
        if (strcmp(arg, "--list-allocators") == 0) {
            o->list_allocators = true;
            return RUN_OPTIONS_OK;
        }
        const char *val;
        enum valued_option opt = valued_option(arg, &val);
        if (opt == OPT_NONE) {
            fprintf(stderr, "tide run: unknown option '%s'\n\n", arg);
            run_usage(stderr);
            return TIDE_EXIT_OWN;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "tide run: %s needs a value\n", arg);
                return TIDE_EXIT_OWN;
            }
            val = argv[++i];
        }
        int rc = set_option(o, opt, val);
        if (rc != RUN_OPTIONS_OK)
            return rc;
    }
    if (i >= argc) {
        fputs("tide run: no command given\n\n", stderr);
        run_usage(stderr);
        return TIDE_EXIT_OWN;
    }
    o->cmd = argv + i;
    return RUN_OPTIONS_OK;
}
