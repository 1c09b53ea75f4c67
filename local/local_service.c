/*
 * local_service.c - one delivery request of the local delivery agent.
 *
 * Interface (local.h): local_init() opens the alias tables once and
 * sets umask 077 and RLIMIT_FSIZE = mailbox_size_limit (SIGXFSZ ignored)
 * for the in-process file deliveries;
 * local_service() serves one request through deliver_request_serve()
 * (deliver.h): it collects the Delivered-To: headers (loop
 * detection) and delivers each recipient. local_result() logs and records one result; the duplicate
 * and loop filters live here.
 *
 * SECURITY: the request is checked by deliver_request_read(); the
 * message headers are untrusted and only compared, never executed; at
 * most LOCAL_MAX_DELIVERED_TO of them are kept.
 *
 * DIAGNOSTICS: none of its own; a request that cannot be read or answered
 * is a warning in deliver_request_serve().
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "file_limit.h"
#include "local.h"
#include "mem.h"
#include "msg.h"

#define LOCAL_MAX_DELIVERED_TO  100

void
local_init(void)
{
    local_aliases_open();
    /* For the in-process file deliveries (local_child.c), set once. */
    umask(077);
    if (file_limit_cap(var_mailbox_size_limit) < 0)
        msg_warn("cannot set the file size limit to mailbox_size_limit: %m");
}

const char *
local_orig_rcpt(const LOCAL_STATE *st)
{
    const DELIVER_RCPT *r = &st->req->rcpt[st->rcpt];

    return (r->orig_rcpt && *r->orig_rcpt) ? r->orig_rcpt : r->address;
}

int
local_header_wanted(const char *context)
{
    ARGV   *list = argv_split_list(var_prepend_delivered_header);
    size_t  i;
    int     found = 0;

    for (i = 0; i < list->argc; i++)
        if (strcasecmp(list->argv[i], context) == 0)
            found = 1;
    argv_free(list);
    return found;
}

void
local_result(LOCAL_STATE *st, const char *to, int status, const char *dsn,
             const char *fmt, ...)
{
    DELIVER_REQUEST *req = st->req;
    VSTRING *text = vstring_alloc(LOCAL_REASON_MAX);
    double  xfer;
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    xfer = deliver_now() - req->agent_time;
    if (xfer < 0)
        xfer = 0;
    if (to == NULL || strcasecmp(to, req->rcpt[st->rcpt].address) == 0)
        deliver_result(req, st->rcpt, status, dsn, "local", 0, xfer, "%s", STR(text));
    else
        deliver_result_to(req, st->rcpt, to, status, dsn, "local", 0, xfer,
                          "%s", STR(text));
    vstring_free(text);
}

/*
 * Duplicate filter: returns 1 when kind:what was delivered before in this
 * request (the recipient then counts as delivered without a second copy
 * or a second log line). local_dup_add() remembers a successful delivery.
 */
int
local_dup_check(LOCAL_STATE *st, const char *kind, const char *what)
{
    DELIVER_RCPT *r = &st->req->rcpt[st->rcpt];
    char   *key = mem_printf("%s:%s", kind, what);
    size_t  i;

    for (i = 0; i < st->dup->argc; i++) {
        if (strcmp(st->dup->argv[i], key) == 0) {
            mem_free(key);
            if (r->status < 0) {
                r->status = DELIVER_SENT;
                snprintf(r->dsn, sizeof(r->dsn), "2.0.0");
                mem_free(r->reason);
                r->reason = mem_strdup("duplicate delivery suppressed");
            }
            return 1;
        }
    }
    mem_free(key);
    return 0;
}

void
local_dup_add(LOCAL_STATE *st, const char *kind, const char *what)
{
    char   *key = mem_printf("%s:%s", kind, what);

    argv_add(st->dup, key);
    mem_free(key);
}

/*
 * The names being expanded on the current branch (alias, .forward,
 * :include:). Returns 1 when kind:what is already on it (a self
 * reference: the caller skips that expansion), else pushes it and returns 0.
 */
int
local_path_push(LOCAL_STATE *st, const char *kind, const char *what)
{
    char   *key = mem_printf("%s:%s", kind, what);
    size_t  i;

    for (i = 0; i < st->path->argc; i++) {
        if (strcmp(st->path->argv[i], key) == 0) {
            mem_free(key);
            return 1;
        }
    }
    argv_add(st->path, key);
    mem_free(key);
    return 0;
}

void
local_path_pop(LOCAL_STATE *st, size_t argc)
{
    argv_truncate(st->path, argc);
}

/* Bounce when the message already went through this recipient. */
int
local_loop_check(LOCAL_STATE *st, const char *to)
{
    size_t  i;

    for (i = 0; i < st->delivered_to->argc; i++) {
        if (strcasecmp(st->delivered_to->argv[i], to) == 0) {
            local_result(st, to, DELIVER_BOUNCE, "5.4.6",
                         "mail forwarding loop for %s", to);
            return 1;
        }
    }
    return 0;
}

/* One request: every recipient gets a result (deliver_request_serve). */
static void
local_deliver_request(DELIVER_REQUEST *req, void *unused)
{
    LOCAL_STATE st;
    int     i;

    memset(&st, 0, sizeof(st));
    st.req = req;
    st.delivered_to = argv_alloc();
    st.dup = argv_alloc();
    st.path = argv_alloc();
    st.fwd_to = argv_alloc();
    st.fwd_by = argv_alloc();
    deliver_delivered_to(req, st.delivered_to, LOCAL_MAX_DELIVERED_TO);
    for (i = 0; i < req->rcpt_count; i++) {
        st.rcpt = i;
        argv_truncate(st.path, 0);
        local_deliver_address(&st, req->rcpt[i].address, 0);
        local_forward_flush(&st);
        if (req->rcpt[i].status < 0)
            local_result(&st, NULL, DELIVER_DEFER, "4.3.0",
                         "local delivery produced no result");
    }
    argv_free(st.delivered_to);
    argv_free(st.dup);
    argv_free(st.path);
    argv_free(st.fwd_to);
    argv_free(st.fwd_by);
}

void
local_service(STREAM *client)
{
    deliver_request_serve(client, local_deliver_request, NULL);
}
