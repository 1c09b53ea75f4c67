/*
 * test_events.c - unit tests for lib/events.c.
 */
#include <stdlib.h>
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

UNIT_TESTS {
    {"timers", test_timers},
    {"fds", test_fds},
    {"hangup", test_hangup},
    UNIT_END
};
