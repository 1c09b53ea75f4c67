/*
 * master_service.c - master's services: endpoints, listening, reload.
 *
 * Interface: master.h. One MASTER_SERV per master.cf entry. Endpoints:
 *   inet        "port", "host:port", "[addr]:port"; without a host one
 *               socket per $inet_interfaces address ("all": the wildcard)
 *   unix, pass  private/NAME or public/NAME, a stream socket, mode 0666
 *   unix-dgram  the same path, a datagram socket (postlog)
 *   fifo        public/NAME (or private/), mode 0622
 * master polls a service's listen descriptors only while the service has
 * no available child and may start another (master_avail_update); a
 * readable descriptor then makes it spawn one.
 *
 * Reload: services are matched by (name, type, private); a match keeps its
 * sockets and takes the new settings, its children are retired (they
 * finish their client and exit); services no longer configured are
 * closed; new ones are opened. A new endpoint that cannot be opened on
 * reload is a warning, at start-up it is fatal (as in Postfix). A
 * service whose program is not in $daemon_directory draws one warning
 * at start (and reload) and is not started (master_serv_missing).
 *
 * SECURITY: runs as root. Paths come from master.cf (root-owned). The
 * socket directories' modes (private 0700, public 0710) are the access
 * control; the sockets themselves are 0666.
 *
 * DIAGNOSTICS: a service that cannot listen at all is fatal ("cannot open
 * ... service"); a bind failure on one of several addresses, a bad inet
 * service name and a duplicate service line (ignored) are warnings.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "connect.h"
#include "events.h"
#include "master.h"
#include "mem.h"
#include "msg.h"

MASTER_SERV *master_services;

/* ---- endpoints ------------------------------------------------------- */

static void
master_add_fd(MASTER_SERV *serv, int fd)
{
    serv->listen_fds = mem_realloc_array(serv->listen_fds,
                                         (size_t) serv->listen_count + 1, sizeof(int));
    serv->listen_fds[serv->listen_count++] = fd;
    fd_nonblock(fd, 1);
    fd_cloexec(fd, 1);
}

/* Split "[addr]:port", "host:port" or "port"; host is "" for "port". */
static int
master_inet_split(const char *spec, char **host, char **port)
{
    const char *colon;
    const char *close;

    if (*spec == '[') {
        if ((close = strchr(spec, ']')) == NULL || close[1] != ':' || close[2] == 0)
            return -1;
        *host = mem_strndup(spec + 1, (size_t) (close - spec - 1));
        *port = mem_strdup(close + 2);
        return 0;
    }
    if ((colon = strrchr(spec, ':')) == NULL) {
        *host = mem_strdup("");
        *port = mem_strdup(spec);
        return *spec ? 0 : -1;
    }
    if (colon[1] == 0)
        return -1;
    *host = mem_strndup(spec, (size_t) (colon - spec));
    *port = mem_strdup(colon + 1);
    return 0;
}

static int
master_want_ipv6(void)
{
    const char *protos = var_inet_protocols;

    return strstr(protos, "all") != NULL || strstr(protos, "ipv6") != NULL;
}

static int
master_want_ipv4(void)
{
    const char *protos = var_inet_protocols;

    return *protos == 0 || strstr(protos, "all") != NULL || strstr(protos, "ipv4") != NULL;
}

/* Bind host/port; optional = only warn when it fails. */
static int
master_inet_bind(MASTER_SERV *serv, const char *host, const char *port, int optional)
{
    int     fd = inet_listen(host, port, MASTER_BACKLOG);

    if (fd < 0) {
        if (optional)
            msg_warn("bind %s port %s: %m", *host ? host : "*", port);
        else
            msg_warn("bind %s port %s: %m", *host ? host : "0.0.0.0", port);
        return optional ? 0 : -1;
    }
    master_add_fd(serv, fd);
    return 0;
}

static int
master_open_inet(MASTER_SERV *serv)
{
    char   *host = NULL, *port = NULL;
    ARGV   *ifaces;
    size_t  i;
    int     ret = 0;

    if (master_inet_split(serv->name, &host, &port) < 0) {
        msg_warn("master.cf: bad inet service name \"%s\"", serv->name);
        mem_free(host);
        mem_free(port);
        return -1;
    }
    if (*host) {
        ret = master_inet_bind(serv, host, port, 0);
    } else {
        ifaces = argv_split_list(var_inet_interfaces);
        if (ifaces->argc == 0 || strcasecmp(ifaces->argv[0], "all") == 0) {
            if (master_want_ipv4())
                ret = master_inet_bind(serv, "", port, 0);
            if (ret == 0 && master_want_ipv6())
                ret = master_inet_bind(serv, "::", port, master_want_ipv4());
        } else {
            for (i = 0; i < ifaces->argc && ret == 0; i++) {
                if (strcasecmp(ifaces->argv[i], "loopback-only") == 0) {
                    if (master_want_ipv4())
                        ret = master_inet_bind(serv, "127.0.0.1", port, 0);
                    if (ret == 0 && master_want_ipv6())
                        ret = master_inet_bind(serv, "::1", port, 1);
                } else {
                    ret = master_inet_bind(serv, ifaces->argv[i], port, 0);
                }
            }
        }
        argv_free(ifaces);
    }
    mem_free(host);
    mem_free(port);
    return ret;
}

