/*
 * smtp_connect.c - open the connection to one server address.
 *
 * Interface (smtp.h): smtp_connect_addr(a, timeout) connects a TCP
 * socket to a->sa (non-blocking connect, poll() for at most timeout
 * seconds, 0 = wait as long as the kernel does) and returns a blocking
 * descriptor; smtp_connect_unix(path, timeout) does the same for an
 * LMTP UNIX-domain socket. On failure: -1 with errno (ETIMEDOUT after
 * the timeout), for the "connect to host[addr]:port: <strerror>" text.
 * smtp_bind_address / smtp_bind_address6 (lmtp_*) set the source.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
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
    const char *v = config_lookup(name);
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

static int
smtp_connect_sock(int fd, const struct sockaddr *sa, socklen_t len, long timeout)
{
    struct pollfd pfd;
    int     err = 0, n;
    socklen_t elen = sizeof(err);

    fd_nonblock(fd, 1);
    if (connect(fd, sa, len) < 0) {
        if (errno != EINPROGRESS)
            return -1;
        pfd.fd = fd;
        pfd.events = POLLOUT;
        do {
            n = poll(&pfd, 1, timeout > 0 ? (int) (timeout * 1000) : -1);
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (n < 0)
            return -1;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
            return -1;
        if (err != 0) {
            errno = err;
            return -1;
        }
    }
    fd_nonblock(fd, 0);
    return 0;
}

int
smtp_connect_addr(const SMTP_ADDR *a, long timeout)
{
    int     fd, saved;

    if ((fd = socket(a->sa.ss_family, SOCK_STREAM, 0)) < 0)
        return -1;
    fd_cloexec(fd, 1);
    if (smtp_connect_bind(fd, a->sa.ss_family) < 0
        || smtp_connect_sock(fd, (const struct sockaddr *) &a->sa, a->salen, timeout) < 0) {
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
    struct sockaddr_un sun;
    int     fd, saved;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
        return -1;
    fd_cloexec(fd, 1);
    if (smtp_connect_sock(fd, (struct sockaddr *) &sun, sizeof(sun), timeout) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}
