/*
 * qmgr_queue.c - transports, destination queues and delivery entries.
 *
 * Interface (qmgr.h): qmgr_transport_find(), qmgr_queue_find(),
 * qmgr_message_group(), qmgr_queue_pop(), qmgr_queue_gc(),
 * qmgr_entry_defer(), qmgr_entry_done(), qmgr_rcpt_result();
 * qmgr_resolve_fn (resolve_clnt by default).
 *
 * Grouping: each recipient still to deliver is resolved to (transport,
 * nexthop). Its queue is keyed by the lowercased nexthop, or by the
 * lowercased recipient plus nexthop when the transport's recipient limit
 * is 1 (then the concurrency limit is per recipient, as in Postfix).
 * Recipients of one message for one queue share an entry until it holds
 * <transport>_destination_recipient_limit of them (the entry being
 * filled is only used within one grouping round, fill_gen). Queues are
 * found through a per-transport hash table.
 *
 * Resolver failures defer the recipient ("address resolver failure");
 * a syntax error bounces it ("bad address syntax"). A message with a
 * content filter sends every other recipient to the filter's transport
 * and nexthop instead of the resolver's (one entry per queue, as usual).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "deliver.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "rewrite_clnt.h"
#include "qmgr.h"

QMGR_TRANSPORT *qmgr_transport_list;
static unsigned long qmgr_group_gen;   /* one per qmgr_message_group() call */

static unsigned
queue_hash(const char *key)
{
    unsigned h = 5381;

    while (*key)
        h = h * 33 + (unsigned char) *key++;
    return h % QMGR_QUEUE_HASH;
}

static int
qmgr_resolve_default(const char *sender, const char *addr, VSTRING *transport,
                     VSTRING *nexthop, VSTRING *recipient, int *flags)
{
    RESOLVE_REPLY reply;
    int     rc;

    resolve_reply_init(&reply);
    rc = resolve_clnt(sender, addr, &reply);
    if (rc == 0) {
        vstring_strcpy(transport, STR(reply.transport));
        vstring_strcpy(nexthop, STR(reply.nexthop));
        vstring_strcpy(recipient, STR(reply.recipient));
        *flags = reply.flags;
    }
    resolve_reply_free(&reply);
    return rc;
}

QMGR_RESOLVE_FN qmgr_resolve_fn = qmgr_resolve_default;

QMGR_TRANSPORT *
qmgr_transport_find(const char *name, int create)
{
    QMGR_TRANSPORT *tr;

    for (tr = qmgr_transport_list; tr; tr = tr->next)
        if (strcmp(tr->name, name) == 0)
            return tr;
    if (!create)
        return 0;
    tr = mem_alloc(sizeof(*tr));
    tr->name = mem_strdup(name);
    tr->rcpt_limit = qmgr_transport_rcpt_limit(name);
    tr->dest_limit = qmgr_transport_dest_limit(name);
    tr->proc_limit = (int) var_proc_limit;
    qmgr_transport_init_feedback(tr);
    tr->hash = mem_array(QMGR_QUEUE_HASH, sizeof(QMGR_QUEUE *));
    tr->next = qmgr_transport_list;
    qmgr_transport_list = tr;
    return tr;
}

QMGR_QUEUE *
qmgr_queue_find(QMGR_TRANSPORT *tr, const char *key, const char *nexthop, int create)
{
    unsigned h = queue_hash(key);
    QMGR_QUEUE *q;

    for (q = tr->hash[h]; q; q = q->hnext)
        if (strcmp(q->key, key) == 0)
            return q;
    if (!create)
        return 0;
    q = mem_alloc(sizeof(*q));
    q->hnext = tr->hash[h];
    tr->hash[h] = q;
    q->key = mem_strdup(key);
    q->nexthop = mem_strdup(nexthop);
    q->transport = tr;
    qmgr_queue_init_window(q);
    if (tr->queues_tail)            /* append: first come, first served */
        tr->queues_tail->next = q;
    else
        tr->queues = q;
    tr->queues_tail = q;
    return q;
}

static void
queue_append(QMGR_QUEUE *q, QMGR_ENTRY *e)
{
    e->next = 0;
    if (q->todo_tail)
        q->todo_tail->next = e;
    else
        q->todo_head = e;
    q->todo_tail = e;
    q->todo_count++;
}

QMGR_ENTRY *
qmgr_queue_pop(QMGR_QUEUE *q)
{
    QMGR_ENTRY *e = q->todo_head;

    if (e == 0)
        return 0;
    q->todo_head = e->next;
    if (q->todo_head == 0)
        q->todo_tail = 0;
    q->todo_count--;
    e->next = 0;
    if (q->fill_entry == e)
        q->fill_entry = 0;
    return e;
}

