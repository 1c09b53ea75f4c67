/*
 * local_child.c - who a delivery runs as: in local itself with the
 * recipient's effective ids (files), or in a forked child (commands).
 *
 * Interface (local.h):
 *
 * local_euid_run(st, priv, fn, ctx, dsn, why) runs fn in this process
 * with only the effective uid and gid (and the group list, the one group
 * of priv, as Postfix's set_eugid) switched to priv's -- a priv with uid
 * 0, root's own mailbox, keeps root -- under alarm(command_time_limit),
 * then switches back to root on every path (a failure to do so is
 * fatal); the server's watchdog alarm gets back the time it had left. Mailbox, Maildir and
 * file deliveries (local_mbox.c) use it: no fork per delivery, as in
 * Postfix's local. local_init() sets umask 077 and RLIMIT_FSIZE =
 * mailbox_size_limit (SIGXFSZ ignored) for the whole process once.
 *
 * local_child_run(st, priv, fn, ctx, dsn, why) forks; the child closes
 * every descriptor but the queue file and a result pipe (0, 1, 2 go to
 * /dev/null; closefrom_keep), clears the environment, sets umask 077,
 * RLIMIT_FSIZE = mailbox_size_limit, alarm(command_time_limit), switches
 * its effective uid and gid (and groups) to priv's, runs fn, sends
 * "dsn\0reason" back on the pipe and exits with the DELIVER_* status. The
 * parent waits at most command_time_limit + LOCAL_CHILD_GRACE seconds,
 * then kills the child and defers; a crash or a missing answer is a
 * deferral too. The parent polls the answer pipe and then a pidfd of the
 * child, so it reaps the child the moment it exits; only a kernel
 * without pidfd_open (< 5.3) makes it poll waitpid() every 10 ms
 * (docs/PERFORMANCE.md). Commands (local_command.c) use it and drop all
 * ids to the user in a grandchild just before exec.
 *
 * local_priv_user/uid/default look up passwd entries (uid 0 is root's
 * own entry: the rights of a root-owned alias file or of root's
 * .forward). local_priv_run() gives who commands and files really run
 * as: never root (uid 0 -> default_privs, gid 0 -> its group), as in
 * Postfix; only the mailbox itself is written as root.
 *
 * SECURITY: this is the privilege boundary of local(8). Both ways keep
 * root as the real and saved uid while the effective ids are the
 * recipient's, so that the recipient, whose files are written, can
 * neither signal (kill(2) needs the sender's real or effective uid to be
 * the target's real or saved uid) nor trace the process (ptrace and
 * /proc/PID/fd need all of its uids to match, and the id change makes it
 * non-dumpable), and so cannot stall the local service.
 *
 * Files are written in-process: what the fork used to add -- a clean
 * environment, closed descriptors, a private address space, a kill by
 * the parent -- only matters for a program we exec or for code that can
 * be stopped; the file code is this program's own, runs only on
 * descriptors it opened itself, opens with O_NOFOLLOW|O_NONBLOCK and
 * refuses all but regular files (local_mbox.c), so it cannot block on a
 * FIFO or a device. The time limit stays: alarm() with SIGALRM's default
 * action (the server skeleton's, as its watchdog) ends local itself when
 * a delivery does not finish in command_time_limit -- master logs the
 * signal, qmgr defers the request -- where the child used to be killed
 * alone (a spool mailbox dot lock is then left to stale_lock_time).
 * Everything a user controls (commands, mailbox_command) still runs in
 * a forked child, after a full drop in a grandchild; root never runs a
 * command from mail. The parent reads at most LOCAL_REASON_MAX bytes
 * from a child and trusts only the exit status values 0, 4 and 5.
 *
 * DIAGNOSTICS: an effective id switch that cannot be undone is fatal
 * (local must not go on as a user). Otherwise none fatal; an unusable
 * default_privs user is a warning and defers the recipient. A delivery
 * child that cannot start (fork, ids) defers with the reason through its
 * result pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "closefrom.h"
#include "local.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"

static LOCAL_PRIV *
local_priv_from_pw(const struct passwd *pw)
{
    LOCAL_PRIV *p = mem_alloc(sizeof(*p));

    p->uid = pw->pw_uid;
    p->gid = pw->pw_gid;
    p->name = mem_strdup(pw->pw_name);
    p->home = mem_strdup(pw->pw_dir ? pw->pw_dir : "/");
    p->shell = mem_strdup(pw->pw_shell ? pw->pw_shell : "");
    return p;
}

LOCAL_PRIV *
local_priv_user(const char *name)
{
    struct passwd *pw;

    if (*name == 0 || strlen(name) > 256 || (pw = getpwnam(name)) == NULL)
        return NULL;
    return local_priv_from_pw(pw);
}

LOCAL_PRIV *
local_priv_default(void)
{
    struct passwd *pw = getpwnam(var_default_privs);

    if (pw == NULL || pw->pw_uid == 0 || pw->pw_gid == 0) {
        msg_warn("default_privs user \"%s\" is unknown or has privileged ids",
                 var_default_privs);
        return NULL;
    }
    return local_priv_from_pw(pw);
}

/* The owner of a file (alias table, include file); unknown -> default_privs. */
LOCAL_PRIV *
local_priv_uid(uid_t uid)
{
    struct passwd *pw;

    if ((pw = getpwuid(uid)) == NULL)
        return local_priv_default();
    return local_priv_from_pw(pw);
}

