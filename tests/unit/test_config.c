#define _GNU_SOURCE
/* TIDE_CONF parsing: good values take, bad ones are reported one line each
 * (naming the option and the reason) and leave the default. */
#include "runner.h"
#include "check.h"
#include "config/config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Run config_parse with stderr captured into buf. */
static int parse_capture(options_t *o, const char *text, char *buf, size_t cap)
{
    char path[] = "/tmp/tide_conf_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    int bad = config_parse(o, text, "TIDE_CONF");
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, cap - 1);
    buf[n > 0 ? n : 0] = 0;
    close(fd);
    unlink(path);
    return bad;
}

TEST(good_options_take_effect)
{
    options_t o = options;
    char err[1024];
    CHECK_EQ(parse_capture(&o, "decay_ms:250,dirty_max:64M,background_thread:false,stats_print:true", err, sizeof err), 0);
    CHECK_EQ(o.decay_ms, 250);
    CHECK_EQ(o.dirty_max, (size_t)64 << 20);
    CHECK(!o.background_thread);
    CHECK(o.stats_print);
    CHECK(err[0] == 0);
    CHECK_EQ(parse_capture(&o, "dirty_max:1G,,decay_ms:0,", err, sizeof err), 0);
    CHECK_EQ(o.dirty_max, (size_t)1 << 30);
    CHECK_EQ(o.decay_ms, 0);
}

TEST(bad_options_are_named_and_ignored)
{
    options_t o = options;
    uint64_t decay = o.decay_ms;
    char err[2048];
    int bad = parse_capture(&o, "decay_ms:soon,colour:blue,dirty_max:12Q,background_thread:yes,novalue", err, sizeof err);
    CHECK_EQ(bad, 5);
    CHECK_EQ(o.decay_ms, decay);
    CHECK(strstr(err, "bad option 'decay_ms:soon': expected a whole number of milliseconds"));
    CHECK(strstr(err, "bad option 'colour:blue': unknown option"));
    CHECK(strstr(err, "bad option 'dirty_max:12Q'"));
    CHECK(strstr(err, "bad option 'background_thread:yes': expected true or false"));
    CHECK(strstr(err, "bad option 'novalue': expected key:value"));
    /* One line per bad option. */
    int lines = 0;
    for (char *p = err; *p; p++)
        lines += *p == '\n';
    CHECK_EQ(lines, 5);
    CHECK_EQ(parse_capture(&o, "decay_ms:99999999999999999999999", err, sizeof err), 1);
}
