/*
 * qmgr_entry.c - delivery entries: the recipients of one message that
 * go to one destination queue in one delivery request.
 *
 * Interface (qmgr.h): qmgr_entry_create(), qmgr_entry_add_rcpt(),
 * qmgr_entry_defer(), qmgr_entry_verdict(), qmgr_entry_done().
 *
 * An entry holds at most <transport>_destination_recipient_limit
 * recipients (qmgr_message_group() fills it). When it is finished its
 * delivered and bounced recipients are marked DONE in one batch, what it
 * says about the destination is fed back to the queue's concurrency
 * window (qmgr_queue.c), and the message is finished with its last entry.
 *
 * DIAGNOSTICS: none; nothing here fails but allocation (fatal in mem.c).
 */
#include <string.h>
#include <time.h>
#include "deliver.h"
#include "mem.h"
#include "queue.h"
#include "qmgr.h"

QMGR_ENTRY *
qmgr_entry_create(QMGR_QUEUE *q, QMGR_MESSAGE *msg)
{
    QMGR_ENTRY *e = mem_alloc(sizeof(*e));

    e->message = msg;
    e->queue = q;
    msg->refcount++;
    qmgr_queue_append(q, e);
    return e;
}

void
qmgr_entry_add_rcpt(QMGR_ENTRY *e, int index)
{
    if (e->rcpt_count == e->rcpt_cap) {
        e->rcpt_cap = e->rcpt_cap ? e->rcpt_cap * 2 : 4;
        e->rcpt_index = mem_realloc_array(e->rcpt_index, e->rcpt_cap, sizeof(int));
    }
    e->rcpt_index[e->rcpt_count++] = index;
}

void
qmgr_entry_defer(QMGR_ENTRY *entry, const char *dsn, const char *reason)
{
    for (int i = 0; i < entry->rcpt_count; i++)
        qmgr_log_verdict(entry->message, entry->rcpt_index[i], DELIVER_DEFER, dsn, reason);
}

/*
 * The last entry of a message whose recipients were all delivered: the
 * file is removed next, so marking them DONE first would only cost I/O.
 * (A crash before the removal repeats those deliveries: a duplicate, never
 * a loss. Bounced recipients are always marked, because the message stays
 * queued when the bounce service cannot take the notice.)
 */
static int
qmgr_entry_last_all_sent(const QMGR_MESSAGE *msg)
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
qmgr_entry_handshake_failure(const char *reason)
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
        if (strncmp(r->dsn, "4.4.", 4) == 0 || qmgr_entry_handshake_failure(why)) {
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
            qmgr_log_verdict(msg, entry->rcpt_index[i], DELIVER_DEFER, "4.3.0",
                             "unknown mail transport error");
        if (r->state == QMGR_RCPT_SENT || r->state == QMGR_RCPT_BOUNCED)
            offsets[n++] = r->offset;
    }
    if (n > 0 && !qmgr_entry_last_all_sent(msg))
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
    qmgr_sched_kick();
}
