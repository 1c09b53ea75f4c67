/*
 * spawn_command.c - run the configured command on a client connection.
 *
 * Interface (spawn.h):
 *   spawn_parse_attr()    "user=name[:group]" (required, never root or
 *       $mail_owner) and "argv=command args..." (required, last: every
 *       argument after it belongs to the command). Anything else is an
 *       error, as in Postfix.
 *   spawn_time_limit()    <service>_time_limit, else $command_time_limit
 *       (read once, at start-up; a bad value is fatal with its name).
 *   spawn_environment()   the variables named in $export_environment that
 *       we have (the command gets nothing else).
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
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "closefrom.h"
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
    char   *name = mem_strdup(value);
    char   *group = strchr(name, ':');
    struct passwd *pw;
    struct group *gr;
    int     ret = -1;

    if (group)
        *group++ = 0;
    if (*name == 0 || (pw = getpwnam(name)) == NULL) {
        vstring_sprintf(why, "unknown user name: %s", name);
    } else if (group && (*group == 0 || (gr = getgrnam(group)) == NULL)) {
        vstring_sprintf(why, "unknown group name: %s", group);
    } else {
        attr->uid = pw->pw_uid;
        attr->gid = group ? gr->gr_gid : pw->pw_gid;
        if (attr->uid == 0)
            vstring_strcpy(why, "user= command-line attribute specifies root privileges");
        else if (attr->uid == owner_uid)
            vstring_sprintf(why, "user= command-line attribute specifies mail system owner %s",
                            name);
        else if (attr->gid == 0)
            vstring_strcpy(why, "user= command-line attribute specifies privileged group id 0");
        else
            ret = 0;
    }
    if (ret == 0) {
        mem_free(attr->user);
        attr->user = mem_strdup(value);
    }
    mem_free(name);
    return ret;
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
            attr->argv = argv_alloc();
            if (arg[5])
                argv_add(attr->argv, arg + 5);
            for (i++; i < args->argc; i++)
                argv_add(attr->argv, args->argv[i]);
            break;
        } else {
            vstring_sprintf(why, "unknown attribute name: %s", arg);
            return -1;
        }
    }
    if (attr->user == NULL) {
        vstring_strcpy(why, "missing user= command-line attribute");
        return -1;
    }
    if (attr->argv == NULL || attr->argv->argc == 0) {
        vstring_strcpy(why, "missing argv= command-line attribute");
        return -1;
    }
    return 0;
}

/*
 * The name is made from the master.cf service, so it has no entry in
 * lib/params.c: its minimum (1s, as command_time_limit's) is checked
 * here, fatal with the same words as the table's bounds.
 */
long
spawn_time_limit(const char *service, long dflt)
{
    char   *name = mem_printf("%s_time_limit", service);
    long    secs = dflt;

    if (config_lookup(name) != NULL && (secs = config_time(name)) < 1)
        msg_fatal("invalid %s parameter value %ld < %d", name, secs, 1);
    mem_free(name);
    return secs;
}

ARGV   *
spawn_environment(const char *export_list)
{
    ARGV   *export = argv_split_list(export_list);
    ARGV   *env = argv_alloc();
    size_t  i;

    for (i = 0; i < export->argc; i++) {
        const char *value = getenv(export->argv[i]);

        if (value && strchr(export->argv[i], '=') == NULL) {
            char   *kv = mem_printf("%s=%s", export->argv[i], value);
            argv_add(env, kv);
            mem_free(kv);
        }
    }
    argv_free(export);
    return env;
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