static int
master_open_local(MASTER_SERV *serv)
{
    struct stat st;
    int     fd;

    switch (serv->type) {
    case MASTER_UNIX:
    case MASTER_PASS:
        fd = unix_listen(serv->endpoint, MASTER_BACKLOG, 0666);
        break;
    case MASTER_UNIX_DGRAM:
        fd = unix_dgram_listen(serv->endpoint, 0666);
        break;
    case MASTER_FIFO:
        /* A socket left from a master.cf that had "unix" here. */
        if (lstat(serv->endpoint, &st) == 0 && !S_ISFIFO(st.st_mode))
            (void) unlink(serv->endpoint);
        fd = fifo_listen(serv->endpoint, 0622);
        break;
    default:
        errno = EINVAL;
        fd = -1;
    }
    if (fd < 0) {
        msg_warn("open %s service %s: %m", serv->type_name, serv->endpoint);
        return -1;
    }
    master_add_fd(serv, fd);
    return 0;
}

static void
master_close_endpoints(MASTER_SERV *serv)
{
    int     i;

    for (i = 0; i < serv->listen_count; i++) {
        event_cancel_fd(serv->listen_fds[i]);
        (void) close(serv->listen_fds[i]);
    }
    serv->listen_count = 0;
    serv->listening = 0;
}

/* ---- listening --------------------------------------------------------- */

static void
master_listen_event(int fd, int events, void *ctx)
{
    MASTER_SERV *serv = ctx;

    if (serv->listening)
        master_spawn(serv);
}

void
master_avail_update(MASTER_SERV *serv)
{
    int     want, i;

    want = serv->listen_count > 0 && !serv->throttled && serv->avail_proc == 0
        && (serv->maxproc == 0 || serv->total_proc < serv->maxproc);
    if (serv->listen_count > 0 && !serv->throttled && serv->avail_proc == 0
        && serv->maxproc > 0 && serv->total_proc >= serv->maxproc)
        master_stress_warn(serv);
    if (want == serv->listening)
        return;
    for (i = 0; i < serv->listen_count; i++) {
        if (want)
            event_read(serv->listen_fds[i], master_listen_event, serv);
        else
            event_cancel_read(serv->listen_fds[i]);
    }
    serv->listening = want;
}

static void
master_unthrottle(void *ctx)
{
    MASTER_SERV *serv = ctx;

    serv->throttled = 0;
    master_avail_update(serv);
}

/* Stop starting processes for a while (bad start-up, fork failure). */
void
master_throttle(MASTER_SERV *serv)
{
    serv->throttled = 1;
    master_avail_update(serv);
    event_timer(master_unthrottle, serv, (double) var_throttle_time);
}

/* ---- service objects --------------------------------------------------- */

static void
master_serv_settings(MASTER_SERV *serv, const MASTER_ENT *ent)
{
    const char *ddir = var_daemon_dir;

    serv->unpriv = ent->unpriv;
    serv->chroot = ent->chroot;
    serv->wakeup = ent->wakeup;
    serv->wakeup_cond = ent->wakeup_conditional;
    serv->maxproc = ent->maxproc;
    mem_free(serv->command);
    serv->command = mem_strdup(ent->command);
    mem_free(serv->path);
    serv->path = ent->command[0] == '/' ? mem_strdup(ent->command)
        : mem_printf("%s/%s", ddir, ent->command);
    argv_free(serv->args);
    serv->args = argv_alloc();
    for (size_t i = 0; i < ent->args->argc; i++)
        argv_add(serv->args, ent->args->argv[i]);
}

static MASTER_SERV *
master_serv_create(const MASTER_ENT *ent)
{
    MASTER_SERV *serv = mem_alloc(sizeof(*serv));

    serv->name = mem_strdup(ent->service);
    serv->type = ent->type;
    serv->type_name = mem_strdup(ent->type_name);
    serv->private_ = ent->private_;
    if (serv->type != MASTER_INET)
        serv->endpoint = mem_printf("%s/%s", serv->private_ ? "private" : "public",
                                    serv->name);
    serv->status_fd[0] = serv->status_fd[1] = -1;
    master_serv_settings(serv, ent);
    return serv;
}

