/*
 * test_pidfile.c - the locked master.pid file: format, holder, stale files.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pidfile.h"
#include "unit.h"

/* Named once, so a forked child uses the same file. */
static char *
tmp_path(void)
{
    static char path[64];

    if (path[0] == 0)
        snprintf(path, sizeof(path), "/tmp/test_pidfile.%ld", (long) getpid());
    return path;
}

UNIT_TEST(test_missing_file_is_not_running)
{
    unlink(tmp_path());
    CHECK(pidfile_holder(tmp_path()) == 0);
}

UNIT_TEST(test_lock_format_and_holder)
{
    int     pipefd[2], fd;
    char    buf[32] = "";
    pid_t   pid;
    FILE   *fp;

    unlink(tmp_path());
    CHECK(pipe(pipefd) == 0);
    if ((pid = fork()) == 0) {
        fd = pidfile_lock(tmp_path());
        (void) write(pipefd[1], fd >= 0 ? "1" : "0", 1);
        pause();
        _exit(0);
    }
    CHECK(read(pipefd[0], buf, 1) == 1 && buf[0] == '1');
    CHECK(pidfile_holder(tmp_path()) == pid);
    /* A second locker fails while the first runs. */
    CHECK(pidfile_lock(tmp_path()) < 0);
    fp = fopen(tmp_path(), "r");
    CHECK(fp != NULL && fgets(buf, sizeof(buf), fp) != NULL);
    if (fp)
        fclose(fp);
    CHECK(strlen(buf) == 11 && buf[10] == '\n' && atol(buf) == (long) pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    /* Stale: the file stays, the lock is gone. */
    CHECK(access(tmp_path(), F_OK) == 0);
    CHECK(pidfile_holder(tmp_path()) == 0);
    unlink(tmp_path());
}

UNIT_TESTS {
    {"missing_file_is_not_running", test_missing_file_is_not_running},
    {"lock_format_and_holder", test_lock_format_and_holder},
    UNIT_END
};
