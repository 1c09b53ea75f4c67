/*
 * postfix_ctl.c - postfix start/stop/abort/reload/status/flush.
 *
 * Interface: postfix.h. "Running" means: a process holds the fcntl() lock
 * on $queue_directory/pid/master.pid (pidfile.h), which is what
 * "master -t" tests too.
 *
 *   start     fail if running; check (create missing directories);
 *             prepare the chroot jail (postfix_chroot.c); log
 *             "starting the Postfix mail system"; run "master -w", which
 *             returns once the daemon is up (exit 0) or failed (exit 1).
 *   start-fg  the same, then exec master in the foreground.
 *   stop      SIGTERM to master; wait up to 5 seconds, then SIGKILL to
 *             master's process group ("stopping ... with force").
 *   abort     SIGQUIT: master kills its children outright and exits.
 *   reload    SIGHUP.  flush: 'F', 'A', 'I' to qmgr's public/qmgr endpoint.
 *
 * SECURITY: runs as root (see postfix.c). Signals go only to the pid that
 * holds the lock, never to a pid read from the file.
 *
 * DIAGNOSTICS: fatal, in Postfix's words: starting a running or stopping a
 * stopped system, a master that cannot be executed or forked, a failed
 * start, a failed kill, a flush while the system is down. Stopping with
 * force is a warning.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "connect.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "pidfile.h"
#include "postfix.h"

pid_t
postfix_master_pid(void)
{
    char   *path = mem_printf("%s/pid/master.pid", var_queue_dir);
    pid_t   pid = pidfile_holder(path);

    mem_free(path);
    return pid;
}

static void
postfix_need_running(void)
{
    if (postfix_master_pid() == 0)
        msg_fatal("the Postfix mail system is not running");
}

static ARGV *
postfix_master_argv(const char *path, const char *mode)
{
    ARGV   *av = argv_alloc();

    argv_add(av, path);
    argv_add(av, "-c");
    argv_add(av, config_directory());
    argv_add(av, mode);
    if (postfix_verbose)
        argv_add(av, "-v");
    return av;
}

int
postfix_start(int foreground)
{
    char   *master = mem_printf("%s/master", var_daemon_dir);
    ARGV   *av;
    pid_t   pid;
    int     status;

    if (postfix_master_pid() != 0)
        msg_fatal("the Postfix mail system is already running");
    postfix_check(0);
    postfix_chroot_sync();
    msg_info("starting the Postfix mail system");
    av = postfix_master_argv(master, foreground ? "-s" : "-w");
    if (foreground) {
        execv(master, av->argv);
        msg_fatal("cannot execute %s: %m", master);
    }
    if ((pid = fork()) < 0)
        msg_fatal("fork: %m");
    if (pid == 0) {
        execv(master, av->argv);
        msg_fatal("cannot execute %s: %m", master);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            msg_fatal("waitpid: %m");
    argv_free(av);
    mem_free(master);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        msg_fatal("mail system startup failed");
    return 0;
}

static void
postfix_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        /* continue */ ;
}

int
postfix_stop(int abort_now)
{
    pid_t   pid = postfix_master_pid();
    int     i;

    if (pid == 0)
        msg_fatal("the Postfix mail system is not running");
    if (abort_now) {
        msg_info("aborting the Postfix mail system");
        if (kill(pid, SIGQUIT) < 0)
            msg_fatal("kill %ld: %m", (long) pid);
        return 0;
    }
    msg_info("stopping the Postfix mail system");
    if (kill(pid, SIGTERM) < 0)
        msg_fatal("kill %ld: %m", (long) pid);
    for (i = 0; i < 50; i++) {
        if (postfix_master_pid() == 0)
            return 0;
        if (i % 10 == 9)
            msg_info("waiting for the Postfix mail system to terminate");
        postfix_sleep_ms(100);
    }
    if ((pid = postfix_master_pid()) != 0) {
        msg_warn("stopping the Postfix mail system with force");
        (void) kill(-pid, SIGKILL);
        (void) kill(pid, SIGKILL);
    }
    return 0;
}

int
postfix_reload(void)
{
    pid_t   pid;

    postfix_need_running();
    pid = postfix_master_pid();
    msg_info("refreshing the Postfix mail system");
    if (pid == 0 || kill(pid, SIGHUP) < 0)
        msg_fatal("the Postfix mail system is not running");
    return 0;
}

int
postfix_status(void)
{
    pid_t   pid = postfix_master_pid();

    if (pid == 0) {
        msg_info("the Postfix mail system is not running");
        return 1;
    }
    msg_info("the Postfix mail system is running: PID: %ld", (long) pid);
    return 0;
}

int
postfix_flush(void)
{
    static const char req[] = {QMGR_REQ_FLUSH_DEAD, QMGR_REQ_SCAN_ALL,
                               QMGR_REQ_SCAN_INCOMING};
    char   *path;

    postfix_need_running();
    path = mem_printf("%s/%s/%s", var_queue_dir,
                      MAIL_CLASS_PUBLIC, SERVICE_QMGR);
    if (trigger_send(path, req, (int) sizeof(req)) < 0)
        msg_fatal("Cannot flush mail queue - mail system is down");
    mem_free(path);
    return 0;
}
