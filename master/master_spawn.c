/*
 * master_spawn.c - master's children: start, status, reap.
 *
 * Interface: master.h. master_spawn() forks and runs
 *     $daemon_directory/command -c config_dir -n service -t type -s count
 *         [-u] [-r] [-l] [-o stress=[yes]] master.cf-args...
 * with the listen sockets on SERVER_LISTEN_FD.., the write end of the
 * service's status pipe on SERVER_STATUS_FD, both ends of the mail flow
 * pipe (in_flow_delay tokens, lib/global/mail_flow.h) on
 * SERVER_FLOW_READ_FD and SERVER_FLOW_WRITE_FD, stdin/stdout/stderr on
 * /dev/null (postlogd keeps stdout/stderr when master runs in the
 * foreground, for maillog_file = /dev/stdout), and an environment built
 * from $import_environment; inet services get "-o stress=yes" while
 * they are overloaded (master_stress.c), else "-o stress=", and "-l"
 * tells a service's only process (process limit 1) that master will
 * never start another beside it. A new child
 * counts as available until it reports busy. A child that exits
 * abnormally before its first status report (the skeleton sends
 * "available" once its start-up is done, so this is a start-up failure)
 * throttles its service for
 * $service_throttle_time ("bad command startup -- throttling"), as in
 * Postfix; this also stops a fork loop on a program that dies at once.
 * A child that crashes later is simply replaced when work arrives.
 *
 * In the foreground (-s, "postfix start-fg") each child gets a process
 * group of its own, so Ctrl-C reaches master alone and master stops the
 * children in order (postlogd writes the last lines). On shutdown master
 * waits a bounded time for its children (master_wait_children()); the
 * log service (the unix-dgram one, postlogd) is stopped after the
 * others are gone, so the lines they log on their way out (anvil's
 * statistics) are on its socket before it drains it and exits.
 *
 * SECURITY: runs as root. The child closes every descriptor it does not
 * need before exec; the environment is rebuilt, not inherited. Status
 * messages are checked: the pid must be a child of that service.
 *
 * DIAGNOSTICS: in the child, every failure to set up descriptors or to
 * exec the program is fatal (the child exits; master sees a bad start). In
 * master: a failed fork is a warning and throttles the service; a child
 * that exits with a non-zero status or dies by a signal is a warning, and
 * one that failed before it reported ready throttles the service ("bad
 * command startup -- throttling").
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "closefrom.h"
#include "config.h"
#include "connect.h"
#include "events.h"
#include "master.h"
#include "mem.h"
#include "msg.h"
#include "server.h"

static MASTER_PROC *master_procs;

static MASTER_PROC *
master_proc_find(pid_t pid)
{
    MASTER_PROC *proc;

    for (proc = master_procs; proc; proc = proc->next)
        if (proc->pid == pid)
            return proc;
    return NULL;
}

static void
master_proc_unlink(MASTER_PROC *proc)
{
    MASTER_PROC **pp;

    for (pp = &master_procs; *pp; pp = &(*pp)->next) {
        if (*pp == proc) {
            *pp = proc->next;
            return;
        }
    }
}

/* ---- status pipe ------------------------------------------------------- */

static void
master_status_event(int fd, int events, void *ctx)
{
    MASTER_SERV *serv = ctx;
    SERVER_STATUS st[16];
    MASTER_PROC *proc;
    ssize_t n;
    size_t  i;

    n = read(fd, st, sizeof(st));
    if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR))
            event_cancel_read(fd);
        return;
    }
    for (i = 0; i < (size_t) n / sizeof(st[0]); i++) {
        proc = master_proc_find(st[i].pid);
        if (proc == NULL || proc->serv != serv || proc->retired) {
            if (msg_verbose)
                msg_info("service %s: status from unknown pid %ld",
                         serv->name, (long) st[i].pid);
            continue;
        }
        proc->ready = 1;        /* it finished its start-up */
        if (st[i].status == SERVER_STAT_AVAIL && !proc->avail) {
            proc->avail = 1;
            serv->avail_proc++;
        } else if (st[i].status == SERVER_STAT_BUSY && proc->avail) {
            proc->avail = 0;
            serv->avail_proc--;
        }
    }
    master_avail_update(serv);
}

/* The mail flow pipe (in_flow_delay, mail_flow.h): one for all services. */
int     master_flow_fd[2] = {-1, -1};

void
master_flow_init(void)
{
    if (pipe2(master_flow_fd, O_CLOEXEC | O_NONBLOCK) < 0)
        msg_fatal("pipe: %m");
}

void
master_status_init(MASTER_SERV *serv)
{
    if (pipe(serv->status_fd) < 0)
        msg_fatal("pipe: %m");
    fd_cloexec(serv->status_fd[0], 1);
    fd_cloexec(serv->status_fd[1], 1);
    fd_nonblock(serv->status_fd[0], 1);
    event_read(serv->status_fd[0], master_status_event, serv);
}

