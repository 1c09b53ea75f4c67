/*
 * test_events.c - unit tests for lib/events.c.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "unit.h"

static int fired[4];
static int pipe_fds[2];

static void
timer_cb(void *ctx)
{
    fired[(long) ctx]++;
}

static void
rearm_cb(void *ctx)
{
    fired[3]++;
    event_timer(rearm_cb, ctx, 0);      /* runs again next round only */
}

static void
read_cb(int fd, int events, void *ctx)
{
    char    c;

    CHECK(events & EVENT_READ);
    if (read(fd, &c, 1) == 1)
        fired[(long) ctx]++;
    event_cancel_read(fd);              /* cancel itself */
}

UNIT_TEST(test_timers)
{
    double  start = event_now();

    event_timer(timer_cb, (void *) 0, 0.05);
    event_timer(timer_cb, (void *) 1, 10);
    event_timer(timer_cb, (void *) 1, 0.1);     /* reset: same key */
    event_timer(timer_cb, (void *) 2, 0.05);
    event_cancel_timer(timer_cb, (void *) 2);
    while (fired[1] == 0 && event_now() - start < 2)
        event_loop(1);
    CHECK_INT(fired[0], 1);
    CHECK_INT(fired[1], 1);
    CHECK_INT(fired[2], 0);
    CHECK(event_now() - start < 1);
    event_timer(rearm_cb, NULL, 0);
    event_loop(0);
    CHECK_INT(fired[3], 1);
    event_loop(0);
    CHECK_INT(fired[3], 2);
    event_cancel_timer(rearm_cb, NULL);
}

UNIT_TEST(test_fds)
{
    if (pipe(pipe_fds) < 0)
        abort();
    event_read(pipe_fds[0], read_cb, (void *) 0);
    event_loop(0.05);
    CHECK_INT(fired[0], 0);
    CHECK_INT(write(pipe_fds[1], "ab", 2), 2);
    event_loop(1);
    CHECK_INT(fired[0], 1);
    event_loop(0.05);                   /* cancelled: not called again */
    CHECK_INT(fired[0], 1);
}

static void
hup_cb(int fd, int events, void *ctx)
{
    if (events & EVENT_ERROR)
        fired[2]++;
    event_cancel_fd(fd);
}

UNIT_TEST(test_hangup)
{
    if (pipe(pipe_fds) < 0)
        abort();
    event_read(pipe_fds[0], hup_cb, NULL);
    close(pipe_fds[1]);
    event_loop(1);
    CHECK_INT(fired[2], 1);
}

static int calls[2];

static void
count_cb(int fd, int events, void *ctx)
{
    char    buf[16];

    calls[(long) ctx]++;
    while (read(fd, buf, sizeof(buf)) > 0)
        /* drain */ ;
}

/* A forked child gets its own interest set: what it cancels or adds does
 * not change the parent's. */
UNIT_TEST(test_fork)
{
    int     a[2], b[2], status = -1;
    pid_t   pid;

    if (pipe2(a, O_NONBLOCK) < 0 || pipe2(b, O_NONBLOCK) < 0)
        abort();
    calls[0] = calls[1] = 0;
    event_read(a[0], count_cb, (void *) 0);
    event_loop(0);
    if ((pid = fork()) == 0) {
        event_cancel_fd(a[0]);
        event_read(b[0], count_cb, (void *) 1);
        if (write(b[1], "x", 1) != 1)
            _exit(2);
        event_loop(1);
        _exit(calls[1] == 1 && calls[0] == 0 ? 0 : 1);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK_INT(status, 0);
    CHECK_INT(write(a[1], "y", 1), 1);
    event_loop(1);
    CHECK_INT(calls[0], 1);
    CHECK_INT(calls[1], 0);
    event_cancel_fd(a[0]);
}

/* A descriptor closed without a cancel while its open file lives on (a
 * dup here; another process in real life), and the number reused: the new
 * handler sees only its own file's events, once. */
UNIT_TEST(test_reuse_after_close)
{
    int     p[2], q[2], keep;

    if (pipe2(p, O_NONBLOCK) < 0)
        abort();
    calls[0] = calls[1] = 0;
    event_read(p[0], count_cb, (void *) 0);
    keep = dup(p[0]);
    close(p[0]);                                /* no cancel */
    if (pipe2(q, O_NONBLOCK) < 0)
        abort();
    CHECK_INT(q[0], p[0]);                      /* the number is reused */
    event_read(q[0], count_cb, (void *) 1);
    CHECK_INT(write(p[1], "old", 3), 3);        /* the stale registration fires */
    CHECK_INT(write(q[1], "new", 3), 3);
    for (int i = 0; i < 5; i++)
        event_loop(0.05);
    CHECK_INT(calls[0], 0);
    CHECK_INT(calls[1], 1);
    event_cancel_fd(q[0]);
    close(keep);
}

/* A descriptor epoll refuses (a regular file) is ready in every round,
 * as poll() had it, and the loop does not sleep while it is watched. */
UNIT_TEST(test_regular_file)
{
    char    path[] = "/tmp/test_events.XXXXXX";
    int     fd = mkstemp(path);
    double  start = event_now();

    CHECK(fd >= 0);
    (void) unlink(path);
    calls[0] = 0;
    event_read(fd, count_cb, (void *) 0);
    event_loop(5);
    event_loop(5);
    CHECK_INT(calls[0], 2);
    CHECK(event_now() - start < 5);             /* did not sleep out a round */
    event_cancel_fd(fd);
    close(fd);
    event_loop(0.05);
    CHECK_INT(calls[0], 2);
}

UNIT_TESTS {
    {"timers", test_timers},
    {"fds", test_fds},
    {"hangup", test_hangup},
    {"fork", test_fork},
    {"reuse_after_close", test_reuse_after_close},
    {"regular_file", test_regular_file},
    UNIT_END
};
