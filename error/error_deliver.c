/*
 * error_deliver.c - one request of the error delivery agent.
 *
 * Interface (error.h): error_deliver(), error_service().
 *
 * The next hop of the request is the reason ("error:mail for this
 * domain is not accepted", "local_transport = error:local mail delivery
 * is disabled"); it may start with an RFC 3463 code ("5.1.1 no such
 * user"; dsn_split(), lib/global/dsn_util.c, takes it apart). Every
 * recipient gets the same verdict, logged as Postfix does:
 *   ID: to=<rcpt>, relay=none, delay=.., delays=.., dsn=5.0.0, status=bounced (reason)
 * As "retry" (or with soft_bounce) the verdict is deferred, code 4.0.0.
 *
 * SECURITY: the request is checked by deliver_request_read(); the
 * reason is the (admin-configured or resolver-made) next hop, copied
 * into the log through deliver_result(), which bounds it.
 */
#include "dsn_util.h"
#include "msg.h"
#include "error.h"

int     error_defer_only;

void
error_deliver(DELIVER_REQUEST *req)
{
    int     status = error_defer_only ? DELIVER_DEFER : DELIVER_BOUNCE;
    char    dsn[16];
    const char *text;

    text = dsn_split(req->nexthop, status == DELIVER_DEFER ? '4' : '5', dsn, sizeof(dsn));
    if (*text == 0)
        text = ERROR_REASON_DEFAULT;
    for (int i = 0; i < req->rcpt_count; i++)
        deliver_result(req, i, status, dsn, "none", 0, 0, "%s", text);
}

void
error_service(STREAM *client)
{
    DELIVER_REQUEST *req = deliver_request_read(client);

    if (req == 0)
        return;
    error_deliver(req);
    if (deliver_request_reply(client, req) < 0 || stream_flush(client) < 0)
        msg_warn("%s: cannot send the delivery status to the queue manager", req->queue_id);
    deliver_request_free(req);
}
