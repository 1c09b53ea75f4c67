/*
 * test_msg.c - unit tests for lib/util/msg.c: lines to the postlog socket.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "closefrom.h"
#include "connect.h"
#include "msg.h"
#include "unit.h"

/* fstat(), getpid() and send() calls, counted: these replace libc's for msg.c. */
static int n_fstat, n_getpid, n_send;

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    n_send++;
    return (ssize_t) syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

int
fstat(int fd, struct stat *st)
{
    n_fstat++;
    return (int) syscall(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH);
}

pid_t
getpid(void)
{
    n_getpid++;
    return (pid_t) syscall(SYS_getpid);
}

static char dir[64];
static int sink = -1;

/* A postlog socket in a temporary queue directory; logging goes there. */
static void
postlog_setup(void)
{
    char    path[128];
    MSG_LOG_SETTINGS set = {0};

    snprintf(dir, sizeof(dir), "/tmp/test_msg.XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof(path), "%s/public", dir);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/public/postlog", dir);
    if ((sink = unix_dgram_listen(path, 0666)) < 0)
        abort();
    snprintf(path, sizeof(path), "%s/maillog", dir);
    set.maillog_file = path;
    set.maillog_file_prefixes = "/tmp";
    set.queue_directory = dir;
    set.hostname = "host";
    msg_init("test", 0);
    msg_logging_setup(&set);
}

static void
postlog_teardown(void)
{
    char    path[128];

    msg_logging_close();
    close(sink);
    snprintf(path, sizeof(path), "%s/public/postlog", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/public", dir);
    rmdir(path);
    snprintf(path, sizeof(path), "%s/maillog", dir);
    unlink(path);
    rmdir(dir);
}

/* The next line the sink got ends with want (and names pid). */
static int
received(const char *want, long pid)
{
    char    line[4096];
    char    tag[64];
    ssize_t n = recv(sink, line, sizeof(line) - 1, MSG_DONTWAIT);

    if (n <= 0)
        return 0;
    line[n] = 0;
    snprintf(tag, sizeof(tag), "postfix/test[%ld]: ", pid);
    return strstr(line, tag) != NULL && n >= (ssize_t) strlen(want)
        && strcmp(line + n - strlen(want), want) == 0;
}

/*
 * Line after line: no fstat() of the socket and no getpid() each time.
 * After closefrom_keep() the descriptor number may be another file's:
 * msg.c notices (the file gets no log line and stays open) and
 * reconnects. A forked child logs its own pid.
 */
UNIT_TEST(test_postlog_lines)
{
    long    self = (long) syscall(SYS_getpid);
    int     keep[1], fd, i, status = 0;
    char    path[128];
    struct stat st;
    pid_t   child;

    postlog_setup();
    msg_info("first");
    CHECK(received("first", self));
    n_fstat = n_getpid = 0;
    for (i = 0; i < 5; i++) {
        msg_info("line %d", i);
        snprintf(path, sizeof(path), "line %d", i);
        CHECK(received(path, self));
    }
    CHECK_INT(n_fstat, 0);
    CHECK_INT(n_getpid, 0);

    keep[0] = sink;
    CHECK_INT(closefrom_keep(3, keep, 1, 0), 0);
    snprintf(path, sizeof(path), "%s/other", dir);
    CHECK((fd = open(path, O_RDWR | O_CREAT, 0600)) >= 0);
    msg_info("after closefrom");
    CHECK(received("after closefrom", self));
    CHECK(fcntl(fd, F_GETFD) >= 0);    /* still open */
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_size, 0);
    close(fd);
    unlink(path);

    if ((child = fork()) == 0) {
        msg_info("from the child");
        _exit(0);
    }
    CHECK_INT(waitpid(child, &status, 0), child);
    CHECK(received("from the child", (long) child));
    postlog_teardown();
}

/*
 * postlogd busy: with several processes logging into a full socket queue
 * (net.unix.max_dgram_qlen is 10 by default), a sender woken for room
 * may find it taken again. No line may be lost while the reader keeps
 * draining (each sender waits up to a second in all), and the senders
 * wait in the kernel, not in a loop of send() attempts.
 */
UNIT_TEST(test_postlog_busy)
{
    enum { SENDERS = 6, LINES = 40 };
    char    line[4096];
    pid_t   kids[SENDERS];
    int     i, got = 0, status;

    postlog_setup();
    for (i = 0; i < SENDERS; i++) {
        if ((kids[i] = fork()) == 0) {
            for (int j = 0; j < LINES; j++)
                msg_info("sender %d line %d", i, j);
            _exit(n_send <= 2 * LINES ? 0 : 1);        /* a wait, not a spin */
        }
    }
    for (;;) {
        struct timeval tv = {.tv_sec = 2};

        setsockopt(sink, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (recv(sink, line, sizeof(line), 0) <= 0)
            break;
        got++;
        usleep(1000);                   /* a reader slower than the senders */
    }
    for (i = 0; i < SENDERS; i++) {
        CHECK_INT(waitpid(kids[i], &status, 0), kids[i]);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CHECK_INT(got, SENDERS * LINES);
    postlog_teardown();
}

UNIT_TESTS {
    {"postlog_lines", test_postlog_lines},
    {"postlog_busy", test_postlog_busy},
    UNIT_END
};
