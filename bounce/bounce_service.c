/*
 * bounce_service.c - one bounce/defer/trace request (mail_proto.h).
 *
 * Interface (bounce.h): bounce_greet() (the on_accept greeting),
 * bounce_service() (the single_server callback).
 *
 * flush: read the service's log for the message; keep the entries whose
 * DSN NOTIFY asks for failure reports (none given, or FAILURE); then, as
 * Postfix does:
 *   - sender not empty: a non-delivery notification to the sender from
 *     the null sender ("ID: sender non-delivery notification: NEWID"),
 *     returning the message as DSN RET asks (full by default); with
 *     "bounce" in notify_classes also a headers-only copy to
 *     bounce_notice_recipient ("postmaster non-delivery notification");
 *   - sender empty (a bounce that bounced): with "2bounce" in
 *     notify_classes a notice to 2bounce_notice_recipient from
 *     double_bounce_sender@$myhostname, otherwise nothing;
 *   - sender is double_bounce_sender@$myhostname: nothing, with
 *     "warning: ID: undeliverable postmaster notification discarded".
 * The log is removed once the main notice is queued (or none is due);
 * a postmaster copy that fails is only logged, so the sender never gets
 * the same notice twice because of it.
 *
 * flush on the trace service (sendmail -bv): every trace log entry goes
 * into one "Mail Delivery Status Report" to a non-empty sender from the
 * null sender, headers only ("ID: sender delivery status notification:
 * NEWID"); then the log is removed.
 *
 * warn (the defer service, once per message when delay_warning_time has
 * passed): the defer log entries whose NOTIFY asks for delay reports
 * (none given, or DELAY) go into one "Delayed Mail (still being
 * retried)" notice to a non-empty sender, headers only ("ID: sender
 * delay notification: NEWID"); with "delay" in notify_classes a copy
 * goes to delay_notice_recipient ("postmaster delay notification"). The
 * log stays: qmgr still needs it for postqueue and the next attempt.
 * Mail from the null sender or from double_bounce_sender gets no warning.
 *
 * SECURITY: the client is qmgr, still checked: the request must be
 * complete, the queue name one of posthorn's queues and the queue id
 * valid before either becomes part of a path; attribute sizes are
 * bounded by attr.h; a read timeout of ipc_timeout bounds a stalled peer.
 *
 * DIAGNOSTICS: none fatal; a bad or incomplete request is a warning and
 * the client is dropped; a notice that cannot be composed or posted, a log
 * that cannot be read or removed, or a reply that cannot be sent is a
 * warning with the queue id (the log stays, so the request can be
 * repeated); a failed postmaster notice of a double bounce is discarded
 * with a warning.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include "attr.h"
#include "argv.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "server.h"
#include "bounce.h"

int
bounce_greet(STREAM *client)
{
    return attr_send_protocol(client, PROTO_BOUNCE);
}

/* The log directory this service works on. */
static const char *
bounce_log_queue(void)
{
    const char *svc = server_ctx.service ? server_ctx.service : "";

    if (strcmp(svc, SERVICE_DEFER) == 0)
        return QUEUE_DEFER;
    if (strcmp(svc, SERVICE_TRACE) == 0)
        return QUEUE_TRACE;
    return QUEUE_BOUNCE;
}

/* Is class (bounce, 2bounce, ...) in notify_classes? */
static int
bounce_notify_class(const char *class)
{
    ARGV   *list = argv_split_list(var_notify_classes);
    int     found = 0;

    for (size_t i = 0; list && i < list->argc; i++)
        if (strcasecmp(list->argv[i], class) == 0)
            found = 1;
    argv_free(list);
    return found;
}

/*
 * Queue one notice about log's entries; logs "ID: <what> notification:
 * NEWID" (what: "sender non-delivery", "postmaster delay", ...). 0 or -1.
 */
