/*
 * mail_flow.c - in_flow_delay tokens (see mail_flow.h).
 *
 * Both pipe ends are non-blocking (master makes them so); a full pipe
 * drops the extra tokens, an empty one is a -1. The descriptors are
 * close-on-exec in the service process: commands that local or pipe run
 * never see them.
 *
 * SECURITY: the tokens carry no data; a process can at worst take tokens
 * (slowing others by at most in_flow_delay per message) or add them
 * (taking the delay away), which is what any service process can do to
 * the queue anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail_flow.h"
#include "server.h"

#define MAIL_FLOW_MAX 256       /* tokens per call */

static int mail_flow_ok;

void
mail_flow_init(void)
{
    struct stat rd, wr;

    mail_flow_ok = fstat(SERVER_FLOW_READ_FD, &rd) == 0 && S_ISFIFO(rd.st_mode)
        && fstat(SERVER_FLOW_WRITE_FD, &wr) == 0 && S_ISFIFO(wr.st_mode)
        && rd.st_ino == wr.st_ino && rd.st_dev == wr.st_dev;
    if (mail_flow_ok) {
        (void) fcntl(SERVER_FLOW_READ_FD, F_SETFD, FD_CLOEXEC);
        (void) fcntl(SERVER_FLOW_WRITE_FD, F_SETFD, FD_CLOEXEC);
    }
}

int
mail_flow_get(int count)
{
    char    buf[MAIL_FLOW_MAX];
    ssize_t n;

    if (!mail_flow_ok || count <= 0 || count > MAIL_FLOW_MAX)
        return -1;
    n = read(SERVER_FLOW_READ_FD, buf, (size_t) count);
    if (n == count)
        return count;
    if (n > 0)                          /* give back what was not enough */
        (void) write(SERVER_FLOW_WRITE_FD, buf, (size_t) n);
    return -1;
}

int
mail_flow_put(int count)
{
    static const char buf[MAIL_FLOW_MAX];

    if (!mail_flow_ok || count <= 0 || count > MAIL_FLOW_MAX)
        return -1;
    return write(SERVER_FLOW_WRITE_FD, buf, (size_t) count) == count ? count : -1;
}

int
mail_flow_count(void)
{
    int     n;

    if (!mail_flow_ok || ioctl(SERVER_FLOW_READ_FD, FIONREAD, &n) < 0)
        return -1;
    return n;
}

void
mail_flow_wait(int count, double seconds)
{
    struct pollfd pfd = {.fd = SERVER_FLOW_READ_FD, .events = POLLIN};
    struct timespec now, end;
    long    left;

    if (!mail_flow_ok || seconds <= 0 || mail_flow_get(count) == count)
        return;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += (time_t) seconds;
    end.tv_nsec += (long) ((seconds - (double) (time_t) seconds) * 1e9);
    if (end.tv_nsec >= 1000000000L) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000L;
    }
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        left = (long) (end.tv_sec - now.tv_sec) * 1000 + (end.tv_nsec - now.tv_nsec) / 1000000;
        if (left <= 0 || (poll(&pfd, 1, (int) left) < 0 && errno != EINTR))
            return;
        if (mail_flow_get(count) == count)      /* another process may win it */
            return;
    }
}
