/*
 * server.c - the daemon skeletons: single-client, multi-client, trigger.
 *
 * Interface: server.h. Common start-up (server_init): parse the options
 * master passes, load main.cf and the -o overrides, set up logging, read
 * the skeleton's parameters (max_use, max_idle, daemon_timeout,
 * queue_directory) and those of the lib/global modules
 * (mail_params_init()), run the program's pre_init as root, chdir to
 * queue_directory, drop privileges (-u) and chroot (-r), run post_init.
 * Before the chroot the time zone is loaded and the log socket connected
 * (msg_logging_prepare_chroot()); inside, the process sees only
 * $queue_directory: tables are opened in pre_init, and passwd lookups go
 * through proxymap (proxy:unix:passwd.byname). DNS, service names and
 * /etc/localtime need the copies "postfix start" puts into
 * $queue_directory/etc (postfix/postfix_chroot.c).
 * Then one of three loops:
 *
 *   single: wait for the listen descriptors (and the status pipe, to
 *       notice that master went away) in an EPOLLEXCLUSIVE epoll set, so
 *       that one idle process is woken per connection (poll() where the
 *       kernel lacks it), accept one client, report busy, serve it,
 *       close it, report available. Exit after max_use clients or
 *       max_idle idle seconds.
 *   multi: an events.h loop; each readable client gets one fn() call.
 *       The process stays "available" to master while it accepts new
 *       clients, however many it has (one process serves them all, as
 *       Postfix's trivial-rewrite and proxymap do: the clients keep their
 *       connections open, so "busy while it has a client" made master
 *       start one process per connection); it reports busy only when it
 *       stops accepting (max_use reached, reload, stop), so that master
 *       starts a replacement.
 *   Both call the program's on_accept hook (if any) once per new client,
 *   right after accept, so a server can greet first.
 *   trigger: an events.h loop; fifo bytes, a short unix-socket message or
 *       a unix-dgram datagram are handed to fn() as one buffer.
 *
 * Tables: a single or multi server whose tables (any opened through
 * lib/dict) changed on disk logs "table type:name has changed --
 * restarting" and exits instead of taking the next client (checked when
 * idle and before each accept; a multi server also after each request),
 * as Postfix does;
 * master then starts a fresh process with the new tables. A multi server
 * exits between two requests even with clients connected: its clients
 * (trivial-rewrite's, proxymap's) retry on a new connection.
 *
 * Signals: SIGTERM ("postfix stop") makes an idle process exit at once and
 * a busy one close its listen sockets (so a new master can bind them) and
 * exit after the current client. SIGHUP ("postfix reload") and a closed
 * status pipe (master gone or reloaded) make the process exit when it is
 * idle. Master's exit is seen as the status pipe's hangup, and as a new
 * parent (getppid(), asked once a second while a single server is idle
 * and every SERVER_CHECK_PERIOD in the event loops: not per client). The
 * watchdog (daemon_timeout) kills a process stuck in one client.
 *
 * SECURITY: runs as root until priv_drop(). Clients are untrusted; the
 * programs' fn() bound their input. Trigger messages are cut at
 * SERVER_TRIGGER_MAX bytes (datagrams at SERVER_DGRAM_MAX).
 *
 * DIAGNOSTICS: fatal at start-up: a bad option, a missing listen
 * descriptor, a bad parameter value (with its name and value), a
 * queue_directory that cannot be entered, a failed privilege drop. At
 * run time only warnings (a failed accept, a pass service without a
 * descriptor), and "table type:name has changed -- restarting" before a
 * process leaves for a changed table; a hung client ends the process by
 * the watchdog.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "attr.h"
#include "config.h"
#include "connect.h"
#include "events.h"
#include "mail_params.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "mypid.h"
#include "privs.h"
#include "mail_flow.h"
#include "server.h"
#include "stream.h"

#define SERVER_MAX_LISTEN   64          /* -s limit */
#define SERVER_TRIGGER_MAX  1024        /* bytes of one fifo/unix trigger */
#define SERVER_DGRAM_MAX    (MSG_LINE_MAX + 1024)
#define SERVER_DGRAM_BATCH  16          /* datagrams read per recvmmsg() */
#define SERVER_TRIGGER_WAIT 10          /* seconds a trigger client may take */
#define SERVER_CHECK_PERIOD 5.0         /* seconds between "is master alive" checks */

SERVER_CTX server_ctx;

