/* prof_name — a frame's name from inside the process (dladdr, which does
 * not allocate), for the folded writer and the live view. */
#ifndef TIDE_PROF_NAME_H
#define TIDE_PROF_NAME_H

#include <stdint.h>

#include "platform/textbuf.h"

#pragma GCC visibility push(hidden)

/* The dynamic symbol holding pc - 1 (pc is a return address), else
 * "file+0xoffset", else the bare address. */
void prof_frame_name(textbuf_t *t, uintptr_t pc);

#pragma GCC visibility pop

#endif
