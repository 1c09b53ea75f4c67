/*
 * master.c - the resident supervisor: main() and the event loop.
 *
 * Usage: master [-c config_dir] [-d | -s | -i] [-w] [-t] [-v]
 *   -c  configuration directory (else $MAIL_CONFIG, else /etc/postfix)
 *   -d, -s, -i  stay in the foreground (debugging, "postfix start-fg",
 *       container init); postlogd keeps stdout/stderr
 *   -w  detach, but wait until start-up succeeded: exit 0, else 1
 *   -t  test: exit 0 when no master runs for this configuration, else 1
 *   -v  verbose logging
 *
 * Start-up: read main.cf (the var_* parameters: again on reload) and
 * master.cf, chdir to queue_directory, lock
 * pid/master.pid, open every endpoint, start the wakeup services, log
 * "daemon started". Then loop: signals arrive through a self-pipe
 * (master_sig.c); SIGCHLD reaps, SIGHUP reloads, SIGTERM/SIGINT stop
 * (children get SIGTERM, and SIGKILL when still busy after
 * MASTER_STOP_WAIT; the log service postlogd only after the others
 * are gone, MASTER_LOG_WAIT more), SIGQUIT aborts (children get
 * SIGKILL); in both cases master waits up to MASTER_STOP_WAIT seconds
 * for the children before it releases the pid file. In the foreground, SIGINT (Ctrl-C)
 * reaches master only (master_spawn.c) and stops it like SIGTERM.
 *
 * SECURITY: runs as root; only reads root-owned configuration. Children
 * drop privileges themselves (server.c) as master.cf says.
 *
 * DIAGNOSTICS: fatal at start: a usage error, a bad parameter value
 * (config_read_vars), a queue_directory that cannot be entered or its
 * private/public directories made, a master.cf with errors ("cannot start:
 * fix master.cf first"). On SIGHUP a master.cf that cannot be read or has
 * errors is a warning and the old services stay.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "events.h"
#include "master.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "pidfile.h"

int     master_foreground;
const char *master_config_dir;

const char *var_mail_version;
const char *var_queue_dir;
const char *var_daemon_dir;
const char *var_inet_interfaces;
const char *var_inet_protocols;
const char *var_import_environ;
long    var_throttle_time;

static const CONFIG_VAR master_vars[] = {
    CONFIG_VAR_STR("mail_version", &var_mail_version),
    CONFIG_VAR_STR("queue_directory", &var_queue_dir),
    CONFIG_VAR_STR("daemon_directory", &var_daemon_dir),
    CONFIG_VAR_STR("inet_interfaces", &var_inet_interfaces),
    CONFIG_VAR_STR("inet_protocols", &var_inet_protocols),
    CONFIG_VAR_STR("import_environment", &var_import_environ),
    CONFIG_VAR_TIME("service_throttle_time", &var_throttle_time),
    CONFIG_VAR_END,
};

/* main.cf, then the variables (at start and on reload). */
static void
master_config_load(const char *dir)
{
    config_load(dir);
    config_read_vars(master_vars);
}

static MASTER_TABLE *
master_read_mastercf(void)
{
    char   *path = mem_printf("%s/master.cf", master_config_dir);
    char   *err = NULL;
    MASTER_TABLE *tab = mastercf_load(path, &err);

    if (tab == NULL) {
        msg_warn("%s", err ? err : "cannot read master.cf");
        mem_free(err);
    }
    for (int i = 0; tab && i < tab->count; i++)
        if (strcmp(tab->ents[i]->fields[2], "-") == 0 && config_compat_below("1"))
            msg_info("%s: line %d: using backwards-compatible default setting chroot=y",
                     path, tab->ents[i]->line);
    mem_free(path);
    return tab;
}

static void
master_chdir(void)
{
    const char *qdir = var_queue_dir;
    struct stat st;

    if (chdir(qdir) < 0)
        msg_fatal("chdir %s: %m", qdir);
    /* private/ and public/ normally come from "postfix start". */
    if (stat("private", &st) < 0 && mkdir("private", 0700) < 0)
        msg_fatal("mkdir %s/private: %m", qdir);
    if (stat("public", &st) < 0 && mkdir("public", 0710) < 0)
        msg_fatal("mkdir %s/public: %m", qdir);
}

