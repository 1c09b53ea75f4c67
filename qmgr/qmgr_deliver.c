/*
 * qmgr_deliver.c - delivery requests to the delivery agents on
 * private/<transport>, over agent connections driven by the event loop.
 *
 * Interface (qmgr.h): qmgr_deliver_room(), qmgr_deliver_start().
 *
 * An agent connection (QMGR_AGENT) belongs to one destination queue and
 * is one agent process busy for it: the queue's concurrency window and
 * the transport's process limit count connections. A connection carries
 * its requests one after the other (mail_proto.h): qmgr may write the
 * next request while the agent delivers the current one (at most
 * QMGR_AGENT_DEPTH requests on a connection, each small: it waits in the
 * socket's buffer, so the write cannot block on a busy agent), so that
 * the agent goes from one delivery to the next without waiting for qmgr.
 * With every reply the agent says whether it reads another request; when
 * it does not (max_use reached, stopping), the requests still queued on
 * the connection were never seen and go back to the front of the queue.
 * When a reply leaves the connection empty, the queue's next waiting
 * entry goes on it at once; without one the connection is closed (the
 * agent process goes back to master).
 *
 * Sequence of a new connection: connect (a UNIX socket: immediate, or it
 * fails) and send the request at once when it is small
 * (QMGR_PIPELINE_RCPT recipients and QMGR_PIPELINE_SIZE bytes at most);
 * the agent finds it there when it has greeted. Then wait in the event
 * loop until the agent's {protocol=delivery} greeting is readable (the
 * agent may first have to be started by master, or wait for a free
 * process) and check it; a larger request is sent only then. Each reply
 * is read when readable (deliver_reply_read; once readable it arrives at
 * once, bounded by the stream timeout). A timer of ipc_timeout, set anew
 * with each reply, covers the connection.
 *
 * A transport that cannot be reached is dead for transport_retry_time
 * (logged as "warning: connect to transport private/T: <error>"); its
 * recipients are deferred with "mail transport unavailable". A protocol
 * error or a lost agent defers the recipients of the request it was
 * delivering without a result with "unknown mail transport error"; the
 * requests behind it were not started and wait for another connection.
 * A request that cannot be written behind the one in delivery (the agent
 * stopped reading: it answers its last request and exits) goes back to
 * its queue the same way, and the answer already on its way is still
 * read (agent_send_failed()). So does a request written on an empty
 * connection whose agent had said it reads another but has gone since:
 * the connection closes and the request waits for another one.
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
#define QMGR_PIPELINE_RCPT   64 /* send before the agent reads: at most ... */
#define QMGR_PIPELINE_SIZE   16384      /* ... recipients and bytes */
#define QMGR_AGENT_DEPTH     2  /* requests on one connection */

struct QMGR_AGENT {
    STREAM *stream;
    QMGR_QUEUE *queue;
    QMGR_ENTRY *head;           /* its requests, oldest (in delivery) first */
    QMGR_ENTRY *tail;
    int     count;
    int     greeted;            /* the greeting was read */
    int     more;               /* the agent reads another request */
    QMGR_AGENT *prev;           /* the queue's connections */
    QMGR_AGENT *next;
};

static void agent_timeout_event(void *ctx);
static void agent_reply_event(int fd, int events, void *ctx);

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

/* Small enough to be written before the agent reads? */
static int
request_small(const DELIVER_REQUEST *req)
{
    return req->rcpt_count <= QMGR_PIPELINE_RCPT
        && deliver_request_size(req) <= QMGR_PIPELINE_SIZE;
}

static int
deliver_small(QMGR_ENTRY *entry)
{
    DELIVER_REQUEST req;
    int     small;

    deliver_build(entry, &req);
    small = request_small(&req);
    mem_free(req.rcpt);
    return small;
}

/* Write the entry's request (the greeting read or not): 1, or 0 when
 * small_only and it is not small (nothing written), -1: stream error. */
static int
deliver_send(QMGR_AGENT *agent, QMGR_ENTRY *entry, int small_only)
{
    DELIVER_REQUEST req;
    int     rc = 0;

    deliver_build(entry, &req);
    if (!small_only || request_small(&req)) {
        rc = deliver_request_send(agent->stream, &req) < 0 ? -1 : 1;
        entry->sent = 1;
    }
    mem_free(req.rcpt);
    return rc;
}

