/*
 * verdict.c - one verdict for every recipient of a request (verdict.h).
 *
 * DIAGNOSTICS: none of its own; a request that cannot be read or answered
 * is logged by deliver_request_serve().
 */
#include "dsn_util.h"
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

typedef struct VERDICT {
    int     status;
    const char *dflt;
} VERDICT;

static void
verdict_serve_one(DELIVER_REQUEST *req, void *ctx)
{
    const VERDICT *v = ctx;

    verdict_deliver(req, v->status, v->dflt);
}

void
verdict_service(STREAM *client, int status, const char *dflt)
{
    VERDICT v = {status, dflt};

    deliver_request_serve(client, verdict_serve_one, &v);
}
