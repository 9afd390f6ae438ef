/* stats socket — `tide stats PID` without ptrace: a process that opts in
 * (TIDE_CONF=stats_socket:true) serves its statistics on the abstract unix
 * socket "tidemalloc.<pid>" (or a path, stats_socket:/dir/%p.sock). A thread blocked in accept() costs nothing until
 * someone connects; each connection gets one report and is closed. */
#ifndef TIDE_STATS_SOCKET_H
#define TIDE_STATS_SOCKET_H

#pragma GCC visibility push(hidden)

/* Start serving (once); returns 0, or -1 if the socket could not be made. */
int stats_socket_start(void);
void stats_socket_fork_child(void);
/* At exit: remove the filesystem socket, if this process made one. */
void stats_socket_exit(void);

#pragma GCC visibility pop

#endif
