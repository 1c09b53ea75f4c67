/*
 * qmgr_deliver.c - one delivery request to a delivery agent on
 * private/<transport>, driven by the event loop.
 *
 * Interface (qmgr.h): qmgr_deliver_start().
 *
 * Sequence: connect (a UNIX socket: immediate, or it fails) and send the
 * request at once when it is small (QMGR_PIPELINE_RCPT recipients and
 * QMGR_PIPELINE_SIZE bytes at most: it fits in the socket's buffer, so
 * the write cannot wait for an agent that is not there yet); the agent
 * finds it there when it has greeted, without a round trip. Then wait in
 * the event loop until the agent's {protocol=delivery} greeting is
 * readable (the agent may first have to be started by master, or wait
 * for a free process) and check it; a larger request is sent only then.
 * Wait in the event loop until the reply is readable, then read the
 * per-recipient results (deliver_reply_read; once readable it arrives at
 * once, bounded by the stream timeout). A timer of ipc_timeout covers the
 * whole exchange.
 *
 * A transport that cannot be reached is dead for transport_retry_time
 * (logged as "warning: connect to transport private/T: <error>"); its
 * recipients are deferred with "mail transport unavailable". A protocol
 * error or a lost agent defers the recipients without a result with
 * "unknown mail transport error".
 *
 * SECURITY: the agent's replies are checked: a status other than 0, 4 or
 * 5 counts as deferred; texts are bounded by attr.h.
 *
 * DIAGNOSTICS: none fatal; a transport that cannot be reached, does not
 * greet, takes no request, times out or drops the connection is a warning,
 * and the recipients are deferred with that reason (and the transport or
 * destination backs off).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "connect.h"
#include "deliver.h"
#include "events.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "qmgr.h"

#define QMGR_CONNECT_TIMEOUT 10
#define QMGR_READ_TIMEOUT    60 /* one read once the agent is readable */
#define QMGR_PIPELINE_RCPT   64 /* send before the greeting: at most ... */
#define QMGR_PIPELINE_SIZE   16384      /* ... recipients and bytes */

static void deliver_timeout_event(void *ctx);

/* Close the agent connection and finish the entry. */
static void
deliver_finish(QMGR_ENTRY *entry)
{
    if (entry->agent) {
        event_cancel_fd(stream_fd(entry->agent));
        (void) stream_close(entry->agent);
        entry->agent = 0;
    }
    event_cancel_timer(deliver_timeout_event, entry);
    qmgr_entry_done(entry);
}

static void
deliver_timeout_event(void *ctx)
{
    QMGR_ENTRY *entry = ctx;

    msg_warn("%s: timeout while waiting for transport %s",
             entry->message->queue_id, entry->queue->transport->name);
    qmgr_entry_defer(entry, "4.3.0", "unknown mail transport error");
    deliver_finish(entry);
}

/* The request as the agent sees it; strings are borrowed from msg. */
static void
deliver_build(QMGR_ENTRY *entry, DELIVER_REQUEST *req)
{
    QMGR_MESSAGE *msg = entry->message;

    memset(req, 0, sizeof(*req));
    req->queue_name = (char *) QUEUE_ACTIVE;
    req->queue_id = msg->queue_id;
    req->offset = msg->data_offset;
    req->size = msg->size;
    req->sender = msg->sender;
    req->nexthop = entry->queue->nexthop;
    req->transport = entry->queue->transport->name;
    req->arrival_time = msg->arrival_time;
    req->active_time = msg->active_time;
    req->encoding = msg->encoding;
    req->dsn_envid = msg->dsn_envid;
    req->dsn_ret = msg->dsn_ret;
    req->trace_flags = msg->trace_flags;
    req->flags = entry->queue->conn_flags;
    req->client_name = msg->client_name;
    req->client_addr = msg->client_addr;
    req->client_port = msg->client_port;
    req->client_helo = msg->client_helo;
    req->client_proto = msg->client_proto;
    req->log_ident = msg->log_ident;
    req->rewrite_context = msg->rewrite_context;
    req->sasl_method = msg->sasl_method;
    req->sasl_username = msg->sasl_username;
    req->sasl_sender = msg->sasl_sender;
    req->rcpt_count = entry->rcpt_count;
    req->rcpt = mem_array((size_t) entry->rcpt_count, sizeof(DELIVER_RCPT));
    for (int i = 0; i < entry->rcpt_count; i++) {
        QMGR_RCPT *r = msg->rcpt + entry->rcpt_index[i];
        DELIVER_RCPT *d = req->rcpt + i;

        d->address = r->address;
        d->orig_rcpt = r->orig_rcpt;
        d->offset = r->offset;
        d->dsn_notify = r->dsn_notify;
        d->dsn_orcpt = r->dsn_orcpt;
        d->status = -1;
    }
}