/* Closing the read end tells the children (they see POLLERR) to finish up. */
void
master_status_close(MASTER_SERV *serv)
{
    int     i;

    for (i = 0; i < 2; i++) {
        if (serv->status_fd[i] >= 0) {
            if (i == 0)
                event_cancel_fd(serv->status_fd[i]);
            (void) close(serv->status_fd[i]);
            serv->status_fd[i] = -1;
        }
    }
}

/*
 * Reload or removal: the children finish their current client and exit
 * (SIGHUP; idle ones exit at once). They keep counting against maxproc
 * while the service lives on; detach: the service is going away.
 */
void
master_retire_children(MASTER_SERV *serv, int detach)
{
    MASTER_PROC *proc;

    for (proc = master_procs; proc; proc = proc->next) {
        if (proc->serv != serv)
            continue;
        if (!proc->retired)
            (void) kill(proc->pid, SIGHUP);
        proc->retired = 1;
        if (proc->avail) {
            proc->avail = 0;
            serv->avail_proc--;
        }
        if (detach) {
            proc->serv = NULL;
            serv->total_proc--;
        }
    }
}

/* Is proc one of those that which (MASTER_CHILD_*) names? */
static int
master_child_is(const MASTER_PROC *proc, int which)
{
    int     log = (proc->serv != NULL && proc->serv->type == MASTER_UNIX_DGRAM);

    return which == MASTER_CHILD_ALL || (which == MASTER_CHILD_LOG) == log;
}

static int
master_children_left(int which)
{
    for (MASTER_PROC *proc = master_procs; proc; proc = proc->next)
        if (master_child_is(proc, which))
            return 1;
    return 0;
}

void
master_kill_children(int sig, int which)
{
    MASTER_PROC *proc;

    for (proc = master_procs; proc; proc = proc->next)
        if (master_child_is(proc, which))
            (void) kill(proc->pid, sig);
}

/* Shutdown: reap children until none of which is left or the time is up. */
void
master_wait_children(double seconds, int which)
{
    struct timespec ts = {0, 50 * 1000000L};
    int     rounds = (int) (seconds * 20);
    MASTER_PROC *proc;
    pid_t   pid;

    while (master_children_left(which) && rounds-- > 0) {
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
            if ((proc = master_proc_find(pid)) != NULL) {
                master_proc_unlink(proc);
                mem_free(proc->path);
                mem_free(proc);
            }
        }
        if (master_children_left(which))
            (void) nanosleep(&ts, NULL);
    }
}

/* ---- the child side ---------------------------------------------------- */

static ARGV *
master_child_env(void)
{
    ARGV   *list = argv_split_list(var_import_environ);
    ARGV   *env = argv_alloc();
    const char *val;
    char   *entry;
    size_t  i;

    for (i = 0; i < list->argc; i++) {
        if (strchr(list->argv[i], '=') != NULL) {
            argv_add(env, list->argv[i]);
        } else if ((val = getenv(list->argv[i])) != NULL) {
            entry = mem_printf("%s=%s", list->argv[i], val);
            argv_add(env, entry);
            mem_free(entry);
        }
    }
    argv_free(list);
    entry = mem_printf("MAIL_CONFIG=%s", master_config_dir);
    argv_add(env, entry);
    mem_free(entry);
    return env;
}

static ARGV *
master_child_argv(const MASTER_SERV *serv)
{
    ARGV   *av = argv_alloc();
    char    count[16];
    size_t  i;

    argv_add(av, serv->path);
    argv_add(av, "-c");
    argv_add(av, master_config_dir);
    argv_add(av, "-n");
    argv_add(av, serv->name);
    argv_add(av, "-t");
    argv_add(av, serv->type_name);
    snprintf(count, sizeof(count), "%d", serv->listen_count);
    argv_add(av, "-s");
    argv_add(av, count);
    if (serv->unpriv)
        argv_add(av, "-u");
    if (serv->chroot)
        argv_add(av, "-r");
    if (serv->maxproc == 1)
        argv_add(av, "-l");
    if (serv->type == MASTER_INET) {            /* before master.cf's own -o */
        char   *stress = mem_printf("stress=%s", master_stress_value(serv));

        argv_add(av, "-o");
        argv_add(av, stress);
        mem_free(stress);
    }
    for (i = 0; i < serv->args->argc; i++)
        argv_add(av, serv->args->argv[i]);
    return av;
}

