/*
 * smtp_connect.c - open the connection to one server address.
 *
 * Interface (smtp.h): smtp_connect_addr(a, timeout) connects a TCP
 * socket to a->sa, from the bind address when one is set
 * (timed_connect() of lib/connect.h: at most timeout seconds, 0 = as
 * long as the kernel waits) and returns a blocking descriptor;
 * smtp_connect_unix(path, timeout) does the same for an LMTP
 * UNIX-domain socket (unix_connect()). On failure: -1 with errno (ETIMEDOUT after
 * the timeout), for the "connect to host[addr]:port: <strerror>" text.
 * smtp_bind_address / smtp_bind_address6 (lmtp_*) set the source.
 *
 * DIAGNOSTICS: none fatal; a bad configured address (smtp_bind_address) is
 * a warning and is ignored; connect failures are returned with errno.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connect.h"
#include "msg.h"
#include "smtp.h"

/* Bind to smtp_bind_address(6) when set; 0, or -1 with errno. */
static int
smtp_connect_bind(int fd, int family)
{
    const char *name = family == AF_INET
        ? (smtp_params.lmtp ? "lmtp_bind_address" : "smtp_bind_address")
        : (smtp_params.lmtp ? "lmtp_bind_address6" : "smtp_bind_address6");
    const char *v = family == AF_INET ? smtp_params.bind_address : smtp_params.bind_address6;
    struct sockaddr_storage ss;
    socklen_t len;

    if (v == NULL || *v == 0)
        return 0;
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = (sa_family_t) family;
    if (family == AF_INET) {
        len = sizeof(struct sockaddr_in);
        if (inet_pton(AF_INET, v, &((struct sockaddr_in *) &ss)->sin_addr) != 1) {
            msg_warn("%s: bad address \"%s\", ignored", name, v);
            return 0;
        }
    } else {
        len = sizeof(struct sockaddr_in6);
        if (inet_pton(AF_INET6, v, &((struct sockaddr_in6 *) &ss)->sin6_addr) != 1) {
            msg_warn("%s: bad address \"%s\", ignored", name, v);
            return 0;
        }
    }
    return bind(fd, (struct sockaddr *) &ss, len);
}

/* A connect timeout in the int seconds timed_connect() takes. */
static int
smtp_connect_timeout(long timeout)
{
    return timeout > 86400 ? 86400 : (int) timeout;
}

int
smtp_connect_addr(const SMTP_ADDR *a, long timeout)
{
    int     fd, saved;

    if ((fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    if (smtp_connect_bind(fd, a->sa.ss_family) < 0
        || timed_connect(fd, (const struct sockaddr *) &a->sa, a->salen,
                         smtp_connect_timeout(timeout)) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int
smtp_connect_unix(const char *path, long timeout)
{
    return unix_connect(path, smtp_connect_timeout(timeout));
}
