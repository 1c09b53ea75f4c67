/*
 * anvil_service.c - the anvil protocol, per-client bookkeeping, timers.
 *
 * Interface (anvil.h): anvil_init() in post_init (parameters, table,
 * timers, exit dump); anvil_greet() for each new client (on_accept);
 * anvil_service() for each request (multi-server fn).
 *
 * Requests and replies are in mail_proto.h ("anvil"). Each client
 * connection (one smtpd process) remembers the idents it announced with
 * "connect" and not yet with "disconnect"; when that connection closes,
 * the connections are taken back, so a crashed smtpd does not leave its
 * clients counted forever.
 *
 * Timers: idle entries are dropped every anvil_rate_time_unit; the
 * "statistics: max ..." lines are logged every anvil_status_update_time
 * (when there was activity) and when the process exits: on the skeleton's
 * own exits (idle, reload, master gone) through atexit(), and on SIGTERM
 * ("postfix stop") through a handler that wakes the event loop (the
 * skeleton's handler would _exit() at once without them).
 *
 * SECURITY: the socket is private (mail_owner only), yet requests are
 * checked: attr_read() bounds the list, an ident must be 1..ANVIL_IDENT_MAX
 * bytes, each client tracks at most ANVIL_LOCAL_MAX idents, and the table
 * is bounded (ANVIL_TABLE_MAX). A bad request gets status -1, not a crash.
 *
 * DIAGNOSTICS: a bad parameter value is fatal (config_read_vars), and so
 * is a failed pipe() for the SIGTERM handler, both at start. At run time
 * only warnings: a malformed request (missing or bad attribute) or an
 * unknown one (ignored), a table full (the client is not counted), and one
 * client announcing too many open connections.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "anvil.h"
#include "attr.h"
#include "config.h"
#include "events.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"

#define ANVIL_LOCAL_MAX 64              /* idents one client may hold open */

typedef struct ANVIL_LOCAL {
    char   *ident;
    int     count;
} ANVIL_LOCAL;

typedef struct ANVIL_CLIENT {
    STREAM *stream;
    int     used;
    ANVIL_LOCAL local[ANVIL_LOCAL_MAX];
    struct ANVIL_CLIENT *next;
} ANVIL_CLIENT;

static ANVIL_TABLE *anvil_table;
static ANVIL_CLIENT *anvil_clients;
static long anvil_status_time;
static ATTR_LIST *anvil_req;
static ATTR_LIST *anvil_rep;
static int anvil_term_pipe[2] = {-1, -1};

/* ---- statistics and timers ---------------------------------------------- */

static void
anvil_status_dump(void)
{
    ARGV   *lines;

    if (anvil_table == NULL)
        return;
    lines = argv_alloc();
    anvil_table_stats(anvil_table, lines);
    for (size_t i = 0; i < lines->argc; i++)
        msg_info("%s", lines->argv[i]);
    argv_free(lines);
}

static void
anvil_status_event(void *ctx)
{
    anvil_status_dump();
    event_timer(anvil_status_event, NULL, (double) anvil_status_time);
}

static void
anvil_expire_event(void *ctx)
{
    size_t  n = anvil_table_expire(anvil_table, time(NULL));

    if (msg_verbose)
        msg_info("expired %zu entries, %zu left", n, anvil_table->used);
    event_timer(anvil_expire_event, NULL, (double) anvil_table->unit);
}

static void
anvil_sigterm(int sig)
{
    int     saved = errno;

    if (anvil_term_pipe[1] < 0 || write(anvil_term_pipe[1], "T", 1) < 0)
        _exit(0);
    errno = saved;
}

static void
anvil_term_event(int fd, int events, void *ctx)
{
    exit(0);                            /* atexit: anvil_status_dump */
}

static void
anvil_signals(void)
{
    struct sigaction sa;

    if (pipe(anvil_term_pipe) < 0)
        msg_fatal("pipe: %m");
    for (int i = 0; i < 2; i++) {
        (void) fcntl(anvil_term_pipe[i], F_SETFD, FD_CLOEXEC);
        (void) fcntl(anvil_term_pipe[i], F_SETFL, O_NONBLOCK);
    }
    event_read(anvil_term_pipe[0], anvil_term_event, NULL);
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = anvil_sigterm;
    (void) sigaction(SIGTERM, &sa, NULL);
}