static void
master_reload(void)
{
    MASTER_TABLE *tab;

    config_reset();
    master_config_load(master_config_dir);
    msg_logging_init();
    msg_info("reload -- version %s, configuration %s", var_mail_version,
             master_config_dir);
    if ((tab = master_read_mastercf()) == NULL) {
        msg_warn("master.cf has errors: keeping the old services");
        return;
    }
    master_services_reload(tab);
    mastercf_free(tab);
}

static void
master_terminate(int sig)
{
    msg_info("terminating on signal %d", sig);
    if (sig == SIGQUIT) {
        master_kill_children(SIGKILL, MASTER_CHILD_ALL);
        master_wait_children(MASTER_STOP_WAIT, MASTER_CHILD_ALL);
    } else {
        /* Postlogd goes last, so that it writes the others' last lines
         * (anvil logs statistics on its way out). Both waits together
         * stay inside the 5 seconds "postfix stop" waits before force. */
        master_kill_children(SIGTERM, MASTER_CHILD_NOT_LOG);
        master_wait_children(MASTER_STOP_WAIT, MASTER_CHILD_NOT_LOG);
        /* A process still busy then serves a client that keeps its session
         * open (a content filter's cached connection): as Postfix's, stop
         * means stop. Nothing it holds is acknowledged yet. */
        master_kill_children(SIGKILL, MASTER_CHILD_NOT_LOG);
        master_wait_children(MASTER_LOG_WAIT, MASTER_CHILD_NOT_LOG);
        master_kill_children(SIGTERM, MASTER_CHILD_LOG);
        master_wait_children(MASTER_LOG_WAIT, MASTER_CHILD_ALL);
    }
    master_pid_remove();
    exit(0);
}

static void
master_sig_event(int fd, int events, void *ctx)
{
    int     sig;

    while ((sig = master_sig_next()) != MASTER_SIG_NONE) {
        switch (sig) {
        case SIGCHLD:
            master_reap_children();
            break;
        case SIGHUP:
            master_reload();
            break;
        default:
            master_terminate(sig);
        }
    }
}

/* -t: exit status 0 when no master holds the lock. */
static int
master_test(void)
{
    char   *pidfile = mem_printf("%s/%s", var_queue_dir, MASTER_PID_FILE);
    pid_t   pid = pidfile_holder(pidfile);

    mem_free(pidfile);
    return pid > 0 ? 1 : 0;
}

static void
master_usage(void)
{
    msg_fatal("usage: master [-c config_dir] [-d] [-s] [-i] [-t] [-v] [-w]");
}

int
main(int argc, char **argv)
{
    MASTER_TABLE *tab;
    const char *dir = NULL;
    int     ch, test = 0, wait_mode = 0;

    umask(022);
    msg_init("master", MSG_STDERR);
    while ((ch = getopt(argc, argv, "c:dsiwtve:")) != -1) {
        switch (ch) {
        case 'c': dir = optarg; break;
        case 'd': case 's': case 'i': master_foreground = 1; break;
        case 'w': wait_mode = 1; break;
        case 't': test = 1; break;
        case 'v': msg_verbose++; break;
        case 'e': break;        /* exit time: accepted, not implemented */
        default: master_usage();
        }
    }
    if (optind < argc)
        master_usage();
    master_config_load(dir);
    master_config_dir = mem_strdup(config_directory());
    if (test)
        return master_test();
    msg_logging_init();
    if (master_foreground)
        wait_mode = 0;
    else
        master_detach(wait_mode);
    master_chdir();
    master_pid_lock();
    if ((tab = master_read_mastercf()) == NULL)
        msg_fatal("cannot start: fix master.cf first");
    master_sig_init();
    master_flow_init();
    event_read(master_sig_fd(), master_sig_event, NULL);
    master_services_start(tab, 1);
    mastercf_free(tab);
    msg_set_flags(msg_get_flags() & ~MSG_STDERR);
    msg_info("daemon started -- version %s, configuration %s", var_mail_version,
             master_config_dir);
    master_ready();
    for (;;)
        event_loop(-1);
}
