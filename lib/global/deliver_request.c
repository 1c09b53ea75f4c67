/*
 * deliver_request.c - the delivery request protocol between qmgr and a
 * delivery agent: reading, checking, answering and freeing a request on
 * the agent side, writing it and reading the answers on the qmgr side.
 *
 * Interface: deliver.h. Wire sequence (mail_proto.h):
 *
 *   agent: {protocol=delivery}
 *   qmgr:  {queue_name, queue_id, offset, size, sender, ..., rcpt_count=N}
 *   qmgr:  N x {address, orig_rcpt, offset, dsn_notify, dsn_orcpt}
 *   agent: N x {status, dsn, reason}, then {more=0|1}
 *   (with more=1 the agent reads the next request, from "qmgr:" on,
 *   or the end of the connection; qmgr may write it before the answer)
 *
 * Agent side: deliver_request_read() greets, reads and checks the
 * request and opens the queue file read-only (deliver_request_next():
 * a further request on the same connection); deliver_request_reply()
 * answers with each recipient's result (deliver_result.c records them)
 * and whether it takes another; deliver_request_free();
 * deliver_request_serve() does these around an agent's delivery function,
 * for every request of the connection. qmgr side: deliver_request_write() (the
 * greeting, then the request) or deliver_request_send() before the
 * greeting is read (deliver_greeting_read() later; the request waits in
 * the socket while the agent greets), and deliver_reply_read().
 *
 * SECURITY: both directions are untrusted input from another process.
 * The agent validates queue name and id before they become a path, opens
 * the file with O_NOFOLLOW, checks that it is a regular file and the
 * offsets against its size, and bounds the recipient count
 * (DELIVER_MAX_RCPT). qmgr checks each reply's status and dsn syntax and
 * cuts the reason at DELIVER_REASON_MAX; attribute sizes are bounded by
 * attr.c.
 *
 * DIAGNOSTICS: nothing here is fatal. A malformed request or reply, or a
 * queue file that cannot be opened or does not match the request, is a
 * warning and a failed call (NULL or -1); the caller drops the peer.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "attr.h"
#include "deliver.h"
#include "verify_clnt.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "server.h"

/* Parse a non-negative floating point time stamp; 0 when absent or bad. */
static double
deliver_get_time(const ATTR_LIST *list, const char *name)
{
    const char *v = attr_get(list, name);
    char   *end;
    double  d;

    if (v == NULL || *v == 0)
        return 0;
    errno = 0;
    d = strtod(v, &end);
    if (errno || *end || !isfinite(d) || d < 0)
        return 0;
    return d;
}

static char *
deliver_get_str(const ATTR_LIST *list, const char *name)
{
    const char *v = attr_get(list, name);

    return mem_strdup(v ? v : "");
}

static long
deliver_get_long(const ATTR_LIST *list, const char *name, long dflt)
{
    long    v;

    if (attr_get_long(list, name, &v) < 0)
        return dflt;
    return v;
}

void
deliver_request_free(DELIVER_REQUEST *req)
{
    int     i;

    if (req == NULL)
        return;
    for (i = 0; i < req->rcpt_count && req->rcpt; i++) {
        mem_free(req->rcpt[i].address);
        mem_free(req->rcpt[i].orig_rcpt);
        mem_free(req->rcpt[i].dsn_orcpt);
        mem_free(req->rcpt[i].reason);
    }
    mem_free(req->rcpt);
    mem_free(req->queue_name);
    mem_free(req->queue_id);
    mem_free(req->sender);
    mem_free(req->nexthop);
    mem_free(req->transport);
    mem_free(req->encoding);
    mem_free(req->dsn_envid);
    mem_free(req->client_name);
    mem_free(req->client_addr);
    mem_free(req->client_port);
    mem_free(req->client_helo);
    mem_free(req->client_proto);
    mem_free(req->log_ident);
    mem_free(req->rewrite_context);
    mem_free(req->sasl_method);
    mem_free(req->sasl_username);
    mem_free(req->sasl_sender);
    if (req->fp)
        stream_close(req->fp);
    mem_free(req);
}