static struct {
    int     standalone;         /* -d: no master */
    int     lone;               /* -l: process limit 1 */
    int     listen_fds[SERVER_MAX_LISTEN];
    int     listen_count;
    pid_t   master_pid;
    long    max_use;
    long    max_idle;
    long    daemon_timeout;
    long    use_count;
    int     clients;            /* multi server: open clients */
    volatile sig_atomic_t busy;
    volatile sig_atomic_t got_term;
    volatile sig_atomic_t got_hup;
    volatile sig_atomic_t drain;        /* unix-dgram: read what is queued before exit */
    int     master_gone;
    time_t  watchdog_at;        /* when the watchdog alarm was set, 0 = off */
    int     tables_changed;     /* a table changed on disk: restart */
    MULTI_SERVER_FN multi_fn;
    TRIGGER_SERVER_FN trigger_fn;
    int   (*on_accept)(STREAM *client);
} srv = {.listen_count = 0};

/* ---- signals and status ------------------------------------------------ */

static void
server_sigterm(int sig)
{
    int     i;

    srv.got_term = 1;
    if (srv.drain)              /* postlogd: the main loop drains, then exits */
        return;
    if (!srv.busy)
        _exit(0);
    /* Busy: stop listening now so a new master can bind, exit later. */
    for (i = 0; i < srv.listen_count; i++) {
        event_forget_async(srv.listen_fds[i]);
        (void) close(srv.listen_fds[i]);
    }
}

static void
server_sighup(int sig)
{
    srv.got_hup = 1;
}

static void
server_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    (void) sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = server_sigterm;
    (void) sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = server_sighup;
    (void) sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    (void) sigaction(SIGALRM, &sa, NULL);
    (void) sigaction(SIGCHLD, &sa, NULL);
}

void
server_status(int status)
{
    SERVER_STATUS st;
    ssize_t n;

    srv.busy = (status == SERVER_STAT_BUSY);
    if (srv.standalone || srv.master_gone)
        return;
    memset(&st, 0, sizeof(st));
    st.pid = my_pid();
    st.status = status;
    do {
        n = write(SERVER_STATUS_FD, &st, sizeof(st));
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t) sizeof(st)) {
        if (msg_verbose)
            msg_info("status pipe to master: %m");
        srv.master_gone = 1;
    }
}

/*
 * Should this process stop taking new work? The flags come from the
 * signal handlers, the status pipe (its hangup is master's exit) and
 * server_master_gone(); no system call, so it is asked every round.
 */
static int
server_should_exit(void)
{
    return srv.got_term || srv.got_hup || srv.master_gone;
}

/* Were we re-parented (master gone)? Asked while idle, not per client. */
static int
server_master_gone(void)
{
    if (!srv.standalone && !srv.master_gone && getppid() != srv.master_pid)
        srv.master_gone = 1;
    return server_should_exit();
}

/*
 * Has a table this process opened changed on disk (postmap, postalias,
 * newaliases)? Then, as in Postfix, the process serves no new client:
 * it logs why once and exits between clients, and master starts a fresh
 * one that opens the new tables. Single and multi servers only.
 */
static int
server_tables_changed(void)
{
    const char *table;

    if (!srv.tables_changed && (table = dict_changed_name()) != NULL) {
        msg_info("table %s has changed -- restarting", table);
        srv.tables_changed = 1;
    }
    return srv.tables_changed;
}