/* Take the entry on the connection (it is counted in flight already). */
static void
agent_push(QMGR_AGENT *agent, QMGR_ENTRY *entry)
{
    entry->agent = agent;
    entry->sent = 0;
    entry->next = 0;
    if (agent->tail)
        agent->tail->next = entry;
    else
        agent->head = entry;
    agent->tail = entry;
    agent->count++;
}

static QMGR_ENTRY *
agent_pop(QMGR_AGENT *agent)
{
    QMGR_ENTRY *entry = agent->head;

    if (entry) {
        if ((agent->head = entry->next) == 0)
            agent->tail = 0;
        agent->count--;
        entry->next = 0;
        entry->agent = 0;
    }
    return entry;
}

/* A request the agent never saw: back to the front of its queue. */
static void
agent_unstart(QMGR_ENTRY *entry)
{
    entry->inflight = 0;
    entry->queue->active--;
    entry->queue->transport->active--;
    qmgr_queue_push(entry->queue, entry);
}

/*
 * The request just queued behind the one in delivery could not be
 * written: the agent stopped reading (at its max_use it answers its last
 * request and exits). Its answer to the request in delivery may still be
 * on its way, so the stream's write error must not stop that read: the
 * unsent request goes back to the front of its queue, the stream's error
 * is cleared, and the connection takes nothing more.
 */
static void
agent_send_failed(QMGR_AGENT *agent)
{
    QMGR_ENTRY *entry = agent->tail, *prev = agent->head;

    while (prev->next != entry)
        prev = prev->next;
    prev->next = 0;
    agent->tail = prev;
    agent->count--;
    entry->agent = 0;
    agent_unstart(entry);
    agent->more = 0;
    stream_clearerr(agent->stream);
}

/*
 * Close the connection: the request in delivery (when failed) is finished
 * with what the agent reported (nothing: deferred, qmgr_entry_done), the
 * ones behind it go back to their queue.
 */
static void
agent_close(QMGR_AGENT *agent, int failed)
{
    QMGR_QUEUE *q = agent->queue;
    QMGR_ENTRY *entry, *first = failed ? agent_pop(agent) : 0;
    QMGR_ENTRY *later[QMGR_AGENT_DEPTH];
    int     n = 0;

    while ((entry = agent_pop(agent)) != 0)
        later[n++] = entry;
    while (n > 0)
        agent_unstart(later[--n]);      /* keeps their order in front */
    event_cancel_fd(stream_fd(agent->stream));
    event_cancel_timer(agent_timeout_event, agent);
    (void) stream_close(agent->stream);
    if (agent->prev)
        agent->prev->next = agent->next;
    else
        q->agent_list = agent->next;
    if (agent->next)
        agent->next->prev = agent->prev;
    q->agents--;
    q->transport->agents--;
    mem_free(agent);
    if (first)
        qmgr_entry_done(first);
    qmgr_sched_kick();
}

/* The agent failed us: the request in delivery is deferred (what it
 * delivered is unknown), the connection closed. */
static void
agent_fail(QMGR_AGENT *agent, const char *what)
{
    QMGR_ENTRY *entry = agent->head;

    if (entry) {
        msg_warn("%s: %s transport %s", entry->message->queue_id, what,
                 agent->queue->transport->name);
        qmgr_entry_defer(entry, "4.3.0", "unknown mail transport error");
    }
    agent_close(agent, 1);
}

static void
agent_timeout_event(void *ctx)
{
    agent_fail(ctx, "timeout while waiting for");
}

/* No greeting, or the request could not be sent: defer the entry. */
static void
agent_no_greeting(QMGR_AGENT *agent)
{
    agent_fail(agent, "no greeting from, or cannot send request to,");
}

/* The reply to the request in delivery: record it, finish the entry. */
static int
agent_read_reply(QMGR_AGENT *agent)
{
    QMGR_ENTRY *entry = agent->head;
    QMGR_MESSAGE *msg = entry->message;
    DELIVER_REQUEST req;
    int     rc, more = 0;

    deliver_build(entry, &req);
    if ((rc = deliver_reply_read(agent->stream, &req, &more)) < 0)
        msg_warn("%s: lost connection with transport %s",
                 msg->queue_id, agent->queue->transport->name);
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
    if (rc < 0)
        return -1;
    agent->more = agent->more && more;  /* agent_send_failed() said no more */
    qmgr_entry_done(agent_pop(agent));
    return 0;
}