/* Fill the message part of req from the first list; -1 on bad values. */
static int
deliver_parse_message(DELIVER_REQUEST *req, const ATTR_LIST *list)
{
    const char *missing;
    long    count;

    missing = attr_require(list, ATTR_QUEUE_NAME, ATTR_QUEUE_ID, ATTR_OFFSET,
                           ATTR_SIZE, ATTR_SENDER, ATTR_RCPT_COUNT, (char *) 0);
    if (missing) {
        msg_warn("delivery request: missing attribute %s", missing);
        return -1;
    }
    req->queue_name = deliver_get_str(list, ATTR_QUEUE_NAME);
    req->queue_id = deliver_get_str(list, ATTR_QUEUE_ID);
    if (!queue_name_ok(req->queue_name) || !queue_id_ok(req->queue_id)) {
        msg_warn("delivery request: bad queue name or id");
        return -1;
    }
    req->offset = deliver_get_long(list, ATTR_OFFSET, -1);
    req->size = deliver_get_long(list, ATTR_SIZE, -1);
    count = deliver_get_long(list, ATTR_RCPT_COUNT, -1);
    if (req->offset <= 0 || req->size < 0 || count < 1 || count > DELIVER_MAX_RCPT) {
        msg_warn("%s: delivery request: bad offset, size or recipient count",
                 req->queue_id);
        return -1;
    }
    req->sender = deliver_get_str(list, ATTR_SENDER);
    req->nexthop = deliver_get_str(list, ATTR_NEXTHOP);
    req->transport = deliver_get_str(list, ATTR_TRANSPORT);
    req->encoding = deliver_get_str(list, ATTR_ENCODING);
    req->dsn_envid = deliver_get_str(list, ATTR_DSN_ENVID);
    req->client_name = deliver_get_str(list, ATTR_CLIENT_NAME);
    req->client_addr = deliver_get_str(list, ATTR_CLIENT_ADDR);
    req->client_port = deliver_get_str(list, ATTR_CLIENT_PORT);
    req->client_helo = deliver_get_str(list, ATTR_HELO_NAME);
    req->client_proto = deliver_get_str(list, ATTR_PROTO_NAME);
    req->log_ident = deliver_get_str(list, ATTR_LOG_IDENT);
    req->rewrite_context = deliver_get_str(list, ATTR_RWR_CONTEXT);
    req->sasl_method = deliver_get_str(list, ATTR_SASL_METHOD);
    req->sasl_username = deliver_get_str(list, ATTR_SASL_USERNAME);
    req->sasl_sender = deliver_get_str(list, ATTR_SASL_SENDER);
    req->dsn_ret = (int) deliver_get_long(list, ATTR_DSN_RET, 0);
    req->trace_flags = (int) deliver_get_long(list, ATTR_TRACE_FLAGS, 0) & DELIVER_TRACE_MASK;
    if (req->trace_flags & DELIVER_TRACE_PROBE)
        req->trace_flags |= DELIVER_TRACE_VERIFY;
    req->flags = (int) deliver_get_long(list, ATTR_FLAGS, 0) & DELIVER_CONN_MASK;
    req->arrival_time = deliver_get_time(list, ATTR_ARRIVAL_TIME);
    req->active_time = deliver_get_time(list, ATTR_ACTIVE_TIME);
    req->rcpt = mem_array((size_t) count, sizeof(DELIVER_RCPT));
    req->rcpt_count = 0;
    return (int) count;
}

