/*
 * error_deliver.c - one request of the error delivery agent.
 *
 * Interface (error.h): error_split_reason(), error_deliver(),
 * error_service().
 *
 * The next hop of the request is the reason ("error:mail for this
 * domain is not accepted", "local_transport = error:local mail delivery
 * is disabled"); it may start with an RFC 3463 code ("5.1.1 no such
 * user"). Every recipient gets the same verdict, logged as Postfix does:
 *   ID: to=<rcpt>, relay=none, delay=.., delays=.., dsn=5.0.0, status=bounced (reason)
 * As "retry" (or with soft_bounce) the verdict is deferred, code 4.0.0.
 *
 * SECURITY: the request is checked by deliver_request_read(); the
 * reason is the (admin-configured or resolver-made) next hop, copied
 * into the log through deliver_result(), which bounds it.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "msg.h"
#include "error.h"

int     error_defer_only;

/* Length of an "X.Y.Z" code at text (X one digit 2, 4 or 5), 0 if none. */
static size_t
error_code_len(const char *text)
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
error_split_reason(const char *reason, int class, char *dsn, size_t dsnlen)
{
    size_t  len;

    if (reason == 0)
        reason = "";
    while (*reason == ' ' || *reason == '\t')
        reason++;
    if ((len = error_code_len(reason)) > 0 && len < dsnlen) {
        snprintf(dsn, dsnlen, "%c%.*s", class, (int) len - 1, reason + 1);
        reason += len;
        while (*reason == ' ' || *reason == '\t')
            reason++;
    } else {
        snprintf(dsn, dsnlen, "%c.0.0", class);
    }
    return *reason ? reason : ERROR_REASON_DEFAULT;
}

void
error_deliver(DELIVER_REQUEST *req)
{
    int     status = error_defer_only ? DELIVER_DEFER : DELIVER_BOUNCE;
    char    dsn[16];
    const char *text;

    text = error_split_reason(req->nexthop, status == DELIVER_DEFER ? '4' : '5',
                              dsn, sizeof(dsn));
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
