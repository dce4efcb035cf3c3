/* backlog.h — answering the connections still waiting in a listening
 * socket's accept queue when the server stops accepting. */
#ifndef CD_SERVER_BACKLOG_H
#define CD_SERVER_BACKLOG_H

/* Accepts every connection already queued on the listening socket fd
 * (borrowed; made non-blocking) and answers each with 503 "the server is
 * shutting down" (JSON, Retry-After: 1, Connection: close) instead of the
 * reset a client would get when the socket is shut down. Bounded: at most
 * max_conns connections and budget_s seconds in all. Returns how many were
 * answered. */
int cd_backlog_refuse(int fd, int max_conns, double budget_s);

#endif