static int
deliver_parse_rcpt(DELIVER_REQUEST *req, const ATTR_LIST *list)
{
    DELIVER_RCPT *r = &req->rcpt[req->rcpt_count];

    if (attr_get(list, ATTR_ADDRESS) == NULL) {
        msg_warn("%s: delivery request: recipient without address", req->queue_id);
        return -1;
    }
    r->address = deliver_get_str(list, ATTR_ADDRESS);
    r->orig_rcpt = deliver_get_str(list, ATTR_ORIG_RCPT);
    r->dsn_orcpt = deliver_get_str(list, ATTR_DSN_ORCPT);
    r->offset = deliver_get_long(list, ATTR_OFFSET, 0);
    r->dsn_notify = (int) deliver_get_long(list, ATTR_DSN_NOTIFY, 0);
    r->status = -1;
    req->rcpt_count++;
    if (r->offset < 0) {
        msg_warn("%s: delivery request: bad recipient offset", req->queue_id);
        return -1;
    }
    return 0;
}

/* Open the queue file read-only and check the offsets against its size. */
static int
deliver_open_file(DELIVER_REQUEST *req)
{
    VSTRING *path = vstring_alloc(256);
    struct stat st;
    int     i;

    queue_path(path, req->queue_name, req->queue_id);
    req->fp = stream_open(STR(path), O_RDONLY | O_NOFOLLOW, 0);
    if (req->fp == NULL) {
        msg_warn("%s: open queue file %s: %s", req->queue_id, STR(path), strerror(errno));
        vstring_free(path);
        return -1;
    }
    vstring_free(path);
    if (fstat(stream_fd(req->fp), &st) < 0 || !S_ISREG(st.st_mode)) {
        msg_warn("%s: queue file is not a regular file", req->queue_id);
        return -1;
    }
    if (req->offset >= st.st_size) {
        msg_warn("%s: delivery request: content offset %ld beyond end of file",
                 req->queue_id, req->offset);
        return -1;
    }
    for (i = 0; i < req->rcpt_count; i++) {
        if (req->rcpt[i].offset >= st.st_size) {
            msg_warn("%s: delivery request: recipient offset beyond end of file",
                     req->queue_id);
            return -1;
        }
    }
    return 0;
}

/* One request; NULL, with a warning unless quiet_eof and qmgr just closed. */
static DELIVER_REQUEST *
deliver_request_get(STREAM *client, int quiet_eof)
{
    DELIVER_REQUEST *req = mem_alloc(sizeof(*req));
    ATTR_LIST *list = attr_list_alloc();
    int     count, i, rc;

    if ((rc = attr_read(client, list)) != 1) {
        if (rc != 0 || !quiet_eof)
            msg_warn("delivery request: cannot read request");
        goto bad;
    }
    if ((count = deliver_parse_message(req, list)) < 0)
        goto bad;
    for (i = 0; i < count; i++) {
        if (attr_read(client, list) != 1) {
            msg_warn("%s: delivery request: cannot read recipient", req->queue_id);
            goto bad;
        }
        if (deliver_parse_rcpt(req, list) < 0)
            goto bad;
    }
    if (deliver_open_file(req) < 0)
        goto bad;
    req->agent_time = deliver_now();
    attr_list_free(list);
    return req;

bad:
    attr_list_free(list);
    deliver_request_free(req);
    return NULL;
}

DELIVER_REQUEST *
deliver_request_read(STREAM *client)
{
    if (attr_send_protocol(client, PROTO_DELIVERY) < 0) {
        msg_warn("delivery request: cannot send greeting");
        return NULL;
    }
    return deliver_request_get(client, 0);
}

DELIVER_REQUEST *
deliver_request_next(STREAM *client)
{
    return deliver_request_get(client, 1);
}

/* A probe's results go to the verify service (mail_proto.h "verify"). */
static void
deliver_report_probe(const DELIVER_REQUEST *req)
{
    for (int i = 0; i < req->rcpt_count; i++) {
        const DELIVER_RCPT *r = &req->rcpt[i];

        (void) verify_clnt_update_rcpt(r->address, r->orig_rcpt,
                                       r->status == DELIVER_SENT ? VERIFY_ADDR_OK
                                       : r->status == DELIVER_BOUNCE ? VERIFY_ADDR_BOUNCE
                                       : VERIFY_ADDR_DEFER,
                                       r->status < 0 ? "delivery was not attempted"
                                       : r->reason ? r->reason : "");
    }
}

