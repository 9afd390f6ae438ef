/* init — bootstrap (options, thread-exit hook, fork handlers). Nothing here
 * calls malloc or dlsym, so the first malloc of the process — possibly from
 * the dynamic loader, before any constructor — can run it. */
#ifndef TIDE_INIT_H
#define TIDE_INIT_H

#pragma GCC visibility push(hidden)

void tide_init(void);

#pragma GCC visibility pop

#endif
