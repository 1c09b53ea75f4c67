/*
 * spawn_command.c - run the configured command on a client connection.
 *
 * Interface (spawn.h):
 *   spawn_parse_attr()    "user=name[:group]" (required, never root or
 *       $mail_owner) and "argv=command args..." (required, last: every
 *       argument after it belongs to the command). Anything else is an
 *       error, as in Postfix.
 *   (user= through command_user_parse(), the time limit and the
 *   environment through command_time_limit() and command_environment():
 *   lib/global/command_attr.c, shared with pipe)
 *   spawn_run()           fork; the child starts a new session, puts the
 *       connection on descriptors 0, 1 and 2, closes the rest, drops to
 *       user= and execs the command directly (no shell); the parent waits
 *       at most the time limit, then kills the command's process group.
 *       Logged as Postfix's spawn does: "warning: command /path exit
 *       status N", "warning: command /path killed by signal N", and
 *       before the kill "warning: /path: process id N: command time
 *       limit exceeded".
 *
 * SECURITY: the parent is root; the child switches ids with priv_drop()
 * (setgroups, setresgid, setresuid, then a check that root cannot come
 * back) before it runs anything. The command's argv comes from master.cf
 * only; client data reaches it through the socket alone.
 *
 * DIAGNOSTICS: an out-of-range time limit is fatal; in the command child
 * every set-up failure (dup2, close-on-exec, chdir, exec) is fatal (the
 * child exits). In spawn: a failed fork, a command over its time limit
 * (killed), a non-zero exit status and a death by signal are warnings.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "closefrom.h"
#include "command_attr.h"
#include "config.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "sigreset.h"
#include "spawn.h"

#define SPAWN_WAIT_POLL_MS 100      /* fallback without pidfd */

/* "name" or "name:group" -> ids; 0 or -1 with why. */
static int
spawn_parse_user(const char *value, uid_t owner_uid, SPAWN_ATTR *attr, VSTRING *why)
{
    COMMAND_USER u;

    if (command_user_parse(value, owner_uid, &u, why) != 0)
        return -1;
    attr->uid = u.uid;
    attr->gid = u.gid;
    mem_free(u.name);
    mem_free(attr->user);
    attr->user = mem_strdup(value);
    return 0;
}

int
spawn_parse_attr(ARGV *args, uid_t owner_uid, SPAWN_ATTR *attr, VSTRING *why)
{
    size_t  i;

    memset(attr, 0, sizeof(*attr));
    for (i = 0; i < args->argc; i++) {
        const char *arg = args->argv[i];

        if (strncmp(arg, "user=", 5) == 0) {
            if (spawn_parse_user(arg + 5, owner_uid, attr, why) != 0)
                return -1;
        } else if (strncmp(arg, "argv=", 5) == 0) {
            attr->argv = command_argv(args, i);
            break;
        } else {
            vstring_sprintf(why, "unknown attribute name: %s", arg);
            return -1;
        }
    }
    return command_attr_required(attr->user, attr->argv, why);
}

void
spawn_attr_free(SPAWN_ATTR *attr)
{
    mem_free(attr->user);
    argv_free(attr->argv);
    argv_free(attr->env);
    memset(attr, 0, sizeof(*attr));
}

/* The command child: never returns. */
static void
spawn_child(const SPAWN_ATTR *attr, int fd)
{
    sigreset(NULL, 0);                  /* every signal: SIGPIPE was ignored */
    alarm(0);
    (void) setsid();
    if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
        msg_fatal("dup2: %m");
    /* close-on-exec, not close: the log socket stays usable until exec */
    if (closefrom_keep(3, NULL, 0, CLOSEFROM_CLOEXEC) < 0)
        msg_fatal("mark descriptors close-on-exec: %m");
    priv_drop(attr->uid, attr->gid, NULL);
    if (chdir("/") < 0)
        msg_fatal("chdir /: %m");
    execvpe(attr->argv->argv[0], attr->argv->argv, attr->env->argv);
    msg_fatal("execvp %s: %m", attr->argv->argv[0]);
}

/* Wait for pid until deadline; 1 exited (status set), 0 time is up. */
static int
spawn_wait(pid_t pid, time_t deadline, int *status)
{
    int     pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
    int     done = 0;

    while (!done) {
        pid_t   r = waitpid(pid, status, WNOHANG);
        time_t  now = time(NULL);

        if (r == pid || (r < 0 && errno != EINTR)) {
            done = 1;
            break;
        }
        if (now >= deadline)
            break;
        if (pidfd >= 0) {
            struct pollfd p = {.fd = pidfd, .events = POLLIN};
            long    ms = (long) (deadline - now) * 1000;

            (void) poll(&p, 1, ms > 3600000 ? 3600000 : (int) ms);
        } else {
            (void) poll(NULL, 0, SPAWN_WAIT_POLL_MS);
        }
    }
    if (pidfd >= 0)
        (void) close(pidfd);
    return done;
}

void
spawn_run(const SPAWN_ATTR *attr, int fd)
{
    const char *cmd = attr->argv->argv[0];
    int     status = 0;
    pid_t   pid;

    if ((pid = fork()) < 0) {
        msg_warn("fork: %m");
        return;
    }
    if (pid == 0)
        spawn_child(attr, fd);
    if (msg_verbose)
        msg_info("running command %s as %s, pid %ld", cmd, attr->user, (long) pid);
    if (!spawn_wait(pid, time(NULL) + attr->time_limit, &status)) {
        msg_warn("%s: process id %ld: command time limit exceeded", cmd, (long) pid);
        (void) kill(-pid, SIGKILL);
        (void) kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        msg_warn("command %s exit status %d", cmd, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        msg_warn("command %s killed by signal %d", cmd, WTERMSIG(status));
}