int
deliver_request_reply(STREAM *client, DELIVER_REQUEST *req, int more)
{
    ATTR_LIST *list = attr_list_alloc();
    int     i, ret;

    if (req->trace_flags & DELIVER_TRACE_PROBE)
        deliver_report_probe(req);

    /* One write for the whole answer (more when it fills the buffer), so
     * that qmgr is woken once and finds it complete. */
    for (i = 0; i < req->rcpt_count; i++) {
        DELIVER_RCPT *r = &req->rcpt[i];

        attr_list_reset(list);
        if (r->status < 0) {
            attr_add_long(list, ATTR_STATUS, DELIVER_DEFER);
            attr_add(list, ATTR_DSN_STATUS, "4.3.0");
            attr_add(list, ATTR_REASON, "delivery was not attempted");
        } else {
            attr_add_long(list, ATTR_STATUS, r->status);
            attr_add(list, ATTR_DSN_STATUS, r->dsn);
            attr_add(list, ATTR_REASON, r->reason ? r->reason : "");
        }
        attr_put(client, list);
    }
    attr_list_reset(list);
    attr_add_long(list, ATTR_MORE, more ? 1 : 0);
    ret = attr_write(client, list);
    attr_list_free(list);
    return ret;
}

void
deliver_request_serve(STREAM *client, DELIVER_REQUEST_FN fn, void *ctx)
{
    DELIVER_REQUEST *req = deliver_request_read(client);
    int     more = 1;

    while (req != NULL) {
        fn(req, ctx);
        more = single_server_take_another();
        if (deliver_request_reply(client, req, more) < 0 || stream_flush(client) < 0) {
            msg_warn("%s: cannot send the delivery status to the queue manager", req->queue_id);
            more = 0;
        }
        deliver_request_free(req);
        req = more ? deliver_request_next(client) : NULL;
    }
}

/* ---- qmgr side ---------------------------------------------------------- */

int
deliver_greeting_read(STREAM *agent)
{
    return attr_expect_protocol(agent, PROTO_DELIVERY);
}

size_t
deliver_request_size(const DELIVER_REQUEST *req)
{
    const char *fields[] = {
        req->queue_name, req->queue_id, req->sender, req->nexthop, req->transport,
        req->encoding, req->dsn_envid, req->client_name, req->client_addr,
        req->client_port, req->client_helo, req->client_proto, req->log_ident,
        req->rewrite_context, req->sasl_method, req->sasl_username, req->sasl_sender,
    };
    size_t  n = 512;                    /* names, numbers, separators */

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        n += fields[i] ? strlen(fields[i]) : 0;
    for (int i = 0; i < req->rcpt_count; i++) {
        const DELIVER_RCPT *r = &req->rcpt[i];

        n += 96 + strlen(r->address) + (r->orig_rcpt ? strlen(r->orig_rcpt) : 0)
            + (r->dsn_orcpt ? strlen(r->dsn_orcpt) : 0);
    }
    return n;
}

int
deliver_request_write(STREAM *agent, const DELIVER_REQUEST *req)
{
    if (deliver_greeting_read(agent) < 0)
        return -1;
    return deliver_request_send(agent, req);
}