static long var_anvil_time_unit;

static const CONFIG_VAR anvil_vars[] = {
    CONFIG_VAR_TIME("anvil_rate_time_unit", &var_anvil_time_unit),
    CONFIG_VAR_TIME("anvil_status_update_time", &anvil_status_time),
    CONFIG_VAR_END,
};

void
anvil_init(void)
{
    config_read_vars(anvil_vars);
    anvil_table = anvil_table_create(var_anvil_time_unit, ANVIL_TABLE_MAX);
    anvil_req = attr_list_alloc();
    anvil_rep = attr_list_alloc();
    if (anvil_status_time > 0)
        event_timer(anvil_status_event, NULL, (double) anvil_status_time);
    event_timer(anvil_expire_event, NULL, (double) anvil_table->unit);
    atexit(anvil_status_dump);
    anvil_signals();
}

/* ---- clients ------------------------------------------------------------- */

static ANVIL_CLIENT *
anvil_client_find(STREAM *stream)
{
    for (ANVIL_CLIENT *cl = anvil_clients; cl; cl = cl->next)
        if (cl->stream == stream)
            return cl;
    return NULL;
}

/* The client went away: give back the connections it still held. */
static void
anvil_client_gone(STREAM *stream)
{
    ANVIL_CLIENT **link, *cl;
    time_t  now = time(NULL);

    for (link = &anvil_clients; (cl = *link) != NULL; link = &cl->next) {
        if (cl->stream != stream)
            continue;
        for (int i = 0; i < cl->used; i++) {
            while (cl->local[i].count-- > 0)
                (void) anvil_table_disconnect(anvil_table, cl->local[i].ident, now);
            mem_free(cl->local[i].ident);
        }
        *link = cl->next;
        mem_free(cl);
        return;
    }
}

int
anvil_greet(STREAM *client)
{
    ANVIL_CLIENT *cl = mem_alloc(sizeof(*cl));

    cl->stream = client;
    cl->next = anvil_clients;
    anvil_clients = cl;
    if (attr_send_protocol(client, PROTO_ANVIL) < 0) {
        anvil_client_gone(client);
        return -1;
    }
    return 0;
}

static ANVIL_LOCAL *
anvil_local_find(ANVIL_CLIENT *cl, const char *ident)
{
    for (int i = 0; i < cl->used; i++)
        if (strcmp(cl->local[i].ident, ident) == 0)
            return &cl->local[i];
    return NULL;
}

/* ---- requests ------------------------------------------------------------ */

static int
anvil_do_connect(ANVIL_CLIENT *cl, const char *ident, time_t now)
{
    ANVIL_LOCAL *loc = anvil_local_find(cl, ident);
    ANVIL_ENTRY *entry;

    if (loc == NULL && cl->used >= ANVIL_LOCAL_MAX) {
        msg_warn("too many open connections announced by one client: %d", cl->used);
        return -1;
    }
    if ((entry = anvil_table_connect(anvil_table, ident, now)) == NULL) {
        msg_warn("table full (%zu entries): %s not counted", anvil_table->used, ident);
        return -1;
    }
    if (loc == NULL) {
        loc = &cl->local[cl->used++];
        loc->ident = mem_strdup(ident);
    }
    loc->count++;
    attr_add_long(anvil_rep, ATTR_COUNT, entry->count);
    attr_add_long(anvil_rep, ATTR_RATE, entry->rate[ANVIL_RATE_CONN]);
    return 0;
}

static int
anvil_do_disconnect(ANVIL_CLIENT *cl, const char *ident, time_t now)
{
    ANVIL_LOCAL *loc = anvil_local_find(cl, ident);

    if (loc == NULL)                    /* not ours to give back */
        return 0;
    (void) anvil_table_disconnect(anvil_table, ident, now);
    if (--loc->count <= 0) {
        mem_free(loc->ident);
        *loc = cl->local[--cl->used];
    }
    return 0;
}

