/*
 * master.h - private interface of the master daemon.
 *
 * master_service.c  services: open/close endpoints, reload merge, listening
 * master_spawn.c    children: fork/exec, status pipe, reaping, throttling
 * master_wakeup.c   wakeup timers for fifo/unix services
 * master_sig.c      signals through a self-pipe
 * master_daemon.c   detaching, start-up report, the locked pid file
 * master_stress.c   inet services at their process limit: -o stress=yes
 *
 * DIAGNOSTICS: fatal at start (usage, parameters, directories, master.cf,
 * the pid lock, a service that cannot listen); at run time only warnings:
 * an unreadable master.cf on reload, a child that exits badly or dies by a
 * signal, a fork failure (the service is throttled), a bad service line
 * (skipped).
 */
#ifndef POSTHORN_MASTER_H
#define POSTHORN_MASTER_H

#include <sys/types.h>
#include <time.h>
#include "argv.h"
#include "mastercf.h"

#define MASTER_PID_FILE     "pid/master.pid"
#define MASTER_BACKLOG      128
#define MASTER_STOP_WAIT    3.0     /* seconds to wait for children on stop */
#define MASTER_LOG_WAIT     1.0     /* then for the log service (postlogd) */

typedef struct MASTER_SERV {
    char   *name;               /* master.cf service field */
    MASTER_TYPE type;
    char   *type_name;
    int     private_;
    int     unpriv;
    int     chroot;
    int     wakeup;             /* seconds, 0 = none */
    int     wakeup_cond;        /* "?": only after first use */
    int     wakeup_armed;
    int     maxproc;            /* 0 = unlimited */
    char   *command;            /* as written in master.cf */
    char   *path;               /* program to exec (daemon_directory/command) */
    ARGV   *args;               /* master.cf args after the command */
    char   *endpoint;           /* private/x, public/x; NULL for inet */
    int    *listen_fds;
    int     listen_count;
    int     status_fd[2];       /* pipe: children write [1], master reads [0] */
    int     total_proc;         /* children, retired ones included */
    int     avail_proc;
    int     throttled;
    int     listening;
    int     mark;               /* reload: not (yet) seen in the new master.cf */
    time_t  stress_expire;      /* master_stress.c: under stress until then */
    time_t  busy_warn_time;     /* ... last "reached its process limit" warning */
    struct MASTER_SERV *next;
} MASTER_SERV;

typedef struct MASTER_PROC {
    pid_t   pid;
    MASTER_SERV *serv;          /* NULL once the service was removed */
    char   *path;               /* for log lines after the service is gone */
    int     avail;
    int     ready;              /* sent a status report: start-up done */
    int     retired;            /* reload: exit after the current client */
    struct MASTER_PROC *next;
} MASTER_PROC;

/* master.c */
extern MASTER_SERV *master_services;
extern int master_foreground;   /* -d/-s/-i: keep stdout/stderr for postlogd */
extern const char *master_config_dir;
/* The parameters, read at start and again on reload (SIGHUP). */
extern const char *var_mail_version;        /* mail_version */
extern const char *var_queue_dir;           /* queue_directory */
extern const char *var_daemon_dir;          /* daemon_directory */
extern const char *var_inet_interfaces;     /* inet_interfaces */
extern const char *var_inet_protocols;      /* inet_protocols */
extern const char *var_import_environ;      /* import_environment */
extern long var_throttle_time;              /* service_throttle_time */

/* master_service.c */
int     master_services_start(MASTER_TABLE *tab, int fatal_errors);
void    master_services_reload(MASTER_TABLE *tab);
void    master_services_stop(void);
void    master_avail_update(MASTER_SERV *serv);

/* master_spawn.c */
void    master_spawn(MASTER_SERV *serv);
/* The mail flow pipe, both ends non-blocking, handed to every service. */
extern int master_flow_fd[2];
void    master_flow_init(void);
void    master_status_init(MASTER_SERV *serv);
void    master_status_close(MASTER_SERV *serv);
void    master_retire_children(MASTER_SERV *serv, int detach);
void    master_reap_children(void);
/* Which children: all, all but the log service (unix-dgram: postlogd), it. */
#define MASTER_CHILD_ALL        0
#define MASTER_CHILD_NOT_LOG    1
#define MASTER_CHILD_LOG        2
void    master_kill_children(int sig, int which);
void    master_wait_children(double seconds, int which);        /* shutdown: reap, bounded */
void    master_throttle(MASTER_SERV *serv);

/* master_wakeup.c */
void    master_wakeup_init(MASTER_SERV *serv);
void    master_wakeup_cleanup(MASTER_SERV *serv);
void    master_wakeup_soon(MASTER_SERV *serv);

/* master_stress.c */
void    master_stress_spawn(MASTER_SERV *serv);
const char *master_stress_value(const MASTER_SERV *serv);
void    master_stress_warn(MASTER_SERV *serv);

/* master_daemon.c */
void    master_detach(int wait_for_child);
void    master_ready(void);
void    master_pid_lock(void);
void    master_pid_remove(void);

/* master_sig.c */
#define MASTER_SIG_NONE 0
void    master_sig_init(void);
void    master_sig_block(int block);
void    master_sig_child_reset(void);
int     master_sig_next(void);  /* pending signal number or 0 */
int     master_sig_fd(void);    /* poll this for readability */

#endif
