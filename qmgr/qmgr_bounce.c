/*
 * qmgr_bounce.c - the bounce service client: when a message is finished
 * and bounce/ID exists, ask private/bounce to send the non-delivery
 * notification (request "flush", mail_proto.h) while the queue file is
 * still in active/; likewise private/trace for trace/ID (sendmail -bv:
 * the delivery status report).
 *
 * Interface: sets qmgr_bounce_flush_fn and qmgr_trace_flush_fn (qmgr.h) when the program starts
 * (a constructor: unit tests that include the other qmgr_*.c files do
 * not link this one, and keep the log-only behaviour).
 *
 * Only a {status=0} reply lets the queue file go. Anything else (no
 * service, no greeting, timeout, status 1) returns -1: qmgr keeps the
 * message in deferred/ with all recipients DONE and asks again at the
 * next retry, so a bounce is never lost (at worst it is sent twice).
 *
 * The request is synchronous: a UNIX-domain connect is immediate, the
 * greeting must come within QMGR_BOUNCE_GREET_TIMEOUT and the answer
 * within QMGR_BOUNCE_TIMEOUT (capped by ipc_timeout); qmgr's event loop
 * waits meanwhile.
 *
 * SECURITY: the reply is checked (a status other than 0 is a failure);
 * attribute sizes are bounded by attr.h.
 */
#include <string.h>
#include "attr.h"
#include "connect.h"
#include "mail_proto.h"
#include "msg.h"
#include "queue.h"
#include "qmgr.h"

#define QMGR_BOUNCE_PATH           MAIL_CLASS_PRIVATE "/" SERVICE_BOUNCE
#define QMGR_TRACE_PATH            MAIL_CLASS_PRIVATE "/" SERVICE_TRACE
#define QMGR_BOUNCE_GREET_TIMEOUT  20
#define QMGR_BOUNCE_TIMEOUT        100

/* Send the flush request on an open stream; 0 when the service says done. */
static int
qmgr_bounce_talk(STREAM *s, const QMGR_MESSAGE *msg, const char **why)
{
    ATTR_LIST *list = attr_list_alloc();
    long    status = -1;
    long    timeout = var_ipc_timeout < QMGR_BOUNCE_TIMEOUT ? var_ipc_timeout
        : QMGR_BOUNCE_TIMEOUT;

    stream_set_timeout(s, QMGR_BOUNCE_GREET_TIMEOUT);
    if (attr_expect_protocol(s, PROTO_BOUNCE) < 0) {
        *why = "no greeting from the bounce service";
    } else {
        attr_add(list, ATTR_REQUEST, BOUNCE_REQ_FLUSH);
        attr_add(list, ATTR_QUEUE_NAME, QUEUE_ACTIVE);
        attr_add(list, ATTR_QUEUE_ID, msg->queue_id);
        attr_add(list, ATTR_SENDER, msg->sender);
        attr_add(list, ATTR_ENCODING, msg->encoding);
        attr_add(list, ATTR_DSN_ENVID, msg->dsn_envid);
        attr_add_long(list, ATTR_DSN_RET, msg->dsn_ret);
        stream_set_timeout(s, (int) timeout);
        if (attr_write(s, list) < 0)
            *why = "cannot send the request to the bounce service";
        else if (attr_read(s, list) != 1 || attr_get_long(list, ATTR_STATUS, &status) < 0)
            *why = "no reply from the bounce service";
        else if (status != BOUNCE_STAT_OK)
            *why = "the bounce service could not send it";
    }
    attr_list_free(list);
    return status == BOUNCE_STAT_OK ? 0 : -1;
}

/* flush on private/bounce or private/trace; what names the notice. */
static int
qmgr_bounce_send(const QMGR_MESSAGE *msg, const char *service_path, const char *what)
{
    const char *why = "";
    STREAM *s;
    int     fd, rc;

    if ((fd = unix_connect(service_path, QMGR_BOUNCE_GREET_TIMEOUT)) < 0) {
        msg_warn("%s: connect to %s: %m; %s deferred", msg->queue_id, service_path, what);
        return -1;
    }
    s = stream_fdopen(fd);
    rc = qmgr_bounce_talk(s, msg, &why);
    (void) stream_close(s);
    if (rc < 0)
        msg_warn("%s: %s; %s deferred", msg->queue_id, why, what);
    return rc;
}

static int
qmgr_bounce_request(const QMGR_MESSAGE *msg)
{
    return qmgr_bounce_send(msg, QMGR_BOUNCE_PATH, "non-delivery notification");
}

static int
qmgr_trace_request(const QMGR_MESSAGE *msg)
{
    return qmgr_bounce_send(msg, QMGR_TRACE_PATH, "delivery status report");
}

static void __attribute__((constructor))
qmgr_bounce_register(void)
{
    qmgr_bounce_flush_fn = qmgr_bounce_request;
    qmgr_trace_flush_fn = qmgr_trace_request;
}
