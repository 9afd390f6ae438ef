/* top_line — what `tide top PID` shows, as one answer on the stats socket. */
#ifndef TIDE_TOP_LINE_H
#define TIDE_TOP_LINE_H

#pragma GCC visibility push(hidden)

/* Write the answer to fd:
 *   tide-top live=B active=B dirty=B mapped=B metadata=B free_partly=B cached=B prof=0|1 period=B mid_run=0|1
 *   class size=B live=B carved=B free=B          (each class with slabs)
 *   site by=live|pinned live=B pinned=B pc=0xRET name=FRAME   (with profiling: the
 *                                                     top stacks, 5 each)
 *   end */
void top_line_write(int fd);

#pragma GCC visibility pop

#endif
