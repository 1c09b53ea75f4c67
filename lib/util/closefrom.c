/*
 * closefrom.c - close (or mark close-on-exec) every descriptor from a
 * given number up, except a few. Interface: closefrom.h.
 *
 * SECURITY: this is what keeps queue files, IPC sockets and listening
 * sockets away from user commands and from processes that changed their
 * user id. The fallback for kernels without close_range(2) walks every
 * descriptor up to the RLIMIT_NOFILE soft limit, so nothing below the
 * limit is missed; the kernel does not hand out descriptors above it.
 *
 * DIAGNOSTICS: none; a failure is a -1 return with errno (callers in a
 * child exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "closefrom.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#define CLOSE_RANGE_CLOEXEC_FLAG (1U << 2)     /* linux/close_range.h */

static unsigned closefrom_count;

unsigned
closefrom_epoch(void)
{
    return closefrom_count;
}

/* The highest descriptor number the fallback must look at. */
static int
closefrom_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY
        || rl.rlim_cur > CLOSEFROM_FALLBACK_MAX)
        return CLOSEFROM_FALLBACK_MAX - 1;
    return rl.rlim_cur > 0 ? (int) rl.rlim_cur - 1 : 0;
}

/* Descriptors lo..hi, one at a time. */
static int
closefrom_each(int lo, int hi, int flags)
{
    int     fd;

    for (fd = lo; fd <= hi; fd++) {
        if (flags & CLOSEFROM_CLOEXEC) {
            if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 && errno != EBADF)
                return -1;
        } else {
            (void) close(fd);           /* Linux frees fd even on EINTR/EIO */
        }
    }
    return 0;
}

/* Descriptors lo..hi (hi -1: to the end). *fallback sticks once set. */
static int
closefrom_range(int lo, int hi, int flags, int *fallback)
{
    unsigned kflags = (flags & CLOSEFROM_CLOEXEC) ? CLOSE_RANGE_CLOEXEC_FLAG : 0;

    if (!*fallback) {
        if (syscall(SYS_close_range, (unsigned) lo, hi < 0 ? ~0U : (unsigned) hi, kflags) == 0)
            return 0;
        if (errno != ENOSYS && errno != EPERM && !(errno == EINVAL && kflags))
            return -1;
        *fallback = 1;
    }
    if (hi < 0)
        hi = closefrom_limit();
    return closefrom_each(lo, hi, flags);
}

int
closefrom_keep(int low, const int *keep, size_t nkeep, int flags)
{
    int     fallback = 0, next = low < 0 ? 0 : low;

    closefrom_count++;
    /* Walk the kept descriptors in ascending order without sorting a copy. */
    for (;;) {
        int     k = -1;
        size_t  i;

        for (i = 0; i < nkeep; i++)
            if (keep[i] >= next && (k < 0 || keep[i] < k))
                k = keep[i];
        if (k < 0)
            return closefrom_range(next, -1, flags, &fallback);
        if (k > next && closefrom_range(next, k - 1, flags, &fallback) < 0)
            return -1;
        if (k == INT_MAX)
            return 0;
        next = k + 1;
    }
}