/* Is the status pipe closed at the other end (master exited or reloaded)? */
static int
server_status_closed(short revents)
{
    return (revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
}

/*
 * daemon_timeout for one request or client. It is set at most once a
 * second (a client may then be cut off up to a second early; the default
 * is five hours), not with an alarm() per request.
 */
static void
server_watchdog(int on)
{
    time_t  now;

    if (srv.daemon_timeout <= 0)
        return;
    if (!on) {
        if (srv.watchdog_at != 0)
            alarm(0);
        srv.watchdog_at = 0;
        return;
    }
    if ((now = time(NULL)) == srv.watchdog_at)
        return;
    alarm((unsigned) srv.daemon_timeout);
    srv.watchdog_at = now;
}

/*
 * A single server leaves the watchdog set between clients (no alarm(0)
 * and alarm() again per client) and, while idle, sets it again once half
 * of daemon_timeout has passed, so it never fires in an idle process.
 */
static void
server_watchdog_idle(void)
{
    if (srv.daemon_timeout > 0 && srv.watchdog_at != 0
        && time(NULL) - srv.watchdog_at >= srv.daemon_timeout / 2) {
        srv.watchdog_at = 0;
        server_watchdog(1);
    }
}

/* ---- start-up ---------------------------------------------------------- */

/* The skeleton's parameters, read after main.cf and the -o overrides. */
static const char *var_queue_directory;
static const CONFIG_VAR server_vars[] = {
    CONFIG_VAR_INT("max_use", &srv.max_use),
    CONFIG_VAR_TIME("max_idle", &srv.max_idle),
    CONFIG_VAR_TIME("daemon_timeout", &srv.daemon_timeout),
    CONFIG_VAR_STR("queue_directory", &var_queue_directory),
    CONFIG_VAR_END,
};

static void
server_drop_privileges(int unpriv, int chroot_flag, const SERVER_OPTS *opts)
{
    const char *qdir = var_queue_directory;
    uid_t   uid;
    gid_t   gid;

    if (chroot_flag)
        msg_logging_prepare_chroot();
    if (unpriv && !(opts && opts->keep_root)) {
        priv_mail_owner(&uid, &gid);
        priv_drop(uid, gid, chroot_flag ? qdir : NULL);
    } else if (chroot_flag && geteuid() == 0) {
        if (chroot(qdir) < 0 || chdir("/") < 0)
            msg_fatal("chroot(%s): %m", qdir);
    }
}

static void
server_check_listen_fds(void)
{
    int     i;

    if (srv.standalone)
        return;
    for (i = 0; i < srv.listen_count; i++) {
        srv.listen_fds[i] = SERVER_LISTEN_FD + i;
        if (fcntl(srv.listen_fds[i], F_GETFD) < 0)
            msg_fatal("listen descriptor %d is not open: %m", srv.listen_fds[i]);
        fd_cloexec(srv.listen_fds[i], 1);
        fd_nonblock(srv.listen_fds[i], 1);
    }
    if (fcntl(SERVER_STATUS_FD, F_GETFD) < 0)
        srv.master_gone = 1;
    else
        fd_cloexec(SERVER_STATUS_FD, 1);
}

static void
server_init(int argc, char **argv, const SERVER_OPTS *opts)
{
    const char *config_dir = NULL;
    ARGV   *overrides = argv_alloc();
    int     unpriv = 0, chroot_flag = 0;
    int     ch;
    size_t  i;

    mail_flow_init();                   /* before anything opens a file */
    msg_init(argv[0], isatty(STDERR_FILENO) ? MSG_STDERR : 0);
    server_signals();
    server_ctx.service = msg_program();
    server_ctx.type = "unix";
    srv.listen_count = 1;
    while ((ch = getopt(argc, argv, "+c:n:t:s:urldvo:")) != -1) {
        switch (ch) {
        case 'c': config_dir = optarg; break;
        case 'n': server_ctx.service = optarg; break;
        case 't': server_ctx.type = optarg; break;
        case 's':
            srv.listen_count = atoi(optarg);
            if (srv.listen_count < 1 || srv.listen_count > SERVER_MAX_LISTEN)
                msg_fatal("bad listen count: -s %s", optarg);
            break;
        case 'u': unpriv = 1; break;
        case 'r': chroot_flag = 1; break;
        case 'l': srv.lone = 1; break;
        case 'd': srv.standalone = 1; break;
        case 'v': msg_verbose++; break;
        case 'o': argv_add(overrides, optarg); break;
        default:
            msg_fatal("usage: %s [-c config_dir] [-n service] [-t type] [-s count] "
                      "[-u] [-r] [-l] [-d] [-v] [-o name=value] [args]", msg_program());
        }
    }
    if (srv.standalone)
        msg_set_flags(msg_get_flags() | MSG_STDERR);
    server_ctx.args = argv_alloc();
    for (; optind < argc; optind++)
        argv_add(server_ctx.args, argv[optind]);
    server_ctx.listen_count = srv.listen_count;
    srv.on_accept = opts ? opts->on_accept : NULL;

    config_load(config_dir);
    config_override("service_name", server_ctx.service);
    config_override("process_name", msg_program());
    for (i = 0; i < overrides->argc; i++)
        if (config_override_arg(overrides->argv[i]) < 0)
            msg_warn("ignoring bad override \"-o %s\"", overrides->argv[i]);
    argv_free(overrides);
    msg_logging_init();
    config_read_vars(server_vars);
    mail_params_init();

    srv.master_pid = getppid();
    server_check_listen_fds();

    if (opts && opts->pre_init)
        opts->pre_init(server_ctx.service, server_ctx.args);
    if (chdir(var_queue_directory) < 0)
        msg_fatal("chdir(\"%s\"): %m", var_queue_directory);
    server_drop_privileges(unpriv, chroot_flag, opts);
    if (opts && opts->post_init)
        opts->post_init(server_ctx.service, server_ctx.args);
    if (msg_verbose)
        msg_info("%s/%s: ready, max_use=%ld max_idle=%ld", server_ctx.service,
                 server_ctx.type, srv.max_use, srv.max_idle);
}

/* ---- accepting clients ------------------------------------------------- */

/* Accept one client on a listen descriptor; fd or -1 (nothing there). */
static int
server_accept(int lfd)
{
    int     fd, passed;

    fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
            && errno != ECONNABORTED && errno != EBADF)
            msg_warn("accept connection: %m");
        return -1;
    }
    if (strcmp(server_ctx.type, "pass") == 0) {
        passed = attr_recv_fd_wait(fd, SERVER_TRIGGER_WAIT);    /* type "pass" */
        close(fd);
        if (passed < 0)
            msg_warn("pass service %s: no descriptor received", server_ctx.service);
        fd = passed;
    }
    return fd;
}

