/*
 * master_daemon.c - becoming the one running master.
 *
 * Interface: master.h. master_detach() forks; the parent either exits at
 * once or (-w) waits until the child reports that start-up succeeded
 * (sockets open, pid file locked) and exits 0, or 1 when the child died
 * first. master_ready() sends that report and moves stdin/stdout/stderr to
 * /dev/null (not in the foreground modes). master_pid_lock() takes the
 * fcntl() lock on $queue_directory/pid/master.pid (pidfile.h); a second
 * master fails there. master_pid_remove() unlinks it on the way out.
 *
 * SECURITY: runs as root in queue_directory; the pid directory is created
 * root-owned 0755.
 *
 * DIAGNOSTICS: fatal: a failed pipe() or fork() while detaching, a pid
 * directory that cannot be made, a lock file that cannot be opened or
 * locked (another master runs). A failed setsid() is a warning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "master.h"
#include "msg.h"
#include "pidfile.h"

static int master_ready_fd = -1;
static int master_pid_fd = -1;
static int master_pid_owner;

void
master_detach(int wait_for_child)
{
    int     fds[2];
    pid_t   pid;
    char    ch;
    ssize_t n;
    int     status;

    if (wait_for_child && pipe(fds) < 0)
        msg_fatal("pipe: %m");
    if ((pid = fork()) < 0)
        msg_fatal("fork: %m");
    if (pid > 0) {
        if (!wait_for_child)
            _exit(0);
        close(fds[1]);
        do {
            n = read(fds[0], &ch, 1);
        } while (n < 0 && errno == EINTR);
        if (n == 1 && ch == '0')
            _exit(0);
        (void) waitpid(pid, &status, WNOHANG);
        _exit(1);
    }
    if (wait_for_child) {
        close(fds[0]);
        master_ready_fd = fds[1];
    }
    if (setsid() < 0)
        msg_warn("setsid: %m");
}

void
master_ready(void)
{
    int     fd;

    if (!master_foreground && (fd = open("/dev/null", O_RDWR)) >= 0) {
        (void) dup2(fd, STDIN_FILENO);
        (void) dup2(fd, STDOUT_FILENO);
        (void) dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    if (master_ready_fd >= 0) {
        (void) write(master_ready_fd, "0", 1);
        close(master_ready_fd);
        master_ready_fd = -1;
    }
}

void
master_pid_lock(void)
{
    if (mkdir("pid", 0755) < 0 && errno != EEXIST)
        msg_fatal("mkdir pid (in queue_directory): %m");
    if ((master_pid_fd = pidfile_lock(MASTER_PID_FILE)) < 0) {
        if (errno == EAGAIN || errno == EACCES)
            msg_fatal("open lock file %s: unable to set exclusive lock: %m",
                      MASTER_PID_FILE);
        msg_fatal("open lock file %s: %m", MASTER_PID_FILE);
    }
    master_pid_owner = getpid();
}

void
master_pid_remove(void)
{
    if (master_pid_fd >= 0 && master_pid_owner == getpid()) {
        (void) unlink(MASTER_PID_FILE);
        close(master_pid_fd);
        master_pid_fd = -1;
    }
}
