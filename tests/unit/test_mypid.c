/*
 * test_mypid.c - unit tests for lib/util/mypid.c.
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mypid.h"
#include "unit.h"

/* getpid() calls, counted: this replaces libc's for mypid.c. */
static int n_getpid;

pid_t
getpid(void)
{
    n_getpid++;
    return (pid_t) syscall(SYS_getpid);
}

/* The kernel is asked once; a forked child gets its own pid, not ours. */
UNIT_TEST(test_my_pid)
{
    pid_t   self = (pid_t) syscall(SYS_getpid);
    pid_t   child;
    int     status = 0;

    n_getpid = 0;
    CHECK_INT(my_pid(), self);
    CHECK_INT(my_pid(), self);
    CHECK_INT(my_pid(), self);
    CHECK_INT(n_getpid, 1);
    if ((child = fork()) == 0)
        _exit(my_pid() == (pid_t) syscall(SYS_getpid) && my_pid() != self ? 0 : 1);
    CHECK(child > 0);
    CHECK_INT(waitpid(child, &status, 0), child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(my_pid(), self);
}

UNIT_TESTS {
    {"my_pid", test_my_pid},
    UNIT_END
};
