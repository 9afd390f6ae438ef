/* prof_control — tide_prof_start, tide_prof_stop and tide_prof_active:
 * profiling switched on and off while the program runs (jemalloc's
 * prof.active), through the options, as tide_config_set would. */
#include <errno.h>

#include "tidemalloc.h"

#include "config/config.h"
#include "platform/textbuf.h"
#include "prof/prof_internal.h"

TIDE_EXPORT int tide_prof_start(uint64_t mean_sample_bytes)
{
    if (mean_sample_bytes & (mean_sample_bytes - 1))
        return EINVAL;
    if (mean_sample_bytes) {
        textbuf_t lg = { .fd = -1 };
        tb_u64(&lg, (uint64_t)__builtin_ctzll(mean_sample_bytes));
        tb_put(&lg, "", 1);
        int err = tide_config_set("lg_prof_sample", lg.buf);
        if (err)
            return err;
    }
    if (OPT(prof))
        return 0;
    /* What is live now was never sampled: the profile says how much. */
    tide_stats_t s;
    tide_stats_get(&s);
    int err = tide_config_set("prof", "true");
    if (err == 0)
        prof_note_started(true, s.live_usable);
    return err;
}

TIDE_EXPORT int tide_prof_stop(void)
{
    return tide_config_set("prof", "false");
}

TIDE_EXPORT int tide_prof_active(void)
{
    return OPT(prof) ? 1 : 0;
}
