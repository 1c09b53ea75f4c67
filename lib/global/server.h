/*
 * server.h - the daemon skeletons every service program links.
 *
 * master starts a service program as
 *     program [-c config_dir] -n service -t type -s count [-u] [-r] [-d] [-v] [-o name=value]... [args...]
 * with the listening sockets on file descriptors SERVER_LISTEN_FD ..
 * SERVER_LISTEN_FD+count-1, the status pipe to master on
 * SERVER_STATUS_FD and the two ends of the mail flow pipe (mail_flow.h) on
 * SERVER_FLOW_READ_FD and SERVER_FLOW_WRITE_FD. -u: drop to mail_owner; -r: chroot to queue_directory;
 * -d: run standalone (no master: the listen fd is not used; single_server
 * serves stdin/stdout once); -o: configuration override.
 *
 * The skeleton: parses those options, loads main.cf, applies -o, sets up
 * logging, calls the program's pre_init (still root: open files it needs),
 * chdirs to queue_directory, drops privileges (priv_drop) when -u, calls
 * post_init, then serves:
 *
 *   single_server_main: one client at a time; after each the process
 *       reports "available" to master; exits after max_use clients or
 *       max_idle seconds without one (both main.cf parameters).
 *   multi_server_main: many clients in one event loop; fn is called when a
 *       client is readable and handles one request (return -1 to close).
 *   trigger_server_main: a fifo, unix socket or unix-dgram socket that
 *       receives wakeup bytes or datagrams (postlogd)
 *       ('W', 'I', 'D', 'A', 'F'); fn gets them; the program may add its
 *       own events (qmgr). Never exits for max_idle (wakeup keeps it).
 *
 * on_accept (optional, single and multi servers) runs once per new client
 * right after accept, before the first fn call: a server that speaks first
 * (trivial-rewrite's {protocol=...} greeting) writes and flushes there.
 * It must not close the client; returning -1 makes the skeleton close it.
 *
 * The skeleton closes the client stream after a single/multi fn returns
 * (fn must not close it). It sets the parameters service_name (-n) and
 * process_name before applying -o, so "-o syslog_name=postfix/$service_name"
 * works. A unix-socket trigger client connects, writes its bytes, closes;
 * the skeleton reads at most 1024 bytes within 10 seconds.
 *
 * Status pipe: each message is a SERVER_STATUS struct written whole:
 * AVAIL after post_init, BUSY/AVAIL around each client or trigger. A
 * process that dies abnormally before its first report (a start-up
 * failure) makes master throttle the service (service_throttle_time).
 * SIGTERM ("postfix stop"): an idle process exits at once; a busy one
 * closes its listen sockets and exits after the current client.
 * SIGHUP ("postfix reload") or a closed status pipe (master gone): exit
 * when idle. daemon_timeout: watchdog per client/callback (SIGALRM).
 * max_use/max_idle apply to single and multi servers, not to triggers.
 * A table opened through lib/dict that changes on disk (postmap,
 * postalias) makes a single or multi server log "table type:name has
 * changed -- restarting" and exit before its next client (a multi server
 * between two requests); master starts a fresh process.
 *
 * DIAGNOSTICS: fatal at start-up (a bad option or parameter value, no
 * listen descriptor, queue_directory not usable, a failed privilege drop);
 * only warnings at run time; a hung client ends the process by the
 * watchdog. See server.c.
 */
#ifndef POSTHORN_SERVER_H
#define POSTHORN_SERVER_H

#include <sys/types.h>
#include "stream.h"
#include "argv.h"

#define SERVER_STATUS_FD  3
#define SERVER_FLOW_READ_FD  4  /* in_flow_delay tokens: mail_flow.h */
#define SERVER_FLOW_WRITE_FD 5
#define SERVER_LISTEN_FD  6

#define SERVER_STAT_BUSY   0
#define SERVER_STAT_AVAIL  1

typedef struct SERVER_STATUS {
    pid_t   pid;
    int     status;             /* SERVER_STAT_* */
} SERVER_STATUS;

typedef struct SERVER_OPTS {
    void  (*pre_init)(const char *service, ARGV *args);   /* as root */
    void  (*post_init)(const char *service, ARGV *args);  /* after priv drop */
    int     keep_root;          /* never drop to mail_owner, even with -u (local) */
    /* Single and multi servers: called with each new client right after
     * accept, before fn (a protocol greeting); return -1 to drop it. */
    int   (*on_accept)(STREAM *client);
} SERVER_OPTS;

/* Service context handed to callbacks. */
typedef struct SERVER_CTX {
    const char *service;        /* master.cf service name */
    const char *type;           /* inet, unix, fifo, ... */
    ARGV   *args;               /* master.cf arguments after the options */
    int     listen_count;
} SERVER_CTX;

extern SERVER_CTX server_ctx;

typedef void (*SINGLE_SERVER_FN)(STREAM *client);
typedef int  (*MULTI_SERVER_FN)(STREAM *client);      /* -1: close client */
typedef void (*TRIGGER_SERVER_FN)(const char *buf, int len);

void    single_server_main(int argc, char **argv, SINGLE_SERVER_FN fn, const SERVER_OPTS *opts)
            __attribute__((noreturn));
void    multi_server_main(int argc, char **argv, MULTI_SERVER_FN fn, const SERVER_OPTS *opts)
            __attribute__((noreturn));
void    trigger_server_main(int argc, char **argv, TRIGGER_SERVER_FN fn, const SERVER_OPTS *opts)
            __attribute__((noreturn));
/*
 * A single server's client wants to be served once more on the same
 * connection (a delivery agent reading qmgr's next request): 1 = go on,
 * counted as one more use and with the watchdog set anew; 0 when this
 * process is to stop after the current client (max_use reached, stop,
 * reload, master gone, a table changed) or runs standalone.
 */
int     single_server_take_another(void);
/* 1 when the program (argv[0]) or its master.cf service is called name:
 * one binary, two roles (smtp/lmtp, error/retry). */
int     server_named(const char *service, const char *name);
/* argv with "-o name=value" for each of opts (NULL-terminated) put in
 * front of master's arguments, so that a master.cf -o still wins: the
 * defaults of a persistent service (anvil, tlsmgr: a huge max_use). */
char  **server_default_opts(int *argc, char **argv, const char *const *opts);
/* Tell master we are busy/available (single servers do this themselves). */
void    server_status(int status);

#endif
