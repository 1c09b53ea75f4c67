/*
 * qmgr_log.c - recording a recipient's result: the per-message delivery
 * logs (defer/ID, bounce/ID, trace/ID), the "to=<...>" lines for
 * verdicts qmgr reaches itself (transport unavailable, resolver failure,
 * bad address), where no delivery agent logs them, and handing a
 * finished message's bounce or trace log to its service.
 *
 * Interface (qmgr.h): qmgr_log_append(), qmgr_log_status(),
 * qmgr_log_result(), qmgr_log_agent_result(), qmgr_log_verdict(),
 * qmgr_log_flush();
 * qmgr_log_flush_fn.
 *
 * Each deferral is also told to the fast flush service (flush_clnt.h)
 * for the recipient's domain when it is in fast_flush_domains.
 *
 * An address verification probe (trace_flags=probe) keeps no log: its
 * recipients are done whatever the result, which goes to the verify
 * service: from the delivery agent (deliver_request_reply), or from
 * qmgr for the verdicts qmgr reaches itself.
 *
 * Log file format and writing: lib/global/bounce_log.h (one "name=value"
 * block per recipient, the form the bounce service and postqueue/showq
 * read). Each append is fsynced before the caller marks a recipient DONE,
 * so a bounced recipient is never dropped without its bounce entry.
 *
 * SECURITY: values come from queue files and agent replies; bounce_log.c
 * replaces newlines and other control characters so an entry cannot
 * forge another.
 *
 * DIAGNOSTICS: none; it only writes log lines.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "bounce_log.h"
#include "deliver.h"
#include "flush_clnt.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "verify_clnt.h"
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

/* Tell the fast flush service (ETRN, postqueue -s) about a deferral. */
static void
qmgr_log_flush_add(const QMGR_MESSAGE *msg, const QMGR_RCPT *r)
{
    const char *domain = strrchr(r->address, '@');

    if (domain && domain[1] && flush_clnt_add(domain + 1, msg->queue_id) == FLUSH_STAT_FAIL)
        msg_warn("%s: %s service failure", msg->queue_id, SERVICE_FLUSH);
}

/*
 * Record one result. Bounces are logged to bounce/ID first (if that
 * fails the recipient stays deferred); deferrals go to defer/ID. For
 * address verification (trace_flags) final verdicts go to trace/ID, and
 * so do deliveries with NOTIFY=SUCCESS (success DSNs).
 */
void
qmgr_log_result(QMGR_MESSAGE *msg, int index, int status, const char *dsn,
                const char *reason)
{
    QMGR_RCPT *r = msg->rcpt + index;

    mem_free(r->reason);
    r->reason = mem_strdup(reason ? reason : "");
    snprintf(r->dsn, sizeof(r->dsn), "%s", dsn && *dsn ? dsn
             : status == DELIVER_SENT ? "2.0.0"
             : status == DELIVER_BOUNCE ? "5.0.0" : "4.0.0");
    if (msg->trace_flags & DELIVER_TRACE_PROBE) {
        /* a probe is tried once; qmgr reports its own verdicts */
        (void) verify_clnt_update_rcpt(r->address, r->orig_rcpt, status == DELIVER_SENT
                                       ? VERIFY_ADDR_OK : status == DELIVER_BOUNCE
                                       ? VERIFY_ADDR_BOUNCE : VERIFY_ADDR_DEFER, r->reason);
        r->state = status == DELIVER_SENT ? QMGR_RCPT_SENT : QMGR_RCPT_BOUNCED;
    } else if ((msg->trace_flags & DELIVER_TRACE_VERIFY) && status != DELIVER_DEFER) {
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
        qmgr_log_flush_add(msg, r);
    }
}

/* A delivery agent's result: as qmgr_log_result(), but a probe's result
 * was reported to the verify service by the agent already. */
void
qmgr_log_agent_result(QMGR_MESSAGE *msg, int index, int status, const char *dsn,
                      const char *reason)
{
    QMGR_RCPT *r = msg->rcpt + index;

    if ((msg->trace_flags & DELIVER_TRACE_PROBE) == 0) {
        qmgr_log_result(msg, index, status, dsn, reason);
        return;
    }
    mem_free(r->reason);
    r->reason = mem_strdup(reason ? reason : "");
    snprintf(r->dsn, sizeof(r->dsn), "%s", dsn && *dsn ? dsn : "4.0.0");
    r->state = status == DELIVER_SENT ? QMGR_RCPT_SENT : QMGR_RCPT_BOUNCED;
}

/* A verdict reached in qmgr: record it, and log it as an agent would. */
void
qmgr_log_verdict(QMGR_MESSAGE *msg, int index, int status, const char *dsn,
                 const char *reason)
{
    qmgr_log_result(msg, index, status, dsn, reason);
    qmgr_log_status(msg, msg->rcpt + index, (msg->trace_flags & DELIVER_TRACE_PROBE)
                    ? (status == DELIVER_SENT ? "deliverable" : "undeliverable")
                    : msg->rcpt[index].state == QMGR_RCPT_BOUNCED ? "bounced" : "deferred");
}

/*
 * Turn bounce/ID into a non-delivery notice, or trace/ID (sendmail -bv,
 * NOTIFY=SUCCESS) into a delivery status report: qmgr.c plugs the
 * service client (qmgr_bounce.c) into qmgr_log_flush_fn when the daemon
 * starts. Without it (unit tests) the log stays and the queue file may
 * go. Returns 0 when the queue file may be removed (also when there is
 * no such log).
 */
int     (*qmgr_log_flush_fn)(const char *queue, const QMGR_MESSAGE *msg);

int
qmgr_log_flush(const char *queue, const QMGR_MESSAGE *msg)
{
    VSTRING *path = vstring_alloc(256);
    int     have_log = access(queue_path(path, queue, msg->queue_id), F_OK) == 0;

    vstring_free(path);
    return have_log && qmgr_log_flush_fn ? qmgr_log_flush_fn(queue, msg) : 0;
}