static void
master_serv_free(MASTER_SERV *serv)
{
    mem_free(serv->name);
    mem_free(serv->type_name);
    mem_free(serv->command);
    mem_free(serv->path);
    mem_free(serv->endpoint);
    mem_free(serv->listen_fds);
    argv_free(serv->args);
    mem_free(serv);
}

/* Open the endpoints and start the machinery; -1 if an endpoint failed. */
static int
master_serv_start(MASTER_SERV *serv)
{
    int     ret;

    ret = serv->type == MASTER_INET ? master_open_inet(serv) : master_open_local(serv);
    if (ret < 0) {
        master_close_endpoints(serv);
        return -1;
    }
    master_status_init(serv);
    master_wakeup_init(serv);
    master_avail_update(serv);
    return 0;
}

static void
master_serv_stop(MASTER_SERV *serv)
{
    master_wakeup_cleanup(serv);
    event_cancel_timer(master_unthrottle, serv);
    master_close_endpoints(serv);
    master_retire_children(serv, 1);
    master_status_close(serv);
}

static MASTER_SERV *
master_serv_find(const MASTER_ENT *ent)
{
    MASTER_SERV *serv;

    for (serv = master_services; serv; serv = serv->next)
        if (serv->type == ent->type && serv->private_ == ent->private_
            && strcmp(serv->name, ent->service) == 0)
            return serv;
    return NULL;
}

static void
master_serv_append(MASTER_SERV *serv)
{
    MASTER_SERV **pp = &master_services;

    while (*pp)
        pp = &(*pp)->next;
    *pp = serv;
}

/*
 * A master.cf entry whose program is not installed (Debian's master.cf
 * names tlsmgr, verify, flush, scache, virtual, pipe, ...): one warning
 * naming the service and the file, and the service is not started, so
 * its clients fail at connect instead of master forking a program that
 * cannot run again and again. Checked at start and at each reload.
 */
static int
master_serv_missing(const MASTER_ENT *ent, const MASTER_SERV *serv)
{
    if (access(serv->path, X_OK) == 0)
        return 0;
    msg_warn("master.cf line %d: service %s/%s: cannot execute %s: %m -- service not started",
             ent->line, ent->service, ent->type_name, serv->path);
    return 1;
}

int
master_services_start(MASTER_TABLE *tab, int fatal_errors)
{
    MASTER_SERV *serv;
    int     i;

    for (i = 0; i < tab->count; i++) {
        if (master_serv_find(tab->ents[i])) {
            if (!fatal_errors)          /* reload: an existing service */
                continue;
            msg_warn("master.cf line %d: duplicate service %s/%s -- ignored",
                     tab->ents[i]->line, tab->ents[i]->service, tab->ents[i]->type_name);
            continue;
        }
        serv = master_serv_create(tab->ents[i]);
        if (master_serv_missing(tab->ents[i], serv)) {
            master_serv_free(serv);
            continue;
        }
        if (master_serv_start(serv) < 0) {
            if (fatal_errors)
                msg_fatal("cannot open %s service %s", serv->type_name, serv->name);
            master_serv_free(serv);
            continue;
        }
        master_serv_append(serv);
    }
    return 0;
}

void
master_services_reload(MASTER_TABLE *tab)
{
    MASTER_SERV *serv, **pp;
    int     i;

    for (serv = master_services; serv; serv = serv->next)
        serv->mark = 1;
    for (i = 0; i < tab->count; i++) {
        if ((serv = master_serv_find(tab->ents[i])) == NULL || !serv->mark)
            continue;
        serv->mark = 0;
        master_wakeup_cleanup(serv);
        master_retire_children(serv, 0);
        master_status_close(serv);
        master_serv_settings(serv, tab->ents[i]);
        serv->throttled = 0;
        event_cancel_timer(master_unthrottle, serv);
        master_status_init(serv);
        master_wakeup_init(serv);
        master_avail_update(serv);
    }
    for (pp = &master_services; (serv = *pp) != NULL;) {
        if (serv->mark) {
            *pp = serv->next;
            master_serv_stop(serv);
            master_serv_free(serv);
        } else {
            pp = &serv->next;
        }
    }
    master_services_start(tab, 0);      /* the new ones; existing are skipped */
}

void
master_services_stop(void)
{
    MASTER_SERV *serv;

    while ((serv = master_services) != NULL) {
        master_services = serv->next;
        master_serv_stop(serv);
        master_serv_free(serv);
    }
}
