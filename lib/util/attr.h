/*
 * attr.h - attribute-list IPC between posthorn processes.
 *
 * Wire format (Postfix's "attr0" form, which showq clients such as
 * postfix_exporter also speak): each attribute is "name\0value\0"; an
 * empty name ("\0") ends the list. Values are text; binary data is not
 * carried here (queue files carry the message).
 *
 * Every service greets a new client with a list {protocol=NAME}; the
 * client checks it with attr_expect_protocol() before its first request.
 *
 * SECURITY: the peer is another process and is not trusted. attr_read()
 * bounds the number of attributes and the length of each name and
 * value; going over either is a protocol error (-1) and the caller drops
 * the connection. Required attributes are checked by the caller with
 * attr_require(); a missing one is a protocol error too.
 *
 * DIAGNOSTICS: nothing is fatal but running out of memory; protocol errors
 * are -1 returns (the caller drops the peer), and a wrong greeting is also
 * a warning (attr_expect_protocol).
 */
#ifndef POSTHORN_ATTR_H
#define POSTHORN_ATTR_H

#include "stream.h"

#define ATTR_MAX_COUNT   1024
#define ATTR_MAX_NAME    100
#define ATTR_MAX_VALUE   (64 * 1024)

typedef struct ATTR_LIST {
    int     count;
    int     cap;
    char  **names;
    char  **values;
    struct ATTR_BLOCK *blocks;  /* the strings: names and values point here */
} ATTR_LIST;

ATTR_LIST *attr_list_alloc(void);
void    attr_list_free(ATTR_LIST *list);
void    attr_list_reset(ATTR_LIST *list);
void    attr_add(ATTR_LIST *list, const char *name, const char *value); /* NULL value = "" */
void    attr_addf(ATTR_LIST *list, const char *name, const char *fmt, ...)
            __attribute__((format(printf, 3, 4)));
void    attr_add_long(ATTR_LIST *list, const char *name, long value);
const char *attr_get(const ATTR_LIST *list, const char *name);  /* NULL if absent */
/* Integer value; returns -1 if absent or not a number (then *value untouched). */
int     attr_get_long(const ATTR_LIST *list, const char *name, long *value);
/* Check that every name (NULL-terminated list) is present; returns the
 * first missing name, or NULL when all are there. */
const char *attr_require(const ATTR_LIST *list, ...) __attribute__((sentinel));

/* Write a list and flush. 0 or -1. */
int     attr_write(STREAM *s, const ATTR_LIST *list);
/* Put a list into the stream's buffer (written when it fills or at the
 * next flush), so that lists sent together go out in one write. */
void    attr_put(STREAM *s, const ATTR_LIST *list);
/* Read one list (reset first). 1 = got a list, 0 = clean EOF before any
 * byte, -1 = error, timeout or protocol violation. */
int     attr_read(STREAM *s, ATTR_LIST *list);

/* Convenience: server side greeting and client side check (0 or -1). */
int     attr_send_protocol(STREAM *s, const char *protocol);
int     attr_expect_protocol(STREAM *s, const char *protocol);

/*
 * Pass a file descriptor over a UNIX-domain socket (SCM_RIGHTS), with one
 * data byte. These bypass any STREAM on the socket: use them in lockstep
 * (the receiver's stream must have nothing buffered, and the sender must
 * not send attribute data the receiver could read ahead past the fd
 * message). attr_recv_fd() waits at most ATTR_FD_TIMEOUT seconds,
 * attr_recv_fd_wait() at most timeout seconds; the received descriptor
 * is close-on-exec, any extra ones are closed.
 */
#define ATTR_FD_TIMEOUT  100
int     attr_send_fd(int sock, int fd);
int     attr_recv_fd(int sock);         /* fd or -1 */
int     attr_recv_fd_wait(int sock, int timeout);

#endif