LOCAL_PRIV *
local_priv_run(const LOCAL_PRIV *p)
{
    LOCAL_PRIV *d, *c;

    if (p->uid != 0 && p->gid != 0)
        return local_priv_copy(p);
    if ((d = local_priv_default()) == NULL || p->uid == 0)
        return d;
    c = local_priv_copy(p);
    c->gid = d->gid;
    local_priv_free(d);
    return c;
}

LOCAL_PRIV *
local_priv_copy(const LOCAL_PRIV *p)
{
    LOCAL_PRIV *c = mem_alloc(sizeof(*c));

    *c = *p;
    c->name = mem_strdup(p->name);
    c->home = mem_strdup(p->home);
    c->shell = mem_strdup(p->shell);
    return c;
}

void
local_priv_free(LOCAL_PRIV *p)
{
    if (p == NULL)
        return;
    mem_free(p->name);
    mem_free(p->home);
    mem_free(p->shell);
    mem_free(p);
}

/* The child cannot start the delivery: answer on the pipe and exit. */
static void __attribute__((noreturn))
local_child_fail(int result_fd, const char *what)
{
    char    buf[200];
    int     n = snprintf(buf, sizeof(buf), "4.3.0%c%s: %s", 0, what, strerror(errno));

    if (n > 0)
        (void) write(result_fd, buf, (size_t) n < sizeof(buf) ? (size_t) n : sizeof(buf) - 1);
    _exit(DELIVER_DEFER);
}

static void
local_child_setup(LOCAL_STATE *st, const LOCAL_PRIV *priv, int result_fd)
{
    int     keep[2] = {result_fd, stream_fd(st->req->fp)};
    long    limit = var_mailbox_size_limit;
    struct rlimit rl;
    int     null_fd;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGALRM, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    if ((null_fd = open("/dev/null", O_RDWR)) >= 0) {
        dup2(null_fd, 0);
        dup2(null_fd, 1);
        dup2(null_fd, 2);
        if (null_fd > 2)
            close(null_fd);
    }
    if (closefrom_keep(3, keep, 2, 0) < 0)
        local_child_fail(result_fd, "cannot close descriptors");
    clearenv();
    umask(077);
    if (limit > 0) {
        rl.rlim_cur = rl.rlim_max = (rlim_t) limit;
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    /* Effective ids only: real and saved uid stay root (see SECURITY). */
    if (priv->uid != 0 && priv_set_euid(priv->uid, priv->gid) < 0)
        local_child_fail(result_fd, "cannot switch to the recipient's ids");
    if (chdir("/") < 0)
        local_child_fail(result_fd, "cannot change directory to /");
    alarm((unsigned) var_command_time_limit);
}

static double
local_child_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* A descriptor that poll() reports readable when the child has exited;
 * -1 without pidfd_open (kernel < 5.3). Close-on-exec. */
static int
local_child_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int) syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

/* Reap the child before deadline: 0, or -1 when the time is up (the child
 * is then still there). Woken by the pidfd, or without one every 10 ms. */
static int
local_child_reap(pid_t pid, int pidfd, double deadline, int *status)
{
    double  left;

    for (;;) {
        pid_t   r = waitpid(pid, status, WNOHANG);

        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR) {
            *status = DELIVER_DEFER << 8;       /* not ours to reap: a failure */
            return 0;
        }
        if ((left = deadline - local_child_now()) <= 0)
            return -1;
        if (pidfd >= 0) {
            struct pollfd p = {pidfd, POLLIN, 0};

            (void) poll(&p, 1, (int) (left * 1000) + 1);
        } else {
            usleep(10000);
        }
    }
}

/*
 * Read the child's answer ("dsn\0reason", at most LOCAL_REASON_MAX + 32
 * bytes) up to end of file, then reap it; all before deadline. Returns 0,
 * or -1 when the time is up (the child is then still there).
 */
