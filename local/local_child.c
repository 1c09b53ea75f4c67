/*
 * local_child.c - the per-delivery child, and who it runs as.
 *
 * Interface (local.h): local_child_run(st, priv, fn, ctx, dsn, why)
 * forks; the child closes every descriptor but the queue file and a
 * result pipe (0, 1, 2 go to /dev/null), clears the environment, sets
 * umask 077, RLIMIT_FSIZE = mailbox_size_limit, alarm(command_time_limit),
 * drops to priv's uid/gid (priv_drop: groups, gid, uid, and a check that
 * root cannot be regained; a priv with uid 0 -- root's own mailbox --
 * keeps root), runs fn, sends "dsn\0reason" back on the pipe and exits
 * with the DELIVER_* status. The parent maps a crash or a missing
 * answer to a deferral.
 *
 * local_priv_user/uid/default look up passwd entries; uid 0 becomes
 * default_privs for commands and files, as Postfix does.
 *
 * SECURITY: this is the privilege boundary of local(8). The parent
 * reads at most LOCAL_REASON_MAX bytes from the child and trusts only
 * the exit status values 0, 4 and 5.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
    struct passwd *pw = getpwnam(local_param("default_privs", "nobody"));

    if (pw == NULL || pw->pw_uid == 0) {
        msg_warn("default_privs user \"%s\" is unknown or root",
                 local_param("default_privs", "nobody"));
        return NULL;
    }
    return local_priv_from_pw(pw);
}

LOCAL_PRIV *
local_priv_uid(uid_t uid)
{
    struct passwd *pw;

    if (uid == 0 || (pw = getpwuid(uid)) == NULL)
        return local_priv_default();
    return local_priv_from_pw(pw);
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

/* Close every descriptor from 3 up except keep_a and keep_b. */
static void
local_close_fds(int keep_a, int keep_b)
{
    int     lo = keep_a < keep_b ? keep_a : keep_b;
    int     hi = keep_a < keep_b ? keep_b : keep_a;

    if (lo > 3)
        close_range(3, (unsigned) lo - 1, 0);
    if (hi > lo + 1)
        close_range((unsigned) lo + 1, (unsigned) hi - 1, 0);
    close_range((unsigned) hi + 1, ~0U, 0);
}

static void
local_child_setup(LOCAL_STATE *st, const LOCAL_PRIV *priv, int result_fd)
{
    struct rlimit rl;
    long    limit = local_param_long("mailbox_size_limit", 51200000);
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
    local_close_fds(result_fd, stream_fd(st->req->fp));
    clearenv();
    umask(077);
    if (limit > 0) {
        rl.rlim_cur = rl.rlim_max = (rlim_t) limit;
        setrlimit(RLIMIT_FSIZE, &rl);
    }
    if (priv->uid != 0)
        priv_drop(priv->uid, priv->gid, NULL);
    if (chdir("/") < 0)
        _exit(DELIVER_DEFER);
    alarm((unsigned) local_param_time("command_time_limit", 1000));
}

/* Read the child's answer: "dsn\0reason". */
static void
local_child_answer(int fd, VSTRING *dsn, VSTRING *why)
{
    char    buf[LOCAL_REASON_MAX + 32];
    size_t  len = 0;
    ssize_t n;

    while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        len += (size_t) n;
    }
    buf[len] = 0;
    vstring_strcpy(dsn, buf);
    if (strlen(buf) < len)
        vstring_strcpy(why, buf + strlen(buf) + 1);
}

int
local_child_run(LOCAL_STATE *st, const LOCAL_PRIV *priv, LOCAL_CHILD_FN fn,
                void *ctx, VSTRING *dsn, VSTRING *why)
{
    int     pfd[2], status, ret;
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
    local_child_answer(pfd[0], dsn, why);
    close(pfd[0]);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            break;
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