/* Put fd src at target without disturbing the other sources. */
static void
master_child_fds(const MASTER_SERV *serv)
{
    int     high = SERVER_LISTEN_FD + serv->listen_count;
    int     tmp_status, tmp_flow[2], tmp[serv->listen_count > 0 ? serv->listen_count : 1];
    int     i, null_fd, keep_out;
    const char *base = strrchr(serv->command, '/');

    base = base ? base + 1 : serv->command;
    keep_out = master_foreground && strcmp(base, "postlogd") == 0;
    if ((tmp_status = fcntl(serv->status_fd[1], F_DUPFD, high)) < 0)
        msg_fatal("master_spawn: dup status pipe: %m");
    for (i = 0; i < 2; i++)
        if ((tmp_flow[i] = fcntl(master_flow_fd[i], F_DUPFD, high)) < 0)
            msg_fatal("master_spawn: dup flow pipe: %m");
    for (i = 0; i < serv->listen_count; i++)
        if ((tmp[i] = fcntl(serv->listen_fds[i], F_DUPFD, high)) < 0)
            msg_fatal("master_spawn: dup listen socket: %m");
    if ((null_fd = open("/dev/null", O_RDWR)) < 0)
        msg_fatal("master_spawn: open /dev/null: %m");
    (void) dup2(null_fd, STDIN_FILENO);
    if (!keep_out) {
        (void) dup2(null_fd, STDOUT_FILENO);
        (void) dup2(null_fd, STDERR_FILENO);
    }
    if (dup2(tmp_status, SERVER_STATUS_FD) < 0)
        msg_fatal("master_spawn: dup2 status: %m");
    if (dup2(tmp_flow[0], SERVER_FLOW_READ_FD) < 0
        || dup2(tmp_flow[1], SERVER_FLOW_WRITE_FD) < 0)
        msg_fatal("master_spawn: dup2 flow pipe: %m");
    for (i = 0; i < serv->listen_count; i++)
        if (dup2(tmp[i], SERVER_LISTEN_FD + i) < 0)
            msg_fatal("master_spawn: dup2 listen: %m");
    /* Everything from 'high' up belongs to master. */
    if (closefrom_keep(high, NULL, 0, 0) < 0)
        msg_fatal("master_spawn: close descriptors from %d up: %m", high);
}

static void
master_child(MASTER_SERV *serv, ARGV *av, ARGV *env)
{
    master_sig_child_reset();
    /*
     * In the foreground, Ctrl-C sends SIGINT to the terminal's process
     * group: only master should get it (and stop its children in order),
     * so the children get a group of their own. postlogd may then write
     * to the terminal from a background group: no SIGTTOU stop for that.
     */
    if (master_foreground) {
        (void) setpgid(0, 0);
        (void) signal(SIGTTOU, SIG_IGN);
    }
    msg_logging_close();
    master_child_fds(serv);
    execve(serv->path, av->argv, env->argv);
    msg_fatal("master_spawn: exec %s: %m", serv->path);
}

/* ---- starting and reaping ---------------------------------------------- */

void
master_spawn(MASTER_SERV *serv)
{
    ARGV   *av;
    ARGV   *env = master_child_env();
    MASTER_PROC *proc;
    pid_t   pid;

    master_stress_spawn(serv);
    av = master_child_argv(serv);
    master_sig_block(1);
    pid = fork();
    if (pid == 0)
        master_child(serv, av, env);
    master_sig_block(0);
    argv_free(av);
    argv_free(env);
    if (pid < 0) {
        msg_warn("master_spawn: fork: %m -- throttling");
        master_throttle(serv);
        return;
    }
    if (msg_verbose)
        msg_info("spawn %s pid %ld", serv->path, (long) pid);
    proc = mem_alloc(sizeof(*proc));
    proc->pid = pid;
    proc->serv = serv;
    proc->path = mem_strdup(serv->path);
    proc->avail = 1;
    proc->next = master_procs;
    master_procs = proc;
    serv->total_proc++;
    serv->avail_proc++;
    if (serv->wakeup > 0 && serv->wakeup_cond && !serv->wakeup_armed)
        master_wakeup_init(serv);
    master_avail_update(serv);
}

static void
master_reaped(MASTER_PROC *proc, int status)
{
    MASTER_SERV *serv = proc->serv;
    int     normal = WIFEXITED(status) && WEXITSTATUS(status) == 0;

    if (serv) {
        serv->total_proc--;
        if (proc->avail)
            serv->avail_proc--;
    }
    if (!normal) {
        if (WIFSIGNALED(status))
            msg_warn("process %s pid %ld killed by signal %d",
                     proc->path, (long) proc->pid, WTERMSIG(status));
        else
            msg_warn("process %s pid %ld exit status %d",
                     proc->path, (long) proc->pid, WEXITSTATUS(status));
    }
    if (serv == NULL)
        return;
    if (!normal && !proc->ready && !proc->retired && !serv->throttled) {
        msg_warn("%s: bad command startup -- throttling", proc->path);
        master_throttle(serv);
    }
    /* A service that should always run (qmgr) comes back promptly. */
    if (serv->wakeup > 0 && !serv->wakeup_cond && serv->total_proc == 0)
        master_wakeup_soon(serv);
    master_avail_update(serv);
}

void
master_reap_children(void)
{
    MASTER_PROC *proc;
    pid_t   pid;
    int     status;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if ((proc = master_proc_find(pid)) == NULL)
            continue;
        master_proc_unlink(proc);
        master_reaped(proc, status);
        mem_free(proc->path);
        mem_free(proc);
    }
}
