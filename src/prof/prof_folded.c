/* prof_folded — the profile as folded stacks, what flame graph tools read:
 * one line per stack with live bytes, frames outermost first separated by
 * ';', then a space and the estimated live bytes. Stacks with no live
 * bytes are left out.
 *
 * Frame names come from dladdr (which does not allocate): the dynamic
 * symbol holding pc - 1 (return addresses point after the call), else
 * "file+0xoffset" (the address within the object, what addr2line takes),
 * else the bare address. Functions of a program linked without -rdynamic
 * have no dynamic symbol, so they appear as "program+0x...". */
#define _GNU_SOURCE
#include "prof.h"
#include "prof_snap.h"
#include "platform/textbuf.h"
#include "prof_name.h"

#include <dlfcn.h>

void prof_frame_name(textbuf_t *t, uintptr_t pc)
{
    uintptr_t addr = pc ? pc - 1 : 0;
    Dl_info info;
    if (dladdr((void *)addr, &info)) {
        if (info.dli_sname && info.dli_sname[0]) {
            tb_str(t, info.dli_sname);
            return;
        }
        if (info.dli_fname && info.dli_fname[0]) {
            const char *base = strrchr(info.dli_fname, '/');
            tb_str(t, base ? base + 1 : info.dli_fname);
            tb_put(t, "+", 1);
            tb_hex(t, addr - (uintptr_t)info.dli_fbase);
            return;
        }
    }
    tb_hex(t, addr);
}

bool prof_write_folded(int fd)
{
    prof_snap_t snap;
    bool ok = prof_snap_take(&snap);
    textbuf_t t = { .n = 0, .fd = fd, .failed = 0 };
    prof_row_t row;
    size_t pos = 0;
    while (ok && prof_snap_next(&snap, &pos, &row)) {
        if (row.est_live_bytes == 0 || row.depth == 0)
            continue;
        for (uint32_t i = row.depth; i-- > 0;) {
            prof_frame_name(&t, row.pc[i]);
            if (i)
                tb_put(&t, ";", 1);
        }
        tb_put(&t, " ", 1);
        tb_u64(&t, row.est_live_bytes);
        tb_put(&t, "\n", 1);
    }
    tb_flush(&t);
    prof_snap_free(&snap);
    return ok && !t.failed;
}
