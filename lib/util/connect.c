/*
 * connect.c - sockets: listen and connect for UNIX-domain and TCP
 * endpoints, fifos, and the one-byte trigger client.
 *
 * Interface: connect.h. Connects are non-blocking with a poll() timeout
 * (timed_connect(), which the smtp client uses for its own sockets) and
 * return a blocking descriptor; the sockets made here are created
 * non-blocking and close-on-exec (one fcntl() after the connect, none
 * before). trigger_send() tries the UNIX socket before it stat()s the
 * path for a fifo. Listening descriptors are left
 * inheritable (master passes them to its children). inet_connect_spec()
 * parses "[host]:port", "host:port" and "port" (host defaults to
 * localhost).
 *
 * inet_connect() and inet_listen() turn such configured endpoints into
 * socket addresses with a plain getaddrinfo(): no MX, no DNS statuses or
 * reasons are needed, and this layer may not use lib/dns (which sits
 * above it). Mail lookups (MX, A/AAAA of next hops, PTR, DNSBLs) go
 * through lib/dns.
 *
 * SECURITY: endpoint names come from configuration (master.cf, main.cf);
 * they are still length-checked against sun_path and NI_MAXHOST.
 *
 * DIAGNOSTICS: none; every failure is a -1 return with errno set (a
 * timeout is ETIMEDOUT); the caller logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "connect.h"

void
fd_nonblock(int fd, int on)
{
    int     flags = fcntl(fd, F_GETFL);

    if (flags < 0)
        return;
    flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    (void) fcntl(fd, F_SETFL, flags);
}

void
fd_cloexec(int fd, int on)
{
    int     flags = fcntl(fd, F_GETFD);

    if (flags < 0)
        return;
    flags = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
    (void) fcntl(fd, F_SETFD, flags);
}

static int
unix_addr(struct sockaddr_un *sun, const char *path)
{
    size_t  len = strlen(path);

    if (len == 0 || len >= sizeof(sun->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    memcpy(sun->sun_path, path, len);
    return 0;
}

/* Close fd keeping errno; returns -1 for "return fd_close_error(fd);". */
static int
fd_close_error(int fd)
{
    int     saved = errno;

    close(fd);
    errno = saved;
    return -1;
}

/* A non-blocking connect in progress: wait up to timeout seconds. */
static int
timed_connect_wait(int fd, int timeout)
{
    struct pollfd pfd;
    int     err = 0;
    socklen_t errlen = sizeof(err);
    int     n;

    pfd.fd = fd;
    pfd.events = POLLOUT;
    do {
        n = poll(&pfd, 1, timeout * 1000);
    } while (n < 0 && errno == EINTR);
    if (n == 0)
        errno = ETIMEDOUT;
    if (n <= 0)
        return -1;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
        return -1;
    if (err != 0) {
        errno = err;
        return -1;
    }
    return 0;
}

/* connect() on a non-blocking fd, bounded by timeout seconds. */
static int
nonblock_connect(int fd, const struct sockaddr *sa, socklen_t len, int timeout)
{
    if (connect(fd, sa, len) == 0)
        return 0;
    if (errno != EINPROGRESS && errno != EAGAIN)
        return -1;
    return timed_connect_wait(fd, timeout);
}

int
timed_connect(int fd, const struct sockaddr *sa, socklen_t len, int timeout)
{
    if (timeout <= 0)
        return connect(fd, sa, len);
    fd_nonblock(fd, 1);
    if (nonblock_connect(fd, sa, len, timeout) < 0)
        return -1;
    fd_nonblock(fd, 0);
    return 0;
}

/*
 * A new socket connected to sa. With a timeout it is created
 * non-blocking (no fcntl() to read and set the flags: a fresh socket has
 * none but O_NONBLOCK) and made blocking after the connect unless
 * keep_nonblock.
 */
static int
fresh_connect(int domain, int type, int proto, const struct sockaddr *sa, socklen_t len,
              int timeout, int keep_nonblock)
{
    int     fd;

    if (timeout <= 0) {
        if ((fd = socket(domain, type | SOCK_CLOEXEC, proto)) < 0)
            return -1;
        if (connect(fd, sa, len) < 0)
            return fd_close_error(fd);
        return fd;
    }
    if ((fd = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, proto)) < 0)
        return -1;
    if (nonblock_connect(fd, sa, len, timeout) < 0
        || (!keep_nonblock && fcntl(fd, F_SETFL, 0) < 0))
        return fd_close_error(fd);
    return fd;
}

/* A UNIX socket of the given type connected to path; fd or -1. */
static int
unix_socket_connect(const char *path, int type, int timeout, int keep_nonblock)
{
    struct sockaddr_un sun;

    if (unix_addr(&sun, path) < 0)
        return -1;
    return fresh_connect(AF_UNIX, type, 0, (struct sockaddr *) &sun, sizeof(sun),
                         timeout, keep_nonblock);
}

int
unix_connect(const char *path, int timeout)
{
    return unix_socket_connect(path, SOCK_STREAM, timeout, 0);
}

/*
 * The first descriptor that fn makes from one of the stream addresses of
 * host/port (getaddrinfo family and flags); -1 with the errno of the last
 * failure (no_addr_errno when the name does not resolve).
 */
