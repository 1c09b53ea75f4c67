/*
 * qmgr_log.c - per-message delivery logs (defer/ID, bounce/ID) and the
 * "to=<...>" lines for verdicts qmgr reaches itself (transport
 * unavailable, resolver failure, bad address), where no delivery agent
 * logs them.
 *
 * Interface (qmgr.h): qmgr_log_append(), qmgr_log_status(),
 * qmgr_bounce_flush(), qmgr_trace_flush().
 *
 * Log file format and writing: lib/bounce_log.h (one "name=value" block
 * per recipient, the form the bounce service and postqueue/showq read).
 * Each append is fsynced before the caller marks a recipient DONE, so a
 * bounced recipient is never dropped without its bounce entry.
 *
 * SECURITY: values come from queue files and agent replies; bounce_log.c
 * replaces newlines and other control characters so an entry cannot
 * forge another.
 */
#include <stdio.h>
#include "bounce_log.h"
#include "deliver.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "vstring.h"
#include "qmgr.h"

int
qmgr_log_append(const char *queue, const QMGR_MESSAGE *msg,
                const QMGR_RCPT *rcpt, const char *action)
{
    VSTRING *buf = vstring_alloc(VSTRING_UNLIMITED);
    BOUNCE_LOG_ENTRY e;
    int     rc;

    e.recipient = rcpt->address;
    e.orig_rcpt = rcpt->orig_rcpt;
    e.offset = rcpt->offset;
    e.dsn_orcpt = rcpt->dsn_orcpt;
    e.dsn_notify = rcpt->dsn_notify;
    e.status = rcpt->dsn;
    e.action = action;
    e.reason = rcpt->reason;
    bounce_log_format(buf, &e);
    rc = bounce_log_write(queue, msg->queue_id, buf);
    vstring_free(buf);
    return rc;
}

void
qmgr_log_status(const QMGR_MESSAGE *msg, const QMGR_RCPT *rcpt, const char *status)
{
    double  now = deliver_now();

    deliver_log_status(msg->queue_id, rcpt->address, rcpt->orig_rcpt, "none",
                       msg->arrival_time, msg->active_time, now, 0, 0, rcpt->dsn, status,
                       rcpt->reason);
}

/*
 * Turn bounce/ID into a non-delivery notice: the bounce service client
 * (qmgr_bounce.c) plugs into qmgr_bounce_flush_fn when the daemon starts.
 * Without it (unit tests) the log stays in bounce/ and the queue file
 * may go. Returns 0 when the queue file may be removed.
 */
int     (*qmgr_bounce_flush_fn)(const QMGR_MESSAGE *msg);

int
qmgr_bounce_flush(const QMGR_MESSAGE *msg)
{
    return qmgr_bounce_flush_fn ? qmgr_bounce_flush_fn(msg) : 0;
}

/* trace/ID (sendmail -bv) into a delivery status report; as above. */
int     (*qmgr_trace_flush_fn)(const QMGR_MESSAGE *msg);

int
qmgr_trace_flush(const QMGR_MESSAGE *msg)
{
    return qmgr_trace_flush_fn ? qmgr_trace_flush_fn(msg) : 0;
}
