/*
 * discard_deliver.c - one request of the discard delivery agent.
 *
 * Interface (discard.h): discard_deliver(), discard_service().
 *
 * Every recipient of the request counts as delivered; the log line
 * names the next hop as the reason, as Postfix does:
 *   ID: to=<rcpt>, relay=none, delay=.., delays=.., dsn=2.0.0, status=sent (reason)
 * The next hop is whatever the transport entry says after "discard:"
 * (or, when that is empty, the resolver's default: the recipient
 * domain). A leading "X.Y.Z" code replaces the default 2.0.0, as class 2
 * (dsn_split(), lib/global/dsn_util.c).
 *
 * SECURITY: the request is checked by deliver_request_read(); the
 * content is not read; the reason is bounded by deliver_result().
 */
#include "dsn_util.h"
#include "msg.h"
#include "discard.h"

void
discard_deliver(DELIVER_REQUEST *req)
{
    char    dsn[16];
    const char *text = dsn_split(req->nexthop, '2', dsn, sizeof(dsn));

    if (*text == 0)
        text = DISCARD_REASON_DEFAULT;
    for (int i = 0; i < req->rcpt_count; i++)
        deliver_result(req, i, DELIVER_SENT, dsn, "none", 0, 0, "%s", text);
}

void
discard_service(STREAM *client)
{
    DELIVER_REQUEST *req = deliver_request_read(client);

    if (req == 0)
        return;
    discard_deliver(req);
    if (deliver_request_reply(client, req) < 0 || stream_flush(client) < 0)
        msg_warn("%s: cannot send the delivery status to the queue manager", req->queue_id);
    deliver_request_free(req);
}