/* Standalone mode: read stdin, write stdout. */
static ssize_t
server_stdout_write(void *ctx, int fd, void *buf, size_t len)
{
    return write(STDOUT_FILENO, buf, len);
}

static STREAM *
server_stdio_stream(void)
{
    STREAM *s = stream_fdopen(STDIN_FILENO);
    struct stat st;

    if (fstat(STDIN_FILENO, &st) == 0 && !S_ISSOCK(st.st_mode))
        stream_set_io(s, NULL, server_stdout_write, NULL);
    return s;
}

/* ---- single-client server ---------------------------------------------- */

/* The program's greeting hook; 0 = go on, -1 = drop the client. */
static int
server_on_accept(STREAM *client)
{
    return srv.on_accept ? srv.on_accept(client) : 0;
}

static void
single_server_serve(SINGLE_SERVER_FN fn, int fd)
{
    STREAM *client = stream_fdopen(fd);

    server_status(SERVER_STAT_BUSY);
    server_watchdog(1);
    if (server_on_accept(client) == 0)
        fn(client);
    (void) stream_close(client);
    srv.use_count++;                    /* the watchdog stays set: server_watchdog_idle() */
    if (srv.got_term)
        exit(0);
    server_status(SERVER_STAT_AVAIL);
}

int
single_server_take_another(void)
{
    if (srv.standalone || server_should_exit() || server_tables_changed()
        || (srv.max_use > 0 && srv.use_count + 1 >= srv.max_use))
        return 0;
    srv.use_count++;                    /* the connection itself counts one more */
    srv.watchdog_at = 0;
    server_watchdog(1);
    return 1;
}

/*
 * Waiting for a client. Every idle process of a service waits on the same
 * listen sockets; with poll() each new connection woke all of them and
 * all but one got EAGAIN from accept() (the "thundering herd"). The
 * listen sockets are therefore in a per-process epoll set with
 * EPOLLEXCLUSIVE (Linux 4.5): the kernel wakes an epoll set that has a
 * process blocked in epoll_wait(), walking past those whose process is
 * busy, so one idle process is woken per connection. master's own poll()
 * on the sockets (when no process is available) is not exclusive and is
 * woken as before. The status pipe is in the set without EPOLLEXCLUSIVE
 * (errors only: master went away). Where the flag is refused (older
 * kernels: EINVAL) the process falls back to poll().
 */
static int
single_server_epoll(void)
{
    struct epoll_event ev;
    int     epfd, i;

    if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return -1;
    for (i = 0; i < srv.listen_count; i++) {
        ev.events = EPOLLIN | EPOLLEXCLUSIVE;
        ev.data.u32 = (uint32_t) i;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, srv.listen_fds[i], &ev) < 0)
            break;
    }
    ev.events = 0;                      /* only errors: the read end was closed */
    ev.data.u32 = (uint32_t) srv.listen_count;
    if (i < srv.listen_count || epoll_ctl(epfd, EPOLL_CTL_ADD, SERVER_STATUS_FD, &ev) < 0) {
        (void) close(epfd);
        return -1;
    }
    return epfd;
}

