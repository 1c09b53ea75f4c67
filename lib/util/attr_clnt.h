/*
 * attr_clnt.h - a connection kept open for the life of a process to a
 * service that speaks attribute lists (attr.h): anvil, trivial-rewrite.
 * smtpd's policy client keeps its connections with it too: it speaks its
 * own "name=value" protocol on the stream, with inet set for a
 * "host:port" endpoint.
 *
 *   ATTR_CLNT c = ATTR_CLNT_INIT(path, protocol);
 *   attr_clnt_open(&c, timeout)   connect (timeout: for the connect and
 *                                 every later operation), close-on-exec;
 *                                 0 or -1 (errno)
 *   attr_clnt_exchange(&c, request, reply)
 *                                 one request and its reply; the first
 *                                 request on a new connection is written
 *                                 before the service's {protocol=...}
 *                                 greeting is read and checked, so
 *                                 services that greet on accept and ones
 *                                 that greet when the first request
 *                                 arrives both work. 0, or -1 after which
 *                                 the connection is closed.
 *   attr_clnt_close(&c)           close (when open)
 *
 * Retries, back-off and the checking of the reply's values are the
 * caller's: they differ per service.
 *
 * DIAGNOSTICS: none; a failed connect or exchange is a -1 return and
 * closes the connection; the caller warns and retries.
 */
#ifndef POSTHORN_ATTR_CLNT_H
#define POSTHORN_ATTR_CLNT_H

#include "attr.h"
#include "stream.h"

typedef struct ATTR_CLNT {
    const char *path;           /* UNIX-domain socket */
    const char *protocol;       /* expected in the greeting */
    STREAM *stream;             /* NULL: not connected */
    int     fresh;              /* greeting not read yet */
    int     inet;               /* path is "host:port" (TCP), not a socket file */
} ATTR_CLNT;

#define ATTR_CLNT_INIT(path, protocol) { (path), (protocol), 0, 0, 0 }

int     attr_clnt_open(ATTR_CLNT *clnt, int timeout);
int     attr_clnt_exchange(ATTR_CLNT *clnt, const ATTR_LIST *request, ATTR_LIST *reply);
void    attr_clnt_close(ATTR_CLNT *clnt);

#endif
