/* frag — the fragmentation statistics (tide_stats_frag) and their part of
 * the text and JSON reports. */
#ifndef TIDE_FRAG_H
#define TIDE_FRAG_H

#include <stdint.h>

#include "platform/textbuf.h"

#pragma GCC visibility push(hidden)

/* The fragmentation section of tide_stats_print, mesh estimate included. */
void frag_print_text(textbuf_t *o);
/* `, "frag": {...}` inside the JSON report's top-level object. */
void frag_print_json(textbuf_t *o);

/* mesh.c: add to classes[] (SC_COUNT cells) and *total what greedy
 * meshing would free, and to inplace[] (SC_COUNT, or NULL) what purging
 * whole free pages inside partly used slabs would; false if scratch memory
 * ran out. */
struct tide_frag_cell;
bool mesh_estimate(struct tide_frag_cell *classes, struct tide_frag_cell *total, uint64_t *inplace);

#pragma GCC visibility pop

#endif
