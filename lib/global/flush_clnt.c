/*
 * flush_clnt.c - client of the fast flush service.
 *
 * Interface: flush_clnt.h. One ATTR_CLNT connection per request (the
 * service is a single-client server).
 *
 * SECURITY: the reply status is checked against the known values.
 *
 * DIAGNOSTICS: warnings only (flush_clnt.h).
 */
#include "attr.h"
#include "attr_clnt.h"
#include "flush_clnt.h"
#include "mail_params.h"
#include "msg.h"
#include "resolve.h"

static int
flush_clnt_call(const ATTR_LIST *req)
{
    ATTR_CLNT conn = ATTR_CLNT_INIT(FLUSH_CLNT_PATH, PROTO_FLUSH);
    ATTR_LIST *reply = attr_list_alloc();
    long    status = FLUSH_STAT_FAIL;
    int     timeout;

    mail_params_need("flush_clnt");
    timeout = mail_params.ipc_timeout < FLUSH_CLNT_TIMEOUT ? (int) mail_params.ipc_timeout
        : FLUSH_CLNT_TIMEOUT;
    if (attr_clnt_open(&conn, timeout) < 0 || attr_clnt_exchange(&conn, req, reply) < 0
        || attr_get_long(reply, ATTR_STATUS, &status) < 0
        || (status != FLUSH_STAT_OK && status != FLUSH_STAT_BAD && status != FLUSH_STAT_DENY)) {
        msg_warn("problem talking to service %s", FLUSH_CLNT_PATH);
        status = FLUSH_STAT_FAIL;
    }
    attr_clnt_close(&conn);
    attr_list_free(reply);
    return (int) status;
}

int
flush_clnt_add(const char *site, const char *queue_id)
{
    ATTR_LIST *req;
    int     fail = 0;
    int     status;

    if (!resolve_domain_list("fast_flush_domains", site, &fail))
        return fail ? FLUSH_STAT_FAIL : FLUSH_STAT_DENY;
    req = attr_list_alloc();
    attr_add(req, ATTR_REQUEST, FLUSH_REQ_ADD);
    attr_add(req, ATTR_SITE, site);
    attr_add(req, ATTR_QUEUE_ID, queue_id);
    status = flush_clnt_call(req);
    attr_list_free(req);
    return status;
}

int
flush_clnt_send_site(const char *site)
{
    ATTR_LIST *req = attr_list_alloc();
    int     status;

    attr_add(req, ATTR_REQUEST, FLUSH_REQ_SEND_SITE);
    attr_add(req, ATTR_SITE, site);
    status = flush_clnt_call(req);
    attr_list_free(req);
    return status;
}