/* Wait up to a second; a ready listen fd, SERVER_WAIT_EXIT or -1 (none). */
#define SERVER_WAIT_EXIT    (-2)

static int
single_server_wait(int epfd)
{
    struct pollfd pfd[SERVER_MAX_LISTEN + 1];
    struct epoll_event ev[SERVER_MAX_LISTEN + 1];
    int     i, n;

    if (epfd >= 0) {
        n = epoll_wait(epfd, ev, srv.listen_count + 1, 1000);
        for (i = 0; i < n; i++)
            if (ev[i].data.u32 == (uint32_t) srv.listen_count)
                return SERVER_WAIT_EXIT;        /* status pipe error or hangup */
        return n > 0 ? srv.listen_fds[ev[0].data.u32] : -1;
    }
    for (i = 0; i < srv.listen_count; i++) {
        pfd[i].fd = srv.listen_fds[i];
        pfd[i].events = POLLIN;
        pfd[i].revents = 0;
    }
    pfd[i].fd = SERVER_STATUS_FD;
    pfd[i].events = 0;
    pfd[i].revents = 0;
    if (poll(pfd, (nfds_t) srv.listen_count + 1, 1000) <= 0)
        return -1;
    if (server_status_closed(pfd[srv.listen_count].revents))
        return SERVER_WAIT_EXIT;
    for (i = 0; i < srv.listen_count; i++)
        if (pfd[i].revents & POLLIN)
            return pfd[i].fd;
    return -1;
}

void
single_server_main(int argc, char **argv, SINGLE_SERVER_FN fn, const SERVER_OPTS *opts)
{
    time_t  idle_since;
    int     epfd, lfd, fd;

    server_init(argc, argv, opts);
    if (srv.standalone) {
        STREAM *s = server_stdio_stream();

        srv.busy = 1;
        if (server_on_accept(s) == 0)
            fn(s);
        (void) stream_flush(s);
        stream_free_keep_fd(s);
        exit(0);
    }
    epfd = single_server_epoll();
    server_status(SERVER_STAT_AVAIL);
    idle_since = time(NULL);
    for (;;) {
        if (server_should_exit())
            exit(0);
        server_watchdog_idle();
        if (srv.max_use > 0 && srv.use_count >= srv.max_use)
            exit(0);
        if (srv.max_idle > 0 && time(NULL) - idle_since >= srv.max_idle)
            exit(0);
        if ((lfd = single_server_wait(epfd)) == -1) {   /* a second without a client */
            if (server_master_gone() || server_tables_changed())
                exit(0);
            continue;
        }
        if (lfd == SERVER_WAIT_EXIT || server_tables_changed())
            exit(0);                            /* the client waits for a new process */
        if ((fd = server_accept(lfd)) < 0)
            continue;
        single_server_serve(fn, fd);
        idle_since = time(NULL);
    }
}

/* ---- event-loop helpers shared by multi and trigger servers ------------ */

static void
server_status_event(int fd, int events, void *ctx)
{
    struct pollfd pfd = {.fd = SERVER_STATUS_FD, .events = 0};

    if ((events & EVENT_ERROR)
        || (poll(&pfd, 1, 0) > 0 && server_status_closed(pfd.revents))) {
        srv.master_gone = 1;
        event_cancel_fd(SERVER_STATUS_FD);
    }
}

static void
server_check_timer(void *ctx)
{
    (void) server_master_gone();
    event_timer(server_check_timer, NULL, SERVER_CHECK_PERIOD);
}

static void
server_loop_common(void)
{
    if (!srv.standalone && !srv.master_gone)
        event_read(SERVER_STATUS_FD, server_status_event, NULL);
    event_timer(server_check_timer, NULL, SERVER_CHECK_PERIOD);
}

/* ---- multi-client server ----------------------------------------------- */

static void multi_server_accept(int fd, int events, void *ctx);

/* Accept new clients or not; "not" is final, and master is told. */
static void
multi_server_listen(int on)
{
    static int stopped;
    int     i;

    if (stopped)
        return;
    for (i = 0; i < srv.listen_count; i++) {
        if (on)
            event_read_exclusive(srv.listen_fds[i], multi_server_accept, NULL);
        else
            event_cancel_read(srv.listen_fds[i]);
    }
    if (!on) {
        stopped = 1;
        server_status(SERVER_STAT_BUSY);        /* master starts a replacement */
        srv.busy = srv.clients > 0;
    }
}