/* The connection is empty: the queue's next entry goes on it, or it closes. */
static void
agent_idle(QMGR_AGENT *agent)
{
    QMGR_QUEUE *q = agent->queue;
    QMGR_ENTRY *entry;

    if (!agent->more || q->todo_head == 0 || q->agents > q->window
        || q->transport->dead_until != 0) {
        agent_close(agent, 0);
        return;
    }
    entry = qmgr_queue_pop(q);
    entry->inflight = 1;
    q->active++;
    q->transport->active++;
    agent_push(agent, entry);
    if (deliver_send(agent, entry, 0) < 0)
        agent_close(agent, 0);  /* gone since its last answer: never seen */
}

static void
agent_reply_event(int fd, int events, void *ctx)
{
    QMGR_AGENT *agent = ctx;

    if (!agent->greeted) {                      /* the request went first */
        if (deliver_greeting_read(agent->stream) < 0) {
            agent_no_greeting(agent);
            return;
        }
        agent->greeted = 1;
        if (stream_wait_readable(agent->stream, 0) <= 0)
            return;                             /* the reply comes later */
    }
    do {
        if (agent_read_reply(agent) < 0) {
            agent_close(agent, 1);
            return;
        }
    } while (agent->head && agent->more && stream_wait_readable(agent->stream, 0) > 0);
    if (!agent->more) {
        agent_close(agent, 0);
        return;
    }
    event_timer(agent_timeout_event, agent, (double) var_ipc_timeout);
    if (agent->head == 0)
        agent_idle(agent);
}

/* The agent is readable: deliver_request_write() checks its greeting. */
static void
agent_greeting_event(int fd, int events, void *ctx)
{
    QMGR_AGENT *agent = ctx;
    DELIVER_REQUEST req;
    int     rc;

    event_cancel_read(fd);
    deliver_build(agent->head, &req);
    rc = deliver_request_write(agent->stream, &req);
    mem_free(req.rcpt);
    agent->head->sent = 1;
    if (rc < 0) {
        agent_no_greeting(agent);
        return;
    }
    agent->greeted = 1;
    event_read(fd, agent_reply_event, agent);
}

/* An agent connection of q that takes a request behind its current one. */
static QMGR_AGENT *
agent_with_room(QMGR_QUEUE *q)
{
    for (QMGR_AGENT *a = q->agent_list; a; a = a->next)
        if (a->more && a->count < QMGR_AGENT_DEPTH && a->tail && a->tail->sent)
            return a;
    return 0;
}

int
qmgr_deliver_room(QMGR_QUEUE *q)
{
    QMGR_TRANSPORT *tr = q->transport;

    if (q->todo_head == 0)
        return 0;
    if (q->agents < q->window && tr->agents < tr->proc_limit)
        return 1;
    return agent_with_room(q) != 0 && deliver_small(q->todo_head);
}

/* A new connection to the transport's agent, for the entry. */
static int
agent_open(QMGR_ENTRY *entry)
{
    QMGR_QUEUE *q = entry->queue;
    QMGR_TRANSPORT *tr = q->transport;
    VSTRING *path = vstring_alloc(256);
    QMGR_AGENT *agent;
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
    agent = mem_alloc(sizeof(*agent));
    agent->stream = stream_fdopen(fd);
    stream_set_timeout(agent->stream, var_ipc_timeout < QMGR_READ_TIMEOUT
                       ? (int) var_ipc_timeout : QMGR_READ_TIMEOUT);
    agent->queue = q;
    agent->more = 1;
    if ((agent->next = q->agent_list) != 0)
        agent->next->prev = agent;
    q->agent_list = agent;
    q->agents++;
    tr->agents++;
    agent_push(agent, entry);
    event_timer(agent_timeout_event, agent, (double) var_ipc_timeout);
    /* A failed early send leaves the stream in error: the greeting read in
     * agent_reply_event() fails and defers the entry from the loop. */
    if (deliver_send(agent, entry, 1) != 0)
        event_read(fd, agent_reply_event, agent);
    else
        event_read(fd, agent_greeting_event, agent);
    return 0;
}

int
qmgr_deliver_start(QMGR_ENTRY *entry)
{
    QMGR_QUEUE *q = entry->queue;
    QMGR_AGENT *agent;

    if ((q->agents >= q->window || q->transport->agents >= q->transport->proc_limit)
        && (agent = agent_with_room(q)) != 0) {
        agent_push(agent, entry);
        if (deliver_send(agent, entry, 0) < 0)
            agent_send_failed(agent);
        return 0;
    }
    return agent_open(entry);
}