static int
inet_first(const char *host, const char *port, int family, int flags,
           int no_addr_errno, int (*fn)(const struct addrinfo *ai, int arg), int arg)
{
    struct addrinfo hints, *res, *ai;
    int     fd = -1;
    int     saved = no_addr_errno;
    int     err;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = flags;
    if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
        errno = (err == EAI_SYSTEM) ? errno : no_addr_errno;
        return -1;
    }
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
        if ((fd = fn(ai, arg)) < 0)
            saved = errno;
    freeaddrinfo(res);
    if (fd < 0)
        errno = saved;
    return fd;
}

static int
inet_connect_one(const struct addrinfo *ai, int timeout)
{
    return fresh_connect(ai->ai_family, ai->ai_socktype, ai->ai_protocol, ai->ai_addr,
                         ai->ai_addrlen, timeout, 0);
}

int
inet_connect(const char *host, const char *port, int timeout)
{
    if (host == NULL || *host == 0)
        host = "localhost";
    return inet_first(host, port, AF_UNSPEC, 0, EHOSTUNREACH, inet_connect_one, timeout);
}

/* Split "[host]:port", "host:port" or "port" into host and port buffers. */
static int
inet_split(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    const char *close;
    size_t  hlen;

    host[0] = 0;
    if (spec[0] == '[') {
        if ((close = strchr(spec, ']')) == NULL || close[1] != ':')
            return -1;
        hlen = (size_t) (close - spec - 1);
        spec++;
        colon = close + 1;
    } else if ((colon = strrchr(spec, ':')) != NULL) {
        hlen = (size_t) (colon - spec);
    } else {
        hlen = 0;
        colon = spec - 1;
    }
    if (hlen >= hostlen || strlen(colon + 1) >= portlen || colon[1] == 0)
        return -1;
    memcpy(host, spec, hlen);
    host[hlen] = 0;
    strcpy(port, colon + 1);
    return 0;
}

int
inet_connect_spec(const char *spec, int timeout)
{
    char    host[NI_MAXHOST];
    char    port[NI_MAXSERV];

    if (inet_split(spec, host, sizeof(host), port, sizeof(port)) < 0) {
        errno = EINVAL;
        return -1;
    }
    return inet_connect(host, port, timeout);
}

int
unix_dgram_connect(const char *path)
{
    return unix_socket_connect(path, SOCK_DGRAM, 0, 0);   /* never waits */
}

/* Bind a UNIX socket of the given type at path (replacing a stale one). */
static int
unix_bind(const char *path, int type, int mode)
{
    struct sockaddr_un sun;
    int     fd;

    if (unix_addr(&sun, path) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, type, 0)) < 0)
        return -1;
    if ((unlink(path) < 0 && errno != ENOENT)
        || bind(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0
        || chmod(path, (mode_t) mode) < 0)
        return fd_close_error(fd);
    return fd;
}

int
unix_listen(const char *path, int backlog, int mode)
{
    int     fd = unix_bind(path, SOCK_STREAM, mode);

    if (fd < 0)
        return -1;
    if (listen(fd, backlog) < 0)
        return fd_close_error(fd);
    return fd;
}

int
unix_dgram_listen(const char *path, int mode)
{
    return unix_bind(path, SOCK_DGRAM, mode);
}

static int
inet_listen_one(const struct addrinfo *ai, int backlog)
{
    int     on = 1;
    int     fd;

    if ((fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol)) < 0)
        return -1;
    (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (ai->ai_family == AF_INET6)
        (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0)
        return fd_close_error(fd);
    return fd;
}

int
inet_listen(const char *host, const char *port, int backlog)
{
    if (host != NULL && *host == 0)
        host = NULL;
    /* All addresses: one IPv4 wildcard socket is what Postfix's default
     * inet_protocols=ipv4 gives. */
    return inet_first(host, port, host == NULL ? AF_INET : AF_UNSPEC, AI_PASSIVE,
                      EADDRNOTAVAIL, inet_listen_one, backlog);
}

int
fifo_listen(const char *path, int mode)
{
    int     fd;

    if (mkfifo(path, (mode_t) mode) < 0 && errno != EEXIST)
        return -1;
    if ((fd = open(path, O_RDWR | O_NONBLOCK)) < 0)
        return -1;
    (void) fchmod(fd, (mode_t) mode);
    return fd;
}

static int
trigger_write(int fd, const char *buf, int len)
{
    ssize_t n;

    do {
        n = write(fd, buf, (size_t) len);
    } while (n < 0 && errno == EINTR);
    return n == len ? 0 : -1;
}

/*
 * The UNIX socket first (a non-blocking connect and write, no stat());
 * a path that refuses the connection may be a fifo.
 */
int
trigger_send(const char *path, const char *buf, int len)
{
    struct stat st;
    int     fd;
    int     ret;
    int     saved;

    if (len < 0)
        return -1;
    if ((fd = unix_socket_connect(path, SOCK_STREAM, 1, 1)) < 0) {
        saved = errno;
        if (saved != ECONNREFUSED || stat(path, &st) < 0 || !S_ISFIFO(st.st_mode)) {
            errno = saved;
            return -1;
        }
        if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
            return -1;
    }
    ret = trigger_write(fd, buf, len);
    close(fd);
    return ret;
}
