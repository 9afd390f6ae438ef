/* Runs the fuzz target's LLVMFuzzerTestOneInput without libFuzzer: every
 * file named (directories are walked one level) and then a stream of
 * pseudo-random inputs, so the target's checks run in any build.
 *
 *   fuzz_replay [--random=N] [--seed=S] [--max-len=L] [FILE|DIR]...
 *
 * Exit 0 when every input ran (a model violation aborts); the counts are
 * printed.  With no input at all (no file, --random=0) it fails, so a
 * missing corpus cannot pass silently. */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long files_run;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    files_run++;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        exit(1);
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        perror(path);
        exit(1);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof *names);
        }
        if (asprintf(&names[n], "%s/%s", path, e->d_name) < 0)
            exit(1);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int main(int argc, char **argv)
{
    unsigned long random_inputs = 0, max_len = 4096;
    uint64_t seed = 1;
    int paths = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--random=", 9) == 0)
            random_inputs = strtoul(argv[i] + 9, NULL, 0);
        else if (strncmp(argv[i], "--seed=", 7) == 0)
            seed = strtoull(argv[i] + 7, NULL, 0);
        else if (strncmp(argv[i], "--max-len=", 10) == 0)
            max_len = strtoul(argv[i] + 10, NULL, 0);
        else {
            run_path(argv[i]);
            paths++;
        }
    }
    if (max_len < 2)
        max_len = 2;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint8_t *buf = malloc(max_len);
    if (!buf)
        return 1;
    for (unsigned long k = 0; k < random_inputs; k++) {
        size_t len = 2 + rng(&seed) % (max_len - 1);
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)rng(&seed);
        LLVMFuzzerTestOneInput(buf, len);
    }
    free(buf);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("fuzz_replay: %lu corpus files, %lu random inputs (%.1f s)\n", files_run, random_inputs,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (files_run + random_inputs == 0 || (paths > 0 && files_run == 0)) {
        fprintf(stderr, "fuzz_replay: no input ran (empty corpus?)\n");
        return 1;
    }
    return 0;
}