static int
bounce_send(BOUNCE_ORIG *orig, const BOUNCE_LOG *log, int kind, const char *from,
            const char *to, int ret, const char *what)
{
    BOUNCE_NOTICE n;
    BOUNCE_POST *post;
    char    new_id[QUEUE_ID_MAX + 1];

    if ((post = bounce_post_open(from, to)) == 0)
        return -1;
    memset(&n, 0, sizeof(n));
    n.kind = kind;
    n.recipient = to;
    n.new_id = bounce_post_id(post);
    n.ret = ret;
    n.now = time((time_t *) 0);
    n.myhostname = var_myhostname;
    n.mail_name = var_mail_name;
    n.size_limit = var_bounce_limit;
    n.smtputf8 = var_smtputf8_enable;
    if (kind == BOUNCE_NOTICE_DELAY || kind == BOUNCE_NOTICE_DELAY_PM) {
        n.warn_after = var_delay_warn_time;
        n.retry_for = var_max_queue_time;
    }
    snprintf(new_id, sizeof(new_id), "%s", n.new_id);
    if (bounce_notify_write(&n, orig, log, bounce_post_line, post) < 0) {
        msg_warn("%s: cannot compose the %s notification", orig->queue_id, what);
        bounce_post_abort(post);
        return -1;
    }
    if (bounce_post_close(post) < 0)
        return -1;
    msg_info("%s: %s notification: %s", orig->queue_id, what, new_id);
    return 0;
}

/* The notices a flush sends (see the top of the file); 0 or -1. */
static int
bounce_flush_notices(BOUNCE_ORIG *orig, const BOUNCE_LOG *log)
{
    char   *double_bounce = mem_printf("%s@%s", var_double_bounce_sender, var_myhostname);
    int     rc = 0;

    if (*orig->sender == 0) {
        if (bounce_notify_class("2bounce"))
            rc = bounce_send(orig, log, BOUNCE_NOTICE_POSTMASTER, double_bounce,
                             var_2bounce_rcpt, DSN_RET_FULL,
                             "postmaster non-delivery");
    } else if (strcasecmp(orig->sender, double_bounce) == 0) {
        msg_warn("%s: undeliverable postmaster notification discarded", orig->queue_id);
    } else {
        rc = bounce_send(orig, log, BOUNCE_NOTICE_SENDER, "", orig->sender,
                         orig->dsn_ret == DSN_RET_HDRS ? DSN_RET_HDRS : DSN_RET_FULL,
                         "sender non-delivery");
        if (rc == 0 && bounce_notify_class("bounce"))
            (void) bounce_send(orig, log, BOUNCE_NOTICE_POSTMASTER, double_bounce,
                               var_bounce_rcpt, DSN_RET_HDRS,
                               "postmaster non-delivery");
    }
    mem_free(double_bounce);
    return rc;
}

/* trace flush (sendmail -bv): the whole log as a status report to the sender. */
static int
bounce_trace_notices(BOUNCE_ORIG *orig, const BOUNCE_LOG *log)
{
    if (*orig->sender == 0)
        return 0;                       /* nobody to report to */
    return bounce_send(orig, log, BOUNCE_NOTICE_TRACE, "", orig->sender, DSN_RET_HDRS,
                       "sender delivery status");
}

/* flush: BOUNCE_STAT_OK when the log is dealt with and removed. */
static int
bounce_flush(BOUNCE_ORIG *orig)
{
    const char *logq = bounce_log_queue();
    VSTRING *path = vstring_alloc(256);
    BOUNCE_LOG *log;
    int     rc = -1;

    if ((log = bounce_log_read(logq, orig->queue_id)) == 0) {
        if (errno == ENOENT)            /* done before (a retried request) */
            rc = 0;
        else
            msg_warn("%s: read %s log: %m", orig->queue_id, logq);
    } else {
        if (strcmp(logq, QUEUE_TRACE) != 0)
            bounce_log_filter(log, bounce_rcpt_wanted);
        if (log->count == 0)
            rc = 0;                     /* NOTIFY=NEVER or without FAILURE */
        else if (bounce_orig_open(orig) == 0) {
            rc = strcmp(logq, QUEUE_TRACE) == 0 ? bounce_trace_notices(orig, log)
                : bounce_flush_notices(orig, log);
            bounce_orig_close(orig);
        }
        bounce_log_free(log);
    }
    if (rc == 0 && unlink(queue_path(path, logq, orig->queue_id)) < 0 && errno != ENOENT) {
        msg_warn("%s: remove %s: %m", orig->queue_id, STR(path));
        rc = -1;
    }
    vstring_free(path);
    return rc == 0 ? BOUNCE_STAT_OK : BOUNCE_STAT_FAIL;
}