void
qmgr_queue_gc(void)
{
    time_t  now = time((time_t *) 0);

    for (QMGR_TRANSPORT *tr = qmgr_transport_list; tr; tr = tr->next) {
        QMGR_QUEUE **qp = &tr->queues;

        while (*qp) {
            QMGR_QUEUE *q = *qp;

            if (q->active == 0 && q->todo_head == 0
                && (q->window > 0 || q->dead_until <= now)) {
                QMGR_QUEUE **hp = &tr->hash[queue_hash(q->key)];

                while (*hp != q)
                    hp = &(*hp)->hnext;
                *hp = q->hnext;
                *qp = q->next;
                if (tr->rr_next == q)
                    tr->rr_next = q->next;
                mem_free(q->key);
                mem_free(q->nexthop);
                mem_free(q->dead_reason);
                mem_free(q);
            } else {
                qp = &q->next;
            }
        }
        tr->queues_tail = 0;
        for (QMGR_QUEUE *q = tr->queues; q; q = q->next)
            tr->queues_tail = q;
    }
}

static void
entry_add_rcpt(QMGR_ENTRY *e, int index)
{
    if (e->rcpt_count == e->rcpt_cap) {
        e->rcpt_cap = e->rcpt_cap ? e->rcpt_cap * 2 : 4;
        e->rcpt_index = mem_realloc_array(e->rcpt_index, e->rcpt_cap, sizeof(int));
    }
    e->rcpt_index[e->rcpt_count++] = index;
}

/* The entry of msg being filled for queue q (a new one when full). */
static QMGR_ENTRY *
queue_fill_entry(QMGR_QUEUE *q, QMGR_MESSAGE *msg)
{
    QMGR_ENTRY *e;

    if (q->fill_gen == qmgr_group_gen && q->fill_entry
        && q->fill_entry->rcpt_count < q->transport->rcpt_limit)
        return q->fill_entry;
    e = mem_alloc(sizeof(*e));
    e->message = msg;
    e->queue = q;
    msg->refcount++;
    queue_append(q, e);
    q->fill_gen = qmgr_group_gen;
    q->fill_entry = e;
    return e;
}

/*
 * Content filtering overrides the resolver's answer (FILTER_README):
 * filter is "transport:nexthop"; an empty nexthop means
 * default_filter_nexthop, else the recipient's domain, else myhostname.
 * Returns 0, or -1 when a part does not fit.
 */
static int
queue_filter_route(const char *filter, const char *recipient, VSTRING *transport,
                   VSTRING *nexthop)
{
    const char *colon = strchr(filter, ':');
    const char *dflt = var_def_filter_nexthop;
    const char *domain = strrchr(recipient, '@');

    if (colon == 0 || colon == filter
        || vstring_ncpy(transport, filter, (size_t) (colon - filter)) < 0)
        return -1;
    if (colon[1])
        return vstring_strcpy(nexthop, colon + 1);
    if (*dflt)
        return vstring_strcpy(nexthop, dflt);
    if (domain && domain[1])
        return vstring_strcpy(nexthop, domain + 1);
    return vstring_strcpy(nexthop, var_myhostname);
}

/* A verdict reached here: log it as the agent would, and record it. */
static void
rcpt_verdict(QMGR_MESSAGE *msg, int index, int status, const char *dsn,
             const char *reason)
{
    qmgr_rcpt_result(msg, index, status, dsn, reason);
    qmgr_log_status(msg, msg->rcpt + index,
                    msg->rcpt[index].state == QMGR_RCPT_BOUNCED ? "bounced" : "deferred");
}

