/* version — which release is loaded. A program may run against a newer
 * libtidemalloc.so.0 than the header it was compiled with; this answers
 * for the library, TIDE_VERSION for the header. */
#include "tidemalloc.h"

const char *tide_version(void) { return TIDE_VERSION; }