static int
local_child_wait(pid_t pid, int pidfd, int fd, double deadline, int *status, VSTRING *dsn,
                 VSTRING *why)
{
    char    buf[LOCAL_REASON_MAX + 32];
    size_t  len = 0;
    ssize_t n;
    double  left;

    while (fd >= 0 && (left = deadline - local_child_now()) > 0) {
        struct pollfd p = {fd, POLLIN, 0};

        if (poll(&p, 1, (int) (left * 1000) + 1) <= 0)
            continue;                           /* EINTR, or the time is up */
        n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n > 0)
            len += (size_t) n;
        if (n == 0 || (n < 0 && errno != EINTR) || len == sizeof(buf) - 1)
            fd = -1;                            /* end of the answer */
    }
    buf[len] = 0;
    vstring_strcpy(dsn, buf);
    if (strlen(buf) < len)
        vstring_strcpy(why, buf + strlen(buf) + 1);
    return local_child_reap(pid, pidfd, deadline, status);
}

/*
 * In this process, as priv (effective ids only), under the time limit;
 * root again afterwards on every path. The server's watchdog alarm
 * (daemon_timeout, far longer) is set again to what it had left before
 * the delivery: it catches a hang outside deliveries, this alarm one in.
 */
int
local_euid_run(LOCAL_STATE *st, const LOCAL_PRIV *priv, LOCAL_CHILD_FN fn,
               void *ctx, VSTRING *dsn, VSTRING *why)
{
    unsigned limit = (unsigned) var_command_time_limit, watchdog;
    int     ret, err, as_user = priv->uid != 0;

    (void) st;
    vstring_reset(dsn);
    vstring_reset(why);
    if (as_user && priv_set_euid(priv->uid, priv->gid) < 0) {
        err = errno;
        if (priv_restore_root() < 0)
            msg_fatal("cannot restore root privileges: %m");
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "cannot switch to the recipient's ids: %s", strerror(err));
        return DELIVER_DEFER;
    }
    watchdog = alarm(limit);
    ret = fn(ctx, dsn, why);
    alarm(watchdog);                            /* ours off, the watchdog's back */
    if (as_user && priv_restore_root() < 0)
        msg_fatal("cannot restore root privileges after a delivery as uid %ld: %m",
                  (long) priv->uid);
    if (ret != DELIVER_SENT && ret != DELIVER_BOUNCE)
        ret = DELIVER_DEFER;
    return ret;
}

int
local_child_run(LOCAL_STATE *st, const LOCAL_PRIV *priv, LOCAL_CHILD_FN fn,
                void *ctx, VSTRING *dsn, VSTRING *why)
{
    long    limit = var_command_time_limit;
    int     pfd[2], pidfd, status = 0, ret;
    pid_t   pid;

    vstring_reset(dsn);
    vstring_reset(why);
    if (pipe(pfd) < 0 || (pid = fork()) < 0) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "cannot start delivery process: %s", strerror(errno));
        return DELIVER_DEFER;
    }
    if (pid == 0) {
        close(pfd[0]);
        local_child_setup(st, priv, pfd[1]);
        ret = fn(ctx, dsn, why);
        if (ret != DELIVER_SENT && ret != DELIVER_BOUNCE)
            ret = DELIVER_DEFER;
        if (write(pfd[1], STR(dsn), LEN(dsn) + 1) < 0
            || write(pfd[1], STR(why), LEN(why)) < 0)
            _exit(DELIVER_DEFER);
        _exit(ret);
    }
    close(pfd[1]);
    pidfd = local_child_pidfd(pid);             /* the child is not reaped yet: it is ours */
    ret = local_child_wait(pid, pidfd, pfd[0],
                           local_child_now() + (double) limit + LOCAL_CHILD_GRACE,
                           &status, dsn, why);
    close(pfd[0]);
    if (pidfd >= 0)
        close(pidfd);
    if (ret < 0) {
        kill(pid, SIGKILL);                     /* also when it is stopped */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "delivery process did not finish within %ld seconds: killed",
                        limit + LOCAL_CHILD_GRACE);
        return DELIVER_DEFER;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == DELIVER_SENT)
        return DELIVER_SENT;
    if (WIFEXITED(status) && (WEXITSTATUS(status) == DELIVER_DEFER
                              || WEXITSTATUS(status) == DELIVER_BOUNCE)
        && LEN(dsn) >= 5 && LEN(dsn) < 16 && STR(dsn)[0] == '0' + WEXITSTATUS(status))
        return WEXITSTATUS(status);
    vstring_strcpy(dsn, "4.3.0");
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        vstring_strcpy(why, "delivery time limit exceeded");
    else if (WIFSIGNALED(status))
        vstring_sprintf(why, "delivery process killed by signal %d", WTERMSIG(status));
    else
        vstring_sprintf(why, "delivery process failed with status %d", WEXITSTATUS(status));
    return DELIVER_DEFER;
}