/* warn: BOUNCE_STAT_OK when the delay notice is queued (or none is due). */
static int
bounce_warn(BOUNCE_ORIG *orig)
{
    const char *logq = bounce_log_queue();
    char   *double_bounce;
    BOUNCE_LOG *log;
    int     rc = -1;

    if (*orig->sender == 0)
        return BOUNCE_STAT_OK;          /* no warnings about notices */
    double_bounce = mem_printf("%s@%s", var_double_bounce_sender, var_myhostname);
    if (strcasecmp(orig->sender, double_bounce) == 0) {
        rc = 0;
    } else if ((log = bounce_log_read(logq, orig->queue_id)) == 0) {
        if (errno == ENOENT)            /* nothing deferred (any more) */
            rc = 0;
        else
            msg_warn("%s: read %s log: %m", orig->queue_id, logq);
    } else {
        bounce_log_filter(log, bounce_rcpt_delay_wanted);
        if (log->count == 0)
            rc = 0;                     /* NOTIFY without DELAY */
        else if (bounce_orig_open(orig) == 0) {
            rc = bounce_send(orig, log, BOUNCE_NOTICE_DELAY, "", orig->sender, DSN_RET_HDRS,
                             "sender delay");
            if (rc == 0 && bounce_notify_class("delay"))
                (void) bounce_send(orig, log, BOUNCE_NOTICE_DELAY_PM, double_bounce,
                                   var_delay_rcpt, DSN_RET_HDRS,
                                   "postmaster delay");
            bounce_orig_close(orig);
        }
        bounce_log_free(log);
    }
    mem_free(double_bounce);
    return rc == 0 ? BOUNCE_STAT_OK : BOUNCE_STAT_FAIL;
}

/* Check the request and fill orig; NULL or what is wrong. */
static const char *
bounce_request_check(const ATTR_LIST *req, BOUNCE_ORIG *orig)
{
    const char *missing;
    long    ret = 0;

    if ((missing = attr_require(req, ATTR_REQUEST, ATTR_QUEUE_NAME, ATTR_QUEUE_ID,
                                ATTR_SENDER, (char *) 0)) != 0)
        return missing;
    if (strcmp(attr_get(req, ATTR_REQUEST), BOUNCE_REQ_FLUSH) != 0
        && strcmp(attr_get(req, ATTR_REQUEST), BOUNCE_REQ_WARN) != 0)
        return ATTR_REQUEST;
    memset(orig, 0, sizeof(*orig));
    orig->queue_name = attr_get(req, ATTR_QUEUE_NAME);
    orig->queue_id = attr_get(req, ATTR_QUEUE_ID);
    if (!queue_name_ok(orig->queue_name))
        return ATTR_QUEUE_NAME;
    if (!queue_id_ok(orig->queue_id))
        return ATTR_QUEUE_ID;
    orig->sender = attr_get(req, ATTR_SENDER);
    orig->encoding = attr_get(req, ATTR_ENCODING) ? attr_get(req, ATTR_ENCODING) : "";
    orig->dsn_envid = attr_get(req, ATTR_DSN_ENVID) ? attr_get(req, ATTR_DSN_ENVID) : "";
    if (attr_get(req, ATTR_DSN_RET) && attr_get_long(req, ATTR_DSN_RET, &ret) < 0)
        return ATTR_DSN_RET;
    orig->dsn_ret = (int) ret;
    return 0;
}

void
bounce_service(STREAM *client)
{
    ATTR_LIST *req = attr_list_alloc();
    ATTR_LIST *reply = attr_list_alloc();
    long    timeout = var_ipc_timeout;
    BOUNCE_ORIG orig;
    const char *bad;
    int     status;

    stream_set_timeout(client, timeout > 0 && timeout < 3600 ? (int) timeout : 3600);
    if (attr_read(client, req) != 1) {
        msg_warn("bad or missing request from client");
    } else if ((bad = bounce_request_check(req, &orig)) != 0) {
        msg_warn("bad request from client: missing or bad attribute \"%s\"", bad);
        attr_add_long(reply, ATTR_STATUS, BOUNCE_STAT_FAIL);
        (void) attr_write(client, reply);
    } else {
        status = strcmp(attr_get(req, ATTR_REQUEST), BOUNCE_REQ_WARN) == 0
            ? bounce_warn(&orig) : bounce_flush(&orig);
        attr_add_long(reply, ATTR_STATUS, status);
        if (attr_write(client, reply) < 0)
            msg_warn("%s: cannot send the reply to the client", orig.queue_id);
    }
    attr_list_free(req);
    attr_list_free(reply);
}
