/*
 * attr_clnt.c - a kept-open attribute-list client connection (attr_clnt.h).
 *
 * SECURITY: the service is another process and is not trusted: its
 * greeting must name the expected protocol, and attr_read() bounds the
 * reply; a bad greeting or reply closes the connection.
 *
 * DIAGNOSTICS: none; a failed connect or exchange is a -1 return (errno
 * set) and closes the connection. Retries and their warnings are the
 * caller's. The connected socket is already close-on-exec (connect.c).
 */
#include "attr_clnt.h"
#include "connect.h"

int
attr_clnt_open(ATTR_CLNT *clnt, int timeout)
{
    int     fd;

    attr_clnt_close(clnt);
    fd = clnt->inet ? inet_connect_spec(clnt->path, timeout) : unix_connect(clnt->path, timeout);
    if (fd < 0)
        return -1;
    clnt->stream = stream_fdopen(fd);
    stream_set_timeout(clnt->stream, timeout);
    clnt->fresh = 1;
    return 0;
}

int
attr_clnt_exchange(ATTR_CLNT *clnt, const ATTR_LIST *request, ATTR_LIST *reply)
{
    if (clnt->stream != NULL
        && attr_write(clnt->stream, request) == 0
        && (!clnt->fresh || attr_expect_protocol(clnt->stream, clnt->protocol) == 0)
        && attr_read(clnt->stream, reply) == 1) {
        clnt->fresh = 0;
        return 0;
    }
    attr_clnt_close(clnt);
    return -1;
}

void
attr_clnt_close(ATTR_CLNT *clnt)
{
    if (clnt->stream != NULL) {
        (void) stream_close(clnt->stream);
        clnt->stream = NULL;
    }
}
