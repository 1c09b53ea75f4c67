/*
 * discard_deliver.c - one request of the discard delivery agent.
 *
 * Interface (discard.h): discard_split_reason(), discard_deliver(),
 * discard_service().
 *
 * Every recipient of the request counts as delivered; the log line
 * names the next hop as the reason, as Postfix does:
 *   ID: to=<rcpt>, relay=none, delay=.., delays=.., dsn=2.0.0, status=sent (reason)
 * The next hop is whatever the transport entry says after "discard:"
 * (or, when that is empty, the resolver's default: the recipient
 * domain). A leading "2.x.y" code replaces the default 2.0.0.
 *
 * SECURITY: the request is checked by deliver_request_read(); the
 * content is not read; the reason is bounded by deliver_result().
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "discard.h"

/* Length of an "X.Y.Z" code at text (X one of 2, 4, 5), 0 if none. */
static size_t
discard_code_len(const char *text)
{
    const char *cp = text;
    int     n;

    if ((cp[0] != '2' && cp[0] != '4' && cp[0] != '5') || cp[1] != '.')
        return 0;
    cp += 2;
    for (int part = 0; part < 2; part++) {
        for (n = 0; isdigit((unsigned char) *cp) && n < 4; cp++)
            n++;
        if (n < 1 || n > 3)
            return 0;
        if (part == 0 && *cp++ != '.')
            return 0;
    }
    if (*cp != 0 && *cp != ' ' && *cp != '\t')
        return 0;
    return (size_t) (cp - text);
}

const char *
discard_split_reason(const char *reason, char *dsn, size_t dsnlen)
{
    size_t  len;

    if (reason == 0)
        reason = "";
    while (*reason == ' ' || *reason == '\t')
        reason++;
    if ((len = discard_code_len(reason)) > 0 && len < dsnlen) {
        snprintf(dsn, dsnlen, "2%.*s", (int) len - 1, reason + 1);
        reason += len;
        while (*reason == ' ' || *reason == '\t')
            reason++;
    } else {
        snprintf(dsn, dsnlen, "2.0.0");
    }
    return *reason ? reason : DISCARD_REASON_DEFAULT;
}

void
discard_deliver(DELIVER_REQUEST *req)
{
    char    dsn[16];
    const char *text = discard_split_reason(req->nexthop, dsn, sizeof(dsn));

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
