/*
 * test_connect.c - unit tests for lib/connect.c (loopback and /tmp only).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "connect.h"
#include "unit.h"

static char dir[64];

/* fcntl() and stat() calls, counted: these replace libc's for connect.c. */
static int n_fcntl, n_stat;

int
fcntl(int fd, int cmd, ...)
{
    va_list ap;
    long    arg;

    va_start(ap, cmd);
    arg = va_arg(ap, long);
    va_end(ap);
    n_fcntl++;
    return (int) syscall(SYS_fcntl, fd, cmd, arg);
}

int
stat(const char *path, struct stat *st)
{
    n_stat++;
    return (int) syscall(SYS_newfstatat, AT_FDCWD, path, st, 0);
}

static void
make_dir(void)
{
    snprintf(dir, sizeof(dir), "/tmp/test_connect.XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
}

/* A fresh directory with a listening UNIX socket "sock" (path set). */
static int
listen_sock(char *path, size_t len)
{
    make_dir();
    snprintf(path, len, "%s/sock", dir);
    return unix_listen(path, 10, 0666);
}

UNIT_TEST(test_unix_stream)
{
    char    path[128];
    int     lfd, cfd, afd;
    char    c = 0;

    CHECK((lfd = listen_sock(path, sizeof(path))) >= 0);
    CHECK((cfd = unix_connect(path, 2)) >= 0);
    CHECK((afd = accept(lfd, NULL, NULL)) >= 0);
    CHECK_INT(write(cfd, "x", 1), 1);
    CHECK_INT(read(afd, &c, 1), 1);
    CHECK(c == 'x');
    close(cfd);
    close(afd);
    close(lfd);
    unlink(path);
    CHECK_INT(unix_connect(path, 1), -1);
    rmdir(dir);
}

UNIT_TEST(test_inet)
{
    int     lfd, cfd, afd;
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    char    spec[64];

    CHECK((lfd = inet_listen("127.0.0.1", "0", 10)) >= 0);
    CHECK_INT(getsockname(lfd, (struct sockaddr *) &sin, &len), 0);
    snprintf(spec, sizeof(spec), "[127.0.0.1]:%d", ntohs(sin.sin_port));
    CHECK((cfd = inet_connect_spec(spec, 2)) >= 0);
    CHECK((afd = accept(lfd, NULL, NULL)) >= 0);
    CHECK(!(fcntl(cfd, F_GETFL) & O_NONBLOCK));
    close(cfd);
    close(afd);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", ntohs(sin.sin_port));
    CHECK((cfd = inet_connect_spec(spec, 2)) >= 0);
    close(cfd);
    close(lfd);
    CHECK_INT(inet_connect_spec("[127.0.0.1", 1), -1);
    CHECK_INT(inet_connect_spec("host:", 1), -1);
}

UNIT_TEST(test_fifo_trigger)
{
    char    path[128];
    int     fd;
    char    buf[8];

    make_dir();
    snprintf(path, sizeof(path), "%s/fifo", dir);
    CHECK((fd = fifo_listen(path, 0622)) >= 0);
    CHECK_INT(trigger_send(path, "W", 1), 0);
    CHECK_INT(read(fd, buf, sizeof(buf)), 1);
    CHECK(buf[0] == 'W');
    CHECK_INT(read(fd, buf, sizeof(buf)), -1);  /* non-blocking, empty */
    CHECK_INT(errno, EAGAIN);
    close(fd);
    unlink(path);
    CHECK_INT(trigger_send(path, "W", 1), -1);
    rmdir(dir);
}

UNIT_TEST(test_unix_trigger_and_dgram)
{
    char    path[128];
    int     lfd, afd, dfd, cfd;
    char    buf[64];

    make_dir();
    snprintf(path, sizeof(path), "%s/qmgr", dir);
    CHECK((lfd = unix_listen(path, 10, 0666)) >= 0);
    CHECK_INT(trigger_send(path, "A", 1), 0);
    CHECK((afd = accept(lfd, NULL, NULL)) >= 0);
    CHECK_INT(read(afd, buf, sizeof(buf)), 1);
    close(afd);
    close(lfd);
    unlink(path);

    snprintf(path, sizeof(path), "%s/postlog", dir);
    CHECK((dfd = unix_dgram_listen(path, 0666)) >= 0);
    CHECK((cfd = unix_dgram_connect(path)) >= 0);
    CHECK_INT(write(cfd, "line one", 8), 8);
    CHECK_INT(recv(dfd, buf, sizeof(buf), 0), 8);
    close(cfd);
    close(dfd);
    unlink(path);
    rmdir(dir);
}

/* timed_connect: a refused port fails at once; a listener whose queue is
 * full makes it time out (ETIMEDOUT), and the descriptor comes back
 * blocking after a success. */
UNIT_TEST(test_timed_connect)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int     lfd, fds[8], n = 0, rc = 0, err = 0;
    time_t  start;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK((lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    CHECK_INT(bind(lfd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    CHECK_INT(getsockname(lfd, (struct sockaddr *) &sin, &len), 0);
    CHECK_INT(listen(lfd, 0), 0);
    start = time(NULL);
    while (n < 8 && rc == 0) {
        CHECK((fds[n] = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
        rc = timed_connect(fds[n], (struct sockaddr *) &sin, sizeof(sin), 1);
        err = errno;
        if (rc == 0)
            CHECK_INT(fcntl(fds[n], F_GETFL) & O_NONBLOCK, 0);
        n++;
    }
    CHECK_INT(rc, -1);
    CHECK_INT(err, ETIMEDOUT);
    CHECK(time(NULL) - start <= 5);
    while (n > 0)
        close(fds[--n]);
    close(lfd);
    CHECK((fds[0] = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
    CHECK_INT(timed_connect(fds[0], (struct sockaddr *) &sin, sizeof(sin), 1), -1);
    CHECK_INT(errno, ECONNREFUSED);
    close(fds[0]);
}

/*
 * A connect with a timeout costs one fcntl() (back to blocking) and comes
 * back close-on-exec; a trigger to a socket needs neither stat() nor
 * fcntl(); a socket nobody listens on is refused.
 */
UNIT_TEST(test_connect_syscalls)
{
    char    path[128];
    int     lfd, cfd, afd;
    char    c = 0;

    CHECK((lfd = listen_sock(path, sizeof(path))) >= 0);
    n_fcntl = n_stat = 0;
    CHECK((cfd = unix_connect(path, 2)) >= 0);
    CHECK_INT(n_fcntl, 1);
    CHECK_INT(fcntl(cfd, F_GETFL) & O_NONBLOCK, 0);
    CHECK(fcntl(cfd, F_GETFD) & FD_CLOEXEC);
    CHECK((afd = accept(lfd, NULL, NULL)) >= 0);
    close(afd);
    close(cfd);
    n_fcntl = n_stat = 0;
    CHECK_INT(trigger_send(path, "I", 1), 0);
    CHECK_INT(n_fcntl + n_stat, 0);
    CHECK((afd = accept(lfd, NULL, NULL)) >= 0);
    CHECK_INT(read(afd, &c, 1), 1);
    CHECK(c == 'I');
    close(afd);
    close(lfd);
    CHECK_INT(trigger_send(path, "I", 1), -1);
    CHECK_INT(errno, ECONNREFUSED);
    unlink(path);
    rmdir(dir);
}

UNIT_TESTS {
    {"unix_stream", test_unix_stream},
    {"inet", test_inet},
    {"fifo_trigger", test_fifo_trigger},
    {"unix_trigger_and_dgram", test_unix_trigger_and_dgram},
    {"timed_connect", test_timed_connect},
    {"connect_syscalls", test_connect_syscalls},
    UNIT_END
};