static void
multi_server_idle(void *ctx)
{
    if (srv.clients == 0)
        exit(0);
}

static void
multi_server_drop(STREAM *client)
{
    event_cancel_fd(stream_fd(client));
    (void) stream_close(client);
    if (--srv.clients > 0)
        return;
    server_watchdog(0);
    if (server_should_exit() || server_tables_changed()
        || (srv.max_use > 0 && srv.use_count >= srv.max_use))
        exit(0);
    srv.busy = 0;
    if (srv.max_idle > 0)
        event_timer(multi_server_idle, NULL, (double) srv.max_idle);
}

static void
multi_server_client(int fd, int events, void *ctx)
{
    STREAM *client = ctx;
    int     rounds = 0;
    int     ret;

    server_watchdog(1);
    do {
        ret = srv.multi_fn(client);
    } while (ret == 0 && stream_buffered(client) > 0 && !stream_error(client)
             && ++rounds < 100);
    if (ret < 0 || stream_error(client) || stream_eof(client))
        multi_server_drop(client);
}

static void
multi_server_accept(int lfd, int events, void *ctx)
{
    STREAM *client;
    int     fd;

    if (server_tables_changed())                /* leave the client to a new process */
        exit(0);
    if ((fd = server_accept(lfd)) < 0)
        return;
    if (srv.clients++ == 0) {
        event_cancel_timer(multi_server_idle, NULL);
        srv.busy = 1;                           /* for SIGTERM; master is not told */
    }
    srv.use_count++;
    client = stream_fdopen(fd);
    server_watchdog(1);
    if (server_on_accept(client) < 0) {
        multi_server_drop(client);
        return;
    }
    event_read(fd, multi_server_client, client);
}

void
multi_server_main(int argc, char **argv, MULTI_SERVER_FN fn, const SERVER_OPTS *opts)
{
    STREAM *s;

    server_init(argc, argv, opts);
    srv.multi_fn = fn;
    if (srv.standalone) {
        s = server_stdio_stream();
        srv.busy = 1;
        if (server_on_accept(s) < 0)
            exit(0);
        while (fn(s) == 0 && !stream_error(s) && !stream_eof(s))
            /* one request per call */ ;
        (void) stream_flush(s);
        exit(0);
    }
    server_loop_common();
    multi_server_listen(1);
    server_status(SERVER_STAT_AVAIL);
    if (srv.max_idle > 0)
        event_timer(multi_server_idle, NULL, (double) srv.max_idle);
    for (;;) {
        event_loop(1.0);
        if (server_tables_changed())    /* between requests: clients reconnect */
            exit(0);
        if (server_should_exit()) {
            if (srv.clients == 0)
                exit(0);
            multi_server_listen(0);     /* finish the clients we have */
        }
        if (srv.max_use > 0 && srv.use_count >= srv.max_use)
            multi_server_listen(0);
    }
}

/* ---- trigger server ---------------------------------------------------- */

/*
 * Before a trigger's work: report busy, set the watchdog. A lone process
 * (-l: qmgr, pickup, postlogd as master.cf has them) does not report:
 * busy or not, master starts no other, and each report would wake master
 * for nothing (one per message for qmgr's trigger, one per burst of log
 * lines for postlogd).
 */
static void
trigger_server_status(int status)
{
    if (srv.lone)
        srv.busy = (status == SERVER_STAT_BUSY);        /* for SIGTERM */
    else
        server_status(status);
}

static void
trigger_server_busy(void)
{
    trigger_server_status(SERVER_STAT_BUSY);
    server_watchdog(1);
}

/* After the work: the watchdog stays set (server_watchdog_idle()). */
static void
trigger_server_done(void)
{
    if (srv.got_term && !srv.drain)
        exit(0);
    trigger_server_status(SERVER_STAT_AVAIL);
}

static void
trigger_server_deliver(const char *buf, int len)
{
    if (len <= 0)
        return;
    trigger_server_busy();
    srv.trigger_fn(buf, len);
    trigger_server_done();
}

/*
 * unix-dgram (postlogd): every datagram already queued, up to
 * SERVER_DGRAM_BATCH, in one recvmmsg() and one busy period, instead of
 * a poll(), a recv() and two status updates each.
 */
