/*
 * connect.h - sockets: listen and connect for UNIX-domain and TCP endpoints.
 *
 * DIAGNOSTICS: none; every failure is a -1 return with errno set; the
 * caller logs.
 */
#ifndef POSTHORN_CONNECT_H
#define POSTHORN_CONNECT_H

#include <sys/socket.h>

/*
 * Connect socket fd to sa: non-blocking, poll() for at most timeout
 * seconds (ETIMEDOUT after it), then fd is made blocking again; with
 * timeout <= 0 a plain blocking connect (as long as the kernel waits).
 * 0, or -1 with errno (fd stays open: the caller closes it).
 */
int     timed_connect(int fd, const struct sockaddr *sa, socklen_t len, int timeout);

/* Blocking connect with a timeout (seconds); fd or -1 with errno. */
int     unix_connect(const char *path, int timeout);
int     inet_connect(const char *host, const char *port, int timeout);
/* "host:port", "[host]:port", "port" */
int     inet_connect_spec(const char *spec, int timeout);
int     unix_dgram_connect(const char *path);

/* Listening sockets, close-on-exec off so master can pass them. */
int     unix_listen(const char *path, int backlog, int mode);
int     unix_dgram_listen(const char *path, int mode);
/* host NULL or "" = all addresses; returns fd or -1 with errno. */
int     inet_listen(const char *host, const char *port, int backlog);
int     fifo_listen(const char *path, int mode);

void    fd_nonblock(int fd, int on);
void    fd_cloexec(int fd, int on);

/* Send a one-byte trigger to a fifo or UNIX socket service (public/qmgr).
 * Never blocks long; 0 or -1. */
int     trigger_send(const char *path, const char *buf, int len);

#endif
