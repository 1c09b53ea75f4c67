/*
 * verdict.c - one verdict for every recipient of a request (verdict.h).
 */
#include "dsn_util.h"
#include "msg.h"
#include "verdict.h"

void
verdict_deliver(DELIVER_REQUEST *req, int status, const char *dflt)
{
    int     class = status == DELIVER_SENT ? '2' : status == DELIVER_DEFER ? '4' : '5';
    char    dsn[16];
    const char *text = dsn_split(req->nexthop, class, dsn, sizeof(dsn));

    if (*text == 0)
        text = dflt;
    for (int i = 0; i < req->rcpt_count; i++)
        deliver_result(req, i, status, dsn, "none", 0, 0, "%s", text);
}

void
verdict_service(STREAM *client, int status, const char *dflt)
{
    DELIVER_REQUEST *req = deliver_request_read(client);

    if (req == 0)
        return;
    verdict_deliver(req, status, dflt);
    if (deliver_request_reply(client, req) < 0 || stream_flush(client) < 0)
        msg_warn("%s: cannot send the delivery status to the queue manager", req->queue_id);
    deliver_request_free(req);
}