static void
trigger_server_dgrams(int lfd)
{
    static char bufs[SERVER_DGRAM_BATCH][SERVER_DGRAM_MAX];
    struct mmsghdr msgs[SERVER_DGRAM_BATCH];
    struct iovec iov[SERVER_DGRAM_BATCH];
    int     i, n;

    memset(msgs, 0, sizeof(msgs));
    for (i = 0; i < SERVER_DGRAM_BATCH; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = SERVER_DGRAM_MAX;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    if ((n = recvmmsg(lfd, msgs, SERVER_DGRAM_BATCH, MSG_DONTWAIT, NULL)) <= 0)
        return;
    trigger_server_busy();
    for (i = 0; i < n; i++)             /* a longer datagram is cut, as before */
        if (msgs[i].msg_len > 0)
            srv.trigger_fn(bufs[i], (int) msgs[i].msg_len);
    trigger_server_done();
}

/* Read a short trigger message from a unix-socket client, then close it. */
static int
trigger_server_read_conn(int fd, char *buf, int size)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    time_t  end = time(NULL) + SERVER_TRIGGER_WAIT;
    int     len = 0;
    ssize_t n;

    while (len < size && time(NULL) < end) {
        pfd.revents = 0;
        if (poll(&pfd, 1, 1000) <= 0)
            continue;
        n = read(fd, buf + len, (size_t) (size - len));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (int) n;
    }
    return len;
}

static void
trigger_server_event(int lfd, int events, void *ctx)
{
    static char buf[SERVER_DGRAM_MAX];
    ssize_t n;
    int     fd;

    if (strcmp(server_ctx.type, "fifo") == 0) {
        n = read(lfd, buf, SERVER_TRIGGER_MAX);
        if (n > 0)
            trigger_server_deliver(buf, (int) n);
    } else if (strcmp(server_ctx.type, "unix-dgram") == 0) {
        trigger_server_dgrams(lfd);
    } else if ((fd = server_accept(lfd)) >= 0) {
        n = trigger_server_read_conn(fd, buf, SERVER_TRIGGER_MAX);
        close(fd);
        trigger_server_deliver(buf, (int) n);
    }
}

/* Before exit: datagrams already queued (master's last log lines) are kept. */
static void
trigger_server_drain(void)
{
    static char buf[SERVER_DGRAM_MAX];
    ssize_t n;
    int     i, count;

    if (!srv.drain)
        return;
    for (i = 0; i < srv.listen_count; i++) {
        for (count = 0; count < 10000; count++) {
            n = recv(srv.listen_fds[i], buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
            if (n <= 0)
                break;
            srv.trigger_fn(buf, n > (ssize_t) sizeof(buf) ? (int) sizeof(buf) : (int) n);
        }
    }
}

void
trigger_server_main(int argc, char **argv, TRIGGER_SERVER_FN fn, const SERVER_OPTS *opts)
{
    char    buf[SERVER_TRIGGER_MAX];
    ssize_t n;
    int     i;

    server_init(argc, argv, opts);
    srv.trigger_fn = fn;
    if (srv.standalone) {
        while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
            fn(buf, (int) n);
        exit(0);
    }
    srv.drain = strcmp(server_ctx.type, "unix-dgram") == 0;
    server_loop_common();
    for (i = 0; i < srv.listen_count; i++)
        event_read(srv.listen_fds[i], trigger_server_event, NULL);
    server_status(SERVER_STAT_AVAIL);
    for (;;) {
        event_loop(1.0);
        if (server_should_exit()) {
            trigger_server_drain();
            exit(0);
        }
        server_watchdog_idle();
    }
}

int
server_named(const char *service, const char *name)
{
    return strcmp(msg_program(), name) == 0 || (service && strcmp(service, name) == 0);
}

char  **
server_default_opts(int *argc, char **argv, const char *const *opts)
{
    int     nopt = 0, i;
    char  **args;

    while (opts[nopt] != NULL)
        nopt++;
    args = mem_array((size_t) *argc + 2 * (size_t) nopt + 1, sizeof(char *));
    args[0] = argv[0];
    for (i = 0; i < nopt; i++) {
        args[1 + 2 * i] = "-o";
        args[2 + 2 * i] = (char *) opts[i];
    }
    for (i = 1; i < *argc; i++)
        args[i + 2 * nopt] = argv[i];
    *argc += 2 * nopt;
    args[*argc] = NULL;
    return args;
}
