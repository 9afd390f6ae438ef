/* tide — the tidemalloc command-line tool. See tools/README.md. */
#include "tide.h"
#include "prof.h"

#include <string.h>

#include "tidemalloc.h" /* TIDE_VERSION */

static void usage(FILE *f)
{
    fputs("usage: tide COMMAND [ARGS...]\n"
          "\n"
          "commands:\n"
          "  run [options] -- CMD ARGS...   run CMD under an allocator and sample its memory\n"
          "                                 over time; writes timeline.csv and report.html\n"
          "  report [-o FILE] DIR...        combine `tide run` outputs into one HTML report\n"
          "  stats [--json|--prometheus] PID statistics of a running process (TIDE_CONF=stats_socket:true)\n"
          "  top PID                        a live view of a running process (TIDE_CONF=stats_socket:true)\n"
          "  prof top|flame|diff|folded|dump  heap profiles: top sites, flame graph, growth\n"
          "                                 between two dumps, folded stacks, dump a running process\n"
          "  help [COMMAND]                 this text, or a command's\n"
          "  --version                      tide's version (the release it was built from)\n"
          "\n"
          "`tide COMMAND --help` describes each command.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *c = argv[1];
    if (strcmp(c, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(c, "report") == 0)
        return cmd_report(argc - 1, argv + 1);
    if (strcmp(c, "stats") == 0)
        return cmd_stats(argc - 1, argv + 1);
    if (strcmp(c, "top") == 0)
        return cmd_top(argc - 1, argv + 1);
    if (strcmp(c, "prof") == 0)
        return cmd_prof(argc - 1, argv + 1);
    if (strcmp(c, "--version") == 0) {
        printf("tide %s\n", TIDE_VERSION);
        return 0;
    }
    if (strcmp(c, "help") == 0 || strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0) {
        if (argc > 2) {
            char *sub[] = { argv[2], (char *)"--help", NULL };
            if (strcmp(argv[2], "run") == 0)
                return cmd_run(2, sub);
            if (strcmp(argv[2], "report") == 0)
                return cmd_report(2, sub);
            if (strcmp(argv[2], "stats") == 0)
                return cmd_stats(2, sub);
            if (strcmp(argv[2], "top") == 0)
                return cmd_top(2, sub);
            if (strcmp(argv[2], "prof") == 0)
                return cmd_prof(2, sub);
        }
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "tide: unknown command '%s'\n\n", c);
    usage(stderr);
    return 2;
}