/* No greeting, or the request could not be sent: defer the entry. */
static void
deliver_no_greeting(QMGR_ENTRY *entry)
{
    msg_warn("%s: no greeting from, or cannot send request to, transport %s",
             entry->message->queue_id, entry->queue->transport->name);
    qmgr_entry_defer(entry, "4.3.0", "unknown mail transport error");
    deliver_finish(entry);
}

static void
deliver_reply_event(int fd, int events, void *ctx)
{
    QMGR_ENTRY *entry = ctx;
    QMGR_MESSAGE *msg = entry->message;
    DELIVER_REQUEST req;

    if (!entry->greeted) {                      /* the request went first */
        if (deliver_greeting_read(entry->agent) < 0) {
            event_cancel_read(fd);
            deliver_no_greeting(entry);
            return;
        }
        entry->greeted = 1;
        if (stream_wait_readable(entry->agent, 0) <= 0)
            return;                             /* the reply comes later */
    }
    event_cancel_read(fd);
    deliver_build(entry, &req);
    if (deliver_reply_read(entry->agent, &req) < 0)
        msg_warn("%s: lost connection with transport %s",
                 msg->queue_id, entry->queue->transport->name);
    for (int i = 0; i < entry->rcpt_count; i++) {
        DELIVER_RCPT *d = req.rcpt + i;

        if (d->status == DELIVER_SENT || d->status == DELIVER_BOUNCE
            || d->status == DELIVER_DEFER)
            qmgr_log_agent_result(msg, entry->rcpt_index[i], d->status, d->dsn,
                                  d->reason ? d->reason : "");
        else if (d->status != -1)
            qmgr_log_verdict(msg, entry->rcpt_index[i], DELIVER_DEFER, "4.3.0",
                             "unknown mail transport error");
        /* status -1: no answer; qmgr_entry_done() defers it */
        mem_free(d->reason);
    }
    mem_free(req.rcpt);
    deliver_finish(entry);
}

/* The agent is readable: deliver_request_write() checks its greeting. */
static void
deliver_greeting_event(int fd, int events, void *ctx)
{
    QMGR_ENTRY *entry = ctx;
    DELIVER_REQUEST req;
    int     rc;

    event_cancel_read(fd);
    deliver_build(entry, &req);
    rc = deliver_request_write(entry->agent, &req);
    mem_free(req.rcpt);
    if (rc < 0) {
        deliver_no_greeting(entry);
        return;
    }
    entry->greeted = 1;
    event_read(fd, deliver_reply_event, entry);
}

/* Send a small request before the greeting: 1 = sent, 0 = not small,
 * -1 = error (the stream is marked). */
static int
deliver_send_early(QMGR_ENTRY *entry)
{
    DELIVER_REQUEST req;
    int     rc = 0;

    if (entry->rcpt_count > QMGR_PIPELINE_RCPT)
        return 0;
    deliver_build(entry, &req);
    if (deliver_request_size(&req) <= QMGR_PIPELINE_SIZE)
        rc = deliver_request_send(entry->agent, &req) < 0 ? -1 : 1;
    mem_free(req.rcpt);
    return rc;
}

int
qmgr_deliver_start(QMGR_ENTRY *entry)
{
    QMGR_TRANSPORT *tr = entry->queue->transport;
    VSTRING *path = vstring_alloc(256);
    int     fd;

    vstring_sprintf(path, "%s/%s", MAIL_CLASS_PRIVATE, tr->name);
    if (strchr(tr->name, '/') != 0 || strcmp(tr->name, "..") == 0
        || strcmp(tr->name, ".") == 0) {
        errno = EINVAL;
        fd = -1;
    } else {
        fd = unix_connect(STR(path), QMGR_CONNECT_TIMEOUT);
    }
    if (fd < 0) {
        msg_warn("connect to transport %s: %m", STR(path));
        tr->dead_until = time((time_t *) 0) + var_transport_retry_time;
        mem_free(tr->dead_reason);
        tr->dead_reason = mem_strdup("mail transport unavailable");
        qmgr_entry_defer(entry, "4.3.0", tr->dead_reason);
        vstring_free(path);
        return -1;
    }
    vstring_free(path);
    entry->agent = stream_fdopen(fd);
    stream_set_timeout(entry->agent, var_ipc_timeout < QMGR_READ_TIMEOUT
                       ? (int) var_ipc_timeout : QMGR_READ_TIMEOUT);
    event_timer(deliver_timeout_event, entry, (double) var_ipc_timeout);
    entry->greeted = 0;
    /* A failed early send leaves the stream in error: the greeting read in
     * deliver_reply_event() fails and defers the entry from the loop. */
    if (deliver_send_early(entry) != 0)
        event_read(fd, deliver_reply_event, entry);
    else
        event_read(fd, deliver_greeting_event, entry);
    return 0;
}