void
qmgr_message_group(QMGR_MESSAGE *msg)
{
    VSTRING *transport = vstring_alloc(256);
    VSTRING *nexthop = vstring_alloc(1024);
    VSTRING *recipient = vstring_alloc(2048);
    VSTRING *key = vstring_alloc(4096);
    long   *bounced = 0;
    int     nbounced = 0;
    int     flags;
    time_t  now = time((time_t *) 0);

    qmgr_group_gen++;
    for (int i = 0; i < msg->rcpt_count; i++) {
        QMGR_RCPT *r = msg->rcpt + i;
        QMGR_TRANSPORT *tr;
        QMGR_QUEUE *q;

        if (r->state != QMGR_RCPT_TODO)
            continue;
        flags = 0;
        if (qmgr_resolve_fn(msg->sender, r->address, transport, nexthop, recipient, &flags) < 0
            || (flags & RESOLVE_FLAG_FAIL) || LEN(transport) == 0) {
            rcpt_verdict(msg, i, DELIVER_DEFER, "4.3.0", "address resolver failure");
            continue;
        }
        if (flags & RESOLVE_FLAG_ERROR) {
            rcpt_verdict(msg, i, DELIVER_BOUNCE, "5.1.3", "bad address syntax");
            if (r->state == QMGR_RCPT_BOUNCED) {
                if (bounced == 0)
                    bounced = mem_array((size_t) msg->rcpt_count, sizeof(long));
                bounced[nbounced++] = r->offset;
            }
            continue;
        }
        if (msg->filter
            && queue_filter_route(msg->filter, STR(recipient), transport, nexthop) < 0) {
            rcpt_verdict(msg, i, DELIVER_DEFER, "4.3.5", "invalid content filter");
            continue;
        }
        tr = qmgr_transport_find(STR(transport), 1);
        if (tr->rcpt_limit == 1)
            vstring_sprintf(key, "%s\n%s", STR(recipient), STR(nexthop));
        else
            vstring_strcpy(key, STR(nexthop));
        vstring_lowercase(key);
        q = qmgr_queue_find(tr, STR(key), STR(nexthop), 1);
        if (qmgr_queue_dead(q, now)) {
            vstring_sprintf(key, "delivery temporarily suspended: %s",
                            q->dead_reason ? q->dead_reason : "destination unavailable");
            rcpt_verdict(msg, i, DELIVER_DEFER, q->dead_dsn[0] == '4' ? q->dead_dsn
                         : "4.0.0", STR(key));
            continue;
        }
        entry_add_rcpt(queue_fill_entry(q, msg), i);
        r->state = QMGR_RCPT_BUSY;
    }
    if (nbounced > 0)
        (void) qmgr_message_mark_done(QUEUE_ACTIVE, msg->queue_id, bounced, nbounced);
    mem_free(bounced);
    vstring_free(transport);
    vstring_free(nexthop);
    vstring_free(recipient);
    vstring_free(key);
}

/*
 * Record one result. Bounces are logged to bounce/ID first (if that
 * fails the recipient stays deferred); deferrals go to defer/ID. For
 * address verification (trace_flags) final verdicts go to trace/ID, and
 * so do deliveries with NOTIFY=SUCCESS (success DSNs).
 */
void
qmgr_rcpt_result(QMGR_MESSAGE *msg, int index, int status, const char *dsn,
                 const char *reason)
{
    QMGR_RCPT *r = msg->rcpt + index;

    mem_free(r->reason);
    r->reason = mem_strdup(reason ? reason : "");
    snprintf(r->dsn, sizeof(r->dsn), "%s", dsn && *dsn ? dsn
             : status == DELIVER_SENT ? "2.0.0"
             : status == DELIVER_BOUNCE ? "5.0.0" : "4.0.0");
    if ((msg->trace_flags & DELIVER_TRACE_VERIFY) && status != DELIVER_DEFER) {
        /* sendmail -bv: the verdict goes into the status report only */
        if (qmgr_log_append(QUEUE_TRACE, msg, r, status == DELIVER_SENT
                            ? "deliverable" : "undeliverable") == 0)
            r->state = status == DELIVER_SENT ? QMGR_RCPT_SENT : QMGR_RCPT_BOUNCED;
        else
            r->state = QMGR_RCPT_DEFER;
    } else if (status == DELIVER_SENT) {
        r->state = QMGR_RCPT_SENT;
        /* NOTIFY=SUCCESS: the trace service reports it when the message is
         * done (a notice lost to a log error is not a lost message) */
        if (r->dsn_notify & DSN_NOTIFY_SUCCESS)
            (void) qmgr_log_append(QUEUE_TRACE, msg, r, "delivered");
    } else if (status == DELIVER_BOUNCE
               && qmgr_log_append(QUEUE_BOUNCE, msg, r, "failed") == 0) {
        r->state = QMGR_RCPT_BOUNCED;
    } else {                    /* deferred, or a bounce not logged: retry later */
        r->state = QMGR_RCPT_DEFER;
        (void) qmgr_log_append(QUEUE_DEFER, msg, r, "delayed");
    }
}

void
qmgr_entry_defer(QMGR_ENTRY *entry, const char *dsn, const char *reason)
{
    for (int i = 0; i < entry->rcpt_count; i++)
        rcpt_verdict(entry->message, entry->rcpt_index[i], DELIVER_DEFER, dsn, reason);
}