static int
anvil_do_event(const char *ident, int kind, time_t now)
{
    ANVIL_ENTRY *entry = anvil_table_event(anvil_table, ident, kind, now);

    if (entry == NULL) {
        msg_warn("table full (%zu entries): %s not counted", anvil_table->used, ident);
        return -1;
    }
    attr_add_long(anvil_rep, ATTR_RATE, entry->rate[kind]);
    return 0;
}

static int
anvil_do_lookup(const char *ident, int newtls_only, time_t now)
{
    static const ANVIL_ENTRY none;
    const ANVIL_ENTRY *entry = anvil_table_find(anvil_table, ident, now);

    if (entry == NULL)
        entry = &none;
    if (newtls_only) {
        attr_add_long(anvil_rep, ATTR_RATE, entry->rate[ANVIL_RATE_NTLS]);
        return 0;
    }
    attr_add_long(anvil_rep, ATTR_COUNT, entry->count);
    attr_add_long(anvil_rep, ATTR_RATE, entry->rate[ANVIL_RATE_CONN]);
    attr_add_long(anvil_rep, ATTR_ANVIL_MAIL, entry->rate[ANVIL_RATE_MAIL]);
    attr_add_long(anvil_rep, ATTR_ANVIL_RCPT, entry->rate[ANVIL_RATE_RCPT]);
    attr_add_long(anvil_rep, ATTR_ANVIL_NTLS, entry->rate[ANVIL_RATE_NTLS]);
    attr_add_long(anvil_rep, ATTR_ANVIL_AUTH, entry->rate[ANVIL_RATE_AUTH]);
    return 0;
}

/* One request: its values into anvil_rep; 0, or -1 for status -1. */
static int
anvil_dispatch(ANVIL_CLIENT *cl, const char *request, const char *ident)
{
    time_t  now = time(NULL);

    if (strcmp(request, ANVIL_REQ_CONN) == 0)
        return anvil_do_connect(cl, ident, now);
    if (strcmp(request, ANVIL_REQ_DISC) == 0)
        return anvil_do_disconnect(cl, ident, now);
    if (strcmp(request, ANVIL_REQ_MAIL) == 0)
        return anvil_do_event(ident, ANVIL_RATE_MAIL, now);
    if (strcmp(request, ANVIL_REQ_RCPT) == 0)
        return anvil_do_event(ident, ANVIL_RATE_RCPT, now);
    if (strcmp(request, ANVIL_REQ_NTLS) == 0)
        return anvil_do_event(ident, ANVIL_RATE_NTLS, now);
    if (strcmp(request, ANVIL_REQ_AUTH) == 0)
        return anvil_do_event(ident, ANVIL_RATE_AUTH, now);
    if (strcmp(request, ANVIL_REQ_NTLS_STAT) == 0)
        return anvil_do_lookup(ident, 1, now);
    if (strcmp(request, ANVIL_REQ_LOOKUP) == 0)
        return anvil_do_lookup(ident, 0, now);
    msg_warn("unrecognized request: \"%s\", ignored", request);
    return -1;
}

/* The reply to the request in anvil_req, into anvil_rep. */
static void
anvil_request(ANVIL_CLIENT *cl)
{
    const char *request = attr_get(anvil_req, ATTR_REQUEST);
    const char *ident = attr_get(anvil_req, ATTR_IDENT);
    int     status = ANVIL_STAT_FAIL;

    attr_list_reset(anvil_rep);
    if (request == NULL || ident == NULL || *ident == 0 || strlen(ident) > ANVIL_IDENT_MAX)
        msg_warn("malformed request: missing or bad %s", request ? ATTR_IDENT : ATTR_REQUEST);
    else if (anvil_dispatch(cl, request, ident) == 0)
        status = ANVIL_STAT_OK;
    if (status != ANVIL_STAT_OK)
        attr_list_reset(anvil_rep);
    attr_add_long(anvil_rep, ATTR_STATUS, status);
}

int
anvil_service(STREAM *client)
{
    ANVIL_CLIENT *cl = anvil_client_find(client);

    if (cl == NULL || attr_read(client, anvil_req) != 1) {
        anvil_client_gone(client);
        return -1;
    }
    anvil_request(cl);
    if (attr_write(client, anvil_rep) < 0 || stream_error(client) || stream_eof(client)) {
        anvil_client_gone(client);
        return -1;
    }
    return 0;
}
