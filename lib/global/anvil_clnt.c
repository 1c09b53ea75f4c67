/*
 * anvil_clnt.c - client of the anvil service (private/anvil).
 *
 * Interface: anvil_clnt.h. One request/reply exchange per call, on a
 * connection kept open for the life of the process; a failure on that
 * kept connection (anvil restarted) is retried once on a fresh one; a
 * failure on a fresh connection is not, so an anvil that does not answer
 * costs one timeout. Then the client backs off (fails at once) for
 * ANVIL_CLNT_BACKOFF seconds. The connection is an ATTR_CLNT
 * (lib/util/attr_clnt.c): the first request on a new connection is
 * written before anvil's {protocol=anvil} greeting is read. Each
 * exchange is bounded by $ipc_timeout (read once by mail_params_init())
 * or ANVIL_CLNT_TIMEOUT, whichever is smaller.
 *
 * SECURITY: every reply value must be a number in int range; anything
 * else is a failure and closes the connection.
 *
 * DIAGNOSTICS: nothing is fatal; an unreachable or misbehaving anvil is a
 * warning (once per back-off) and a failed call. A call before
 * mail_params_init() panics.
 */
#include <limits.h>
#include <string.h>
#include <time.h>

#include "anvil_clnt.h"
#include "attr.h"
#include "attr_clnt.h"
#include "mail_params.h"
#include "msg.h"

static ATTR_CLNT anvil_conn = ATTR_CLNT_INIT(ANVIL_CLNT_PATH, PROTO_ANVIL);
static time_t anvil_down_until;         /* backing off until then */

/* $ipc_timeout (mail_params.h), but never more than ANVIL_CLNT_TIMEOUT. */
static int
anvil_clnt_timeout(void)
{
    mail_params_need("anvil_clnt");
    return mail_params.ipc_timeout < ANVIL_CLNT_TIMEOUT ? (int) mail_params.ipc_timeout
        : ANVIL_CLNT_TIMEOUT;
}

void
anvil_clnt_close(void)
{
    attr_clnt_close(&anvil_conn);
}

/* One exchange with one retry; ANVIL_STAT_OK with status=0 in reply. */
static int
anvil_clnt_call(const char *request, const char *service, const char *addr,
                ATTR_LIST *reply)
{
    ATTR_LIST *req;
    long    status;
    int     ret = ANVIL_STAT_FAIL;

    if (anvil_down_until != 0 && time(NULL) < anvil_down_until)
        return ANVIL_STAT_FAIL;
    anvil_down_until = 0;
    req = attr_list_alloc();
    attr_add(req, ATTR_REQUEST, request);
    attr_addf(req, ATTR_IDENT, "%s:%s", service, addr);
    for (int attempt = 0; attempt < 2 && ret != ANVIL_STAT_OK; attempt++) {
        int     reused = anvil_conn.stream != NULL;

        if (!reused && attr_clnt_open(&anvil_conn, anvil_clnt_timeout()) < 0)
            break;
        if (attr_clnt_exchange(&anvil_conn, req, reply) == 0
            && attr_get_long(reply, ATTR_STATUS, &status) == 0) {
            if (status == ANVIL_STAT_OK)
                ret = ANVIL_STAT_OK;
            else
                break;                  /* anvil refused: no retry, no back-off */
        } else {
            anvil_clnt_close();
            if (!reused)                /* a fresh connection failed: do not wait twice */
                break;
        }
    }
    if (ret != ANVIL_STAT_OK && anvil_conn.stream == NULL) {
        msg_warn("problem talking to service %s: connection limits are not enforced "
                 "for %d seconds", ANVIL_CLNT_PATH, ANVIL_CLNT_BACKOFF);
        anvil_down_until = time(NULL) + ANVIL_CLNT_BACKOFF;
    }
    attr_list_free(req);
    return ret;
}

/* A non-negative int attribute; -1 if missing or bad. */
static int
anvil_clnt_value(const ATTR_LIST *reply, const char *name, int *value)
{
    long    v;

    if (attr_get_long(reply, name, &v) < 0 || v < 0 || v > INT_MAX) {
        msg_warn("malformed reply from service %s: bad %s", ANVIL_CLNT_PATH, name);
        anvil_clnt_close();
        return -1;
    }
    *value = (int) v;
    return 0;
}

/* Requests that answer with one rate. */
static int
anvil_clnt_rate(const char *request, const char *service, const char *addr, int *rate)
{
    ATTR_LIST *reply = attr_list_alloc();
    int     ret = anvil_clnt_call(request, service, addr, reply);

    if (ret == ANVIL_STAT_OK && anvil_clnt_value(reply, ATTR_RATE, rate) < 0)
        ret = ANVIL_STAT_FAIL;
    attr_list_free(reply);
    return ret;
}

int
anvil_clnt_connect(const char *service, const char *addr, int *count, int *rate)
{
    ATTR_LIST *reply = attr_list_alloc();
    int     ret = anvil_clnt_call(ANVIL_REQ_CONN, service, addr, reply);

    if (ret == ANVIL_STAT_OK && (anvil_clnt_value(reply, ATTR_COUNT, count) < 0
                                 || anvil_clnt_value(reply, ATTR_RATE, rate) < 0))
        ret = ANVIL_STAT_FAIL;
    attr_list_free(reply);
    return ret;
}

int
anvil_clnt_disconnect(const char *service, const char *addr)
{
    ATTR_LIST *reply = attr_list_alloc();
    int     ret = anvil_clnt_call(ANVIL_REQ_DISC, service, addr, reply);

    attr_list_free(reply);
    return ret;
}

int
anvil_clnt_mail(const char *service, const char *addr, int *rate)
{
    return anvil_clnt_rate(ANVIL_REQ_MAIL, service, addr, rate);
}

int
anvil_clnt_rcpt(const char *service, const char *addr, int *rate)
{
    return anvil_clnt_rate(ANVIL_REQ_RCPT, service, addr, rate);
}

int
anvil_clnt_newtls(const char *service, const char *addr, int *rate)
{
    return anvil_clnt_rate(ANVIL_REQ_NTLS, service, addr, rate);
}

int
anvil_clnt_newtls_stat(const char *service, const char *addr, int *rate)
{
    return anvil_clnt_rate(ANVIL_REQ_NTLS_STAT, service, addr, rate);
}

int
anvil_clnt_auth(const char *service, const char *addr, int *rate)
{
    return anvil_clnt_rate(ANVIL_REQ_AUTH, service, addr, rate);
}

int
anvil_clnt_lookup(const char *service, const char *addr, ANVIL_COUNTS *counts)
{
    ATTR_LIST *reply = attr_list_alloc();
    int     ret = anvil_clnt_call(ANVIL_REQ_LOOKUP, service, addr, reply);

    if (ret == ANVIL_STAT_OK
        && (anvil_clnt_value(reply, ATTR_COUNT, &counts->count) < 0
            || anvil_clnt_value(reply, ATTR_RATE, &counts->rate) < 0
            || anvil_clnt_value(reply, ATTR_ANVIL_MAIL, &counts->message) < 0
            || anvil_clnt_value(reply, ATTR_ANVIL_RCPT, &counts->recipient) < 0
            || anvil_clnt_value(reply, ATTR_ANVIL_NTLS, &counts->newtls) < 0
            || anvil_clnt_value(reply, ATTR_ANVIL_AUTH, &counts->auth) < 0))
        ret = ANVIL_STAT_FAIL;
    attr_list_free(reply);
    return ret;
}
