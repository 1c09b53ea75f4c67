/*
 * test_closefrom.c - closefrom_keep(): descriptors from a number up are
 * closed (or marked close-on-exec) except the kept ones, with
 * close_range(2) and, through a seccomp filter that makes close_range
 * fail with ENOSYS as an old kernel does, with the one-by-one fallback.
 * Each test runs in its own process (unit.c), so the filter stays there.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "closefrom.h"
#include "unit.h"

#define IS_OPEN(fd)     (fcntl((fd), F_GETFD) >= 0)
#define IS_CLOEXEC(fd)  (fcntl((fd), F_GETFD) == FD_CLOEXEC)

/* close_range fails with ENOSYS from now on (this process only). */
static int
no_close_range(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_close_range, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
        || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return -1;
    return syscall(SYS_close_range, 3U, 3U, 0U) < 0 && errno == ENOSYS ? 0 : -1;
}

/* Open /dev/null at each wanted number (the last one near the limit). */
static int
open_fds(int *fds, int n)
{
    struct rlimit rl;
    int     null_fd = open("/dev/null", O_RDONLY);

    if (null_fd < 0 || getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return -1;
    fds[n - 1] = (int) rl.rlim_cur - 1;
    for (int i = 0; i < n; i++)
        if (dup2(null_fd, fds[i]) != fds[i])
            return -1;
    close(null_fd);
    return 0;
}

static void
check_close(void)
{
    int     fds[] = {20, 21, 22, 40, 41, 0};
    int     keep[] = {41, 21, 5, 21};

    CHECK_INT(open_fds(fds, 6), 0);
    CHECK_INT(closefrom_keep(20, keep, 4, 0), 0);
    CHECK(!IS_OPEN(20));
    CHECK(IS_OPEN(21));
    CHECK(!IS_OPEN(22));
    CHECK(!IS_OPEN(40));
    CHECK(IS_OPEN(41));
    CHECK(!IS_OPEN(fds[5]));
    CHECK(IS_OPEN(2));                          /* below low: untouched */
    CHECK_INT(closefrom_keep(3, NULL, 0, 0), 0);
    CHECK(!IS_OPEN(21));
    CHECK(!IS_OPEN(41));
}

static void
check_cloexec(void)
{
    int     fds[] = {30, 31, 0};
    int     keep[] = {31};

    CHECK_INT(open_fds(fds, 3), 0);
    CHECK_INT(closefrom_keep(30, keep, 1, CLOSEFROM_CLOEXEC), 0);
    CHECK(IS_CLOEXEC(30));
    CHECK(IS_OPEN(31) && !IS_CLOEXEC(31));
    CHECK(IS_CLOEXEC(fds[2]));
}

UNIT_TEST(test_close_range)
{
    check_close();
    check_cloexec();
}

UNIT_TEST(test_fallback_without_close_range)
{
    CHECK_INT(no_close_range(), 0);
    check_close();
    check_cloexec();
}

UNIT_TESTS {
    {"test_close_range", test_close_range},
    {"test_fallback_without_close_range", test_fallback_without_close_range},
    UNIT_END
};