int
deliver_request_send(STREAM *agent, const DELIVER_REQUEST *req)
{
    ATTR_LIST *list;
    int     i, ret;

    list = attr_list_alloc();
    attr_add(list, ATTR_QUEUE_NAME, req->queue_name);
    attr_add(list, ATTR_QUEUE_ID, req->queue_id);
    attr_add_long(list, ATTR_OFFSET, req->offset);
    attr_add_long(list, ATTR_SIZE, req->size);
    attr_add(list, ATTR_SENDER, req->sender);
    attr_add(list, ATTR_NEXTHOP, req->nexthop);
    attr_add(list, ATTR_TRANSPORT, req->transport);
    attr_addf(list, ATTR_ARRIVAL_TIME, "%.6f", req->arrival_time);
    attr_addf(list, ATTR_ACTIVE_TIME, "%.6f", req->active_time);
    attr_add(list, ATTR_ENCODING, req->encoding);
    attr_add(list, ATTR_DSN_ENVID, req->dsn_envid);
    attr_add_long(list, ATTR_DSN_RET, req->dsn_ret);
    if (req->trace_flags)
        attr_add_long(list, ATTR_TRACE_FLAGS, req->trace_flags);
    if (req->flags)
        attr_add_long(list, ATTR_FLAGS, req->flags);
    attr_add(list, ATTR_CLIENT_NAME, req->client_name);
    attr_add(list, ATTR_CLIENT_ADDR, req->client_addr);
    attr_add(list, ATTR_CLIENT_PORT, req->client_port ? req->client_port : "");
    attr_add(list, ATTR_HELO_NAME, req->client_helo ? req->client_helo : "");
    attr_add(list, ATTR_PROTO_NAME, req->client_proto ? req->client_proto : "");
    attr_add(list, ATTR_LOG_IDENT, req->log_ident ? req->log_ident : "");
    attr_add(list, ATTR_RWR_CONTEXT, req->rewrite_context ? req->rewrite_context : "");
    attr_add(list, ATTR_SASL_METHOD, req->sasl_method ? req->sasl_method : "");
    attr_add(list, ATTR_SASL_USERNAME, req->sasl_username ? req->sasl_username : "");
    attr_add(list, ATTR_SASL_SENDER, req->sasl_sender ? req->sasl_sender : "");
    attr_add_long(list, ATTR_RCPT_COUNT, req->rcpt_count);
    ret = attr_write(agent, list);
    for (i = 0; i < req->rcpt_count && ret == 0; i++) {
        const DELIVER_RCPT *r = &req->rcpt[i];

        attr_list_reset(list);
        attr_add(list, ATTR_ADDRESS, r->address);
        attr_add(list, ATTR_ORIG_RCPT, r->orig_rcpt);
        attr_add_long(list, ATTR_OFFSET, r->offset);
        attr_add_long(list, ATTR_DSN_NOTIFY, r->dsn_notify);
        attr_add(list, ATTR_DSN_ORCPT, r->dsn_orcpt);
        ret = attr_write(agent, list);
    }
    attr_list_free(list);
    return ret;
}

int
deliver_reply_read(STREAM *agent, DELIVER_REQUEST *req, int *more)
{
    ATTR_LIST *list = attr_list_alloc();
    const char *dsn, *reason;
    long    status;
    int     i;

    for (i = 0; i < req->rcpt_count; i++) {
        DELIVER_RCPT *r = &req->rcpt[i];

        if (attr_read(agent, list) != 1
            || attr_get_long(list, ATTR_STATUS, &status) < 0
            || (dsn = attr_get(list, ATTR_DSN_STATUS)) == NULL) {
            msg_warn("%s: malformed or missing delivery agent reply", req->queue_id);
            attr_list_free(list);
            return -1;
        }
        if ((status != DELIVER_SENT && status != DELIVER_DEFER
             && status != DELIVER_BOUNCE) || !deliver_dsn_ok(dsn)) {
            msg_warn("%s: bad delivery agent reply status", req->queue_id);
            attr_list_free(list);
            return -1;
        }
        reason = attr_get(list, ATTR_REASON);
        r->status = (int) status;
        snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
        mem_free(r->reason);
        r->reason = mem_strndup(reason ? reason : "", DELIVER_REASON_MAX);
    }
    if (attr_read(agent, list) != 1 || attr_get_long(list, ATTR_MORE, &status) < 0) {
        msg_warn("%s: malformed or missing delivery agent reply", req->queue_id);
        attr_list_free(list);
        return -1;
    }
    *more = status == 1;
    attr_list_free(list);
    return 0;
}
