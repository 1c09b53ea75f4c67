/*
 * qmgr_bounce.c - the client of the bounce, defer and trace services:
 * one request about a message that is still in active/.
 *
 * Interface (qmgr.h): qmgr_bounce_request() sends a request (mail_proto.h:
 * "flush" or "warn") to private/<service>; qmgr_bounce_flush() is the
 * qmgr_log_flush_fn that qmgr.c plugs in when the daemon starts: when a
 * message is finished, bounce/ID goes to private/bounce (the non-delivery
 * notification) and trace/ID to private/trace (the delivery status
 * report: sendmail -bv, NOTIFY=SUCCESS). qmgr_warn.c asks private/defer
 * for the delay warning.
 *
 * Only a {status=0} reply counts as done. Anything else (no service, no
 * greeting, timeout, status 1) returns -1: for a flush qmgr keeps the
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
 *
 * DIAGNOSTICS: none fatal; a bounce or defer service that cannot be
 * reached or fails is a warning and the recipients are deferred instead.
 */
#include <string.h>
#include "attr.h"
#include "connect.h"
#include "mail_proto.h"
#include "msg.h"
#include "queue.h"
#include "vstring.h"
#include "qmgr.h"

#define QMGR_BOUNCE_GREET_TIMEOUT  20
#define QMGR_BOUNCE_TIMEOUT        100

/* Send the request on an open stream; 0 when the service says done. */
static int
qmgr_bounce_talk(STREAM *s, const QMGR_MESSAGE *msg, const char *service,
                 const char *request, VSTRING *why)
{
    ATTR_LIST *list = attr_list_alloc();
    long    status = -1;
    long    timeout = var_ipc_timeout < QMGR_BOUNCE_TIMEOUT ? var_ipc_timeout
        : QMGR_BOUNCE_TIMEOUT;

    stream_set_timeout(s, QMGR_BOUNCE_GREET_TIMEOUT);
    if (attr_expect_protocol(s, PROTO_BOUNCE) < 0) {
        vstring_sprintf(why, "no greeting from the %s service", service);
    } else {
        attr_add(list, ATTR_REQUEST, request);
        attr_add(list, ATTR_QUEUE_NAME, QUEUE_ACTIVE);
        attr_add(list, ATTR_QUEUE_ID, msg->queue_id);
        attr_add(list, ATTR_SENDER, msg->sender);
        attr_add(list, ATTR_ENCODING, msg->encoding);
        attr_add(list, ATTR_DSN_ENVID, msg->dsn_envid);
        attr_add_long(list, ATTR_DSN_RET, msg->dsn_ret);
        stream_set_timeout(s, (int) timeout);
        if (attr_write(s, list) < 0)
            vstring_sprintf(why, "cannot send the request to the %s service", service);
        else if (attr_read(s, list) != 1 || attr_get_long(list, ATTR_STATUS, &status) < 0)
            vstring_sprintf(why, "no reply from the %s service", service);
        else if (status != BOUNCE_STAT_OK)
            vstring_sprintf(why, "the %s service could not send it", service);
    }
    attr_list_free(list);
    return status == BOUNCE_STAT_OK ? 0 : -1;
}

int
qmgr_bounce_request(const QMGR_MESSAGE *msg, const char *service, const char *request,
                    const char *what)
{
    VSTRING *path = vstring_alloc(64);
    VSTRING *why = vstring_alloc(128);
    STREAM *s;
    int     fd, rc = -1;

    vstring_sprintf(path, "%s/%s", MAIL_CLASS_PRIVATE, service);
    if ((fd = unix_connect(STR(path), QMGR_BOUNCE_GREET_TIMEOUT)) < 0) {
        msg_warn("%s: connect to %s: %m; %s deferred", msg->queue_id, STR(path), what);
    } else {
        s = stream_fdopen(fd);
        rc = qmgr_bounce_talk(s, msg, service, request, why);
        (void) stream_close(s);
        if (rc < 0)
            msg_warn("%s: %s; %s deferred", msg->queue_id, STR(why), what);
    }
    vstring_free(path);
    vstring_free(why);
    return rc;
}

int
qmgr_bounce_flush(const char *queue, const QMGR_MESSAGE *msg)
{
    if (strcmp(queue, QUEUE_TRACE) == 0)
        return qmgr_bounce_request(msg, SERVICE_TRACE, BOUNCE_REQ_FLUSH,
                                   "delivery status report");
    return qmgr_bounce_request(msg, SERVICE_BOUNCE, BOUNCE_REQ_FLUSH,
                               "non-delivery notification");
}