/*
 * The last entry of a message whose recipients were all delivered: the
 * file is removed next, so marking them DONE first would only cost I/O.
 * (A crash before the removal repeats those deliveries: a duplicate, never
 * a loss. Bounced recipients are always marked, because the message stays
 * queued when the bounce service cannot take the notice.)
 */
static int
message_all_sent(const QMGR_MESSAGE *msg)
{
    if (msg->refcount != 1)
        return 0;
    for (int i = 0; i < msg->rcpt_count; i++)
        if (msg->rcpt[i].state != QMGR_RCPT_SENT)
            return 0;
    return 1;
}

/* A handshake failure as the SMTP/LMTP client words it (smtp_proto.c). */
static int
reason_is_handshake(const char *reason)
{
    static const char *const texts[] = {
        "refused to talk to me:", "while receiving the initial server greeting",
        "while performing the EHLO handshake", "while performing the LHLO handshake",
        "(in reply to EHLO command)", "(in reply to HELO command)",
        "(in reply to LHLO command)", 0,
    };

    for (int i = 0; texts[i]; i++)
        if (strstr(reason, texts[i]) != 0)
            return 1;
    return 0;
}

/*
 * What the delivery of an entry says about its destination. Any recipient
 * delivered or bounced: the destination works. Every recipient deferred
 * with a network or routing status (4.4.X: no answer, lost connection,
 * DNS trouble) or a greeting/HELO failure: a connection or handshake
 * failure. A recipient without an agent result (still BUSY: the agent was
 * lost) or an agent that reported transport trouble: no verdict.
 * Everything else (a 4XX reply to MAIL or RCPT...) counts as good.
 */
int
qmgr_entry_verdict(const QMGR_ENTRY *entry, const char **dsn, const char **reason)
{
    const QMGR_MESSAGE *msg = entry->message;
    int     site_fail = 0;

    *dsn = *reason = 0;
    for (int i = 0; i < entry->rcpt_count; i++) {
        const QMGR_RCPT *r = msg->rcpt + entry->rcpt_index[i];
        const char *why = r->reason ? r->reason : "";

        if (r->state == QMGR_RCPT_SENT || r->state == QMGR_RCPT_BOUNCED)
            return QMGR_FEEDBACK_OK;
        if (r->state != QMGR_RCPT_DEFER || strcmp(why, "unknown mail transport error") == 0
            || strcmp(why, "mail transport unavailable") == 0
            || strcmp(why, "delivery was not attempted") == 0)
            return QMGR_FEEDBACK_NONE;
        if (strncmp(r->dsn, "4.4.", 4) == 0 || reason_is_handshake(why)) {
            site_fail = 1;
            *dsn = r->dsn;
            *reason = why;
        }
    }
    return site_fail ? QMGR_FEEDBACK_FAIL : entry->rcpt_count ? QMGR_FEEDBACK_OK
        : QMGR_FEEDBACK_NONE;
}

/*
 * The entry is finished: recipients still BUSY (no result) count as
 * deferred; delivered and bounced ones are marked DONE in one batch.
 * The message is finished with its last entry.
 */
void
qmgr_entry_done(QMGR_ENTRY *entry)
{
    QMGR_MESSAGE *msg = entry->message;
    long   *offsets = mem_array((size_t) entry->rcpt_count + 1, sizeof(long));
    int     n = 0;
    const char *dsn, *reason;

    if (entry->inflight) {
        int     verdict = qmgr_entry_verdict(entry, &dsn, &reason);

        qmgr_queue_feedback(entry->queue, verdict, dsn, reason, time((time_t *) 0));
    }

    for (int i = 0; i < entry->rcpt_count; i++) {
        QMGR_RCPT *r = msg->rcpt + entry->rcpt_index[i];

        if (r->state == QMGR_RCPT_BUSY || r->state == QMGR_RCPT_TODO)
            qmgr_rcpt_result(msg, entry->rcpt_index[i], DELIVER_DEFER, "4.3.0",
                             "unknown mail transport error");
        if (r->state == QMGR_RCPT_SENT || r->state == QMGR_RCPT_BOUNCED)
            offsets[n++] = r->offset;
    }
    if (n > 0 && !message_all_sent(msg))
        (void) qmgr_message_mark_done(QUEUE_ACTIVE, msg->queue_id, offsets, n);
    mem_free(offsets);
    if (entry->inflight) {
        entry->queue->active--;
        entry->queue->transport->active--;
        entry->inflight = 0;
    }
    mem_free(entry->rcpt_index);
    mem_free(entry);
    if (--msg->refcount == 0)
        qmgr_message_finish(msg);
    qmgr_kick();
}
