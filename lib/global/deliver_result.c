/*
 * deliver_result.c - a delivery agent records each recipient's result
 * and logs it.
 *
 * Interface: deliver.h (deliver_result, deliver_result_to). The result
 * goes into the request's recipient (sent back to qmgr by
 * deliver_request_reply()), and the to= line into the log
 * (deliver_log.c). A recipient that gets several results (aliases,
 * .forward) keeps the worst: deferred over bounced over sent. In verify
 * mode (DELIVER_TRACE_VERIFY) the log says deliverable/undeliverable (a
 * probe's deferral too).
 *
 * SECURITY: the reason text may quote a remote server; it is cut at
 * DELIVER_REASON_MAX.
 *
 * DIAGNOSTICS: a recipient index out of range is a programming error
 * (panic); nothing else is reported.
 */
#include <stdarg.h>
#include <stdio.h>

#include "deliver.h"
#include "mem.h"
#include "msg.h"

static const char *
deliver_status_word(int status)
{
    switch (status) {
    case DELIVER_SENT:
        return "sent";
    case DELIVER_BOUNCE:
        return "bounced";
    default:
        return "deferred";
    }
}

static int
deliver_rank(int status)
{
    return status == DELIVER_SENT ? 0 : status == DELIVER_BOUNCE ? 1 : 2;
}

static void
deliver_vresult(DELIVER_REQUEST *req, int i, const char *to, int status,
                const char *dsn, const char *relay, double conn_time,
                double xfer_time, const char *fmt, va_list ap)
{
    DELIVER_RCPT *r;
    VSTRING *text = vstring_alloc(DELIVER_REASON_MAX);
    const char *orig;

    if (i < 0 || i >= req->rcpt_count)
        msg_panic("deliver_result: recipient index %d out of range", i);
    r = &req->rcpt[i];
    if (status != DELIVER_SENT && status != DELIVER_BOUNCE)
        status = DELIVER_DEFER;
    vstring_vsprintf_append(text, fmt, ap);
    if (to == NULL) {
        to = r->address;
        orig = r->orig_rcpt;
    } else {
        orig = (r->orig_rcpt && *r->orig_rcpt) ? r->orig_rcpt : r->address;
    }
    deliver_log_status(req->queue_id, to, orig, relay, req->arrival_time, req->active_time,
                       req->agent_time, conn_time, xfer_time, dsn,
                       (req->trace_flags & DELIVER_TRACE_VERIFY)
                       && (status != DELIVER_DEFER || (req->trace_flags & DELIVER_TRACE_PROBE))
                       ? (status == DELIVER_SENT ? "deliverable" : "undeliverable")
                       : deliver_status_word(status), STR(text));

    if (r->status < 0 || deliver_rank(status) > deliver_rank(r->status)) {
        r->status = status;
        snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
        mem_free(r->reason);
        r->reason = vstring_export(text);
        text = NULL;
    }
    vstring_free(text);
}

void
deliver_result(DELIVER_REQUEST *req, int i, int status, const char *dsn,
               const char *relay, double conn_time, double xfer_time,
               const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    deliver_vresult(req, i, NULL, status, dsn, relay, conn_time, xfer_time, fmt, ap);
    va_end(ap);
}

void
deliver_result_to(DELIVER_REQUEST *req, int i, const char *to, int status,
                  const char *dsn, const char *relay, double conn_time,
                  double xfer_time, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    deliver_vresult(req, i, to, status, dsn, relay, conn_time, xfer_time, fmt, ap);
    va_end(ap);
}
