/*
 * verify_clnt.c - client of the address verification service.
 *
 * Interface: verify_clnt.h. The connection is an ATTR_CLNT
 * (lib/util/attr_clnt.c) kept for the life of the process.
 *
 * SECURITY: reply values are checked (numbers in range, reason bounded).
 *
 * DIAGNOSTICS: warnings only (verify_clnt.h).
 */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "attr.h"
#include "attr_clnt.h"
#include "config.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "verify_clnt.h"

static ATTR_CLNT verify_conn = ATTR_CLNT_INIT(NULL, PROTO_VERIFY);
static char *verify_path;

static int
verify_clnt_timeout(void)
{
    mail_params_need("verify_clnt");
    return mail_params.ipc_timeout < VERIFY_CLNT_TIMEOUT ? (int) mail_params.ipc_timeout
        : VERIFY_CLNT_TIMEOUT;
}

void
verify_clnt_close(void)
{
    attr_clnt_close(&verify_conn);
}

/* One exchange, retried once when a kept connection failed. */
static int
verify_clnt_call(const ATTR_LIST *req, ATTR_LIST *reply)
{
    long    status;

    if (verify_path == NULL) {
        const char *name = config_str("address_verify_service_name");

        verify_path = mem_printf("%s/%s", MAIL_CLASS_PRIVATE,
                                 name && *name ? name : SERVICE_VERIFY);
        verify_conn.path = verify_path;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        int     reused = verify_conn.stream != NULL;

        if (!reused && attr_clnt_open(&verify_conn, verify_clnt_timeout()) < 0)
            break;
        if (attr_clnt_exchange(&verify_conn, req, reply) == 0
            && attr_get_long(reply, ATTR_STATUS, &status) == 0)
            return status == VERIFY_STAT_OK ? VERIFY_STAT_OK : VERIFY_STAT_FAIL;
        verify_clnt_close();
        if (!reused)
            break;
    }
    msg_warn("problem talking to service %s", verify_path);
    return VERIFY_STAT_FAIL;
}

int
verify_clnt_query(const char *addr, int *addr_status, VSTRING *why)
{
    ATTR_LIST *req = attr_list_alloc();
    ATTR_LIST *reply = attr_list_alloc();
    const char *reason;
    long    st;
    int     ret;

    attr_add(req, ATTR_REQUEST, VERIFY_REQ_QUERY);
    attr_add(req, ATTR_ADDRESS, addr);
    ret = verify_clnt_call(req, reply);
    if (ret == VERIFY_STAT_OK) {
        if (attr_get_long(reply, ATTR_ADDR_STATUS, &st) < 0
            || st < VERIFY_ADDR_OK || st > VERIFY_ADDR_TODO
            || (reason = attr_get(reply, ATTR_REASON)) == NULL) {
            msg_warn("malformed reply from service %s", verify_path);
            verify_clnt_close();
            ret = VERIFY_STAT_FAIL;
        } else {
            *addr_status = (int) st;
            vstring_sprintf(why, "%.*s", VERIFY_TEXT_MAX, reason);
        }
    }
    attr_list_free(req);
    attr_list_free(reply);
    return ret;
}

int
verify_clnt_update(const char *addr, int addr_status, const char *why)
{
    ATTR_LIST *req = attr_list_alloc();
    ATTR_LIST *reply = attr_list_alloc();
    int     ret;

    attr_add(req, ATTR_REQUEST, VERIFY_REQ_UPDATE);
    attr_add(req, ATTR_ADDRESS, addr);
    attr_add_long(req, ATTR_ADDR_STATUS, addr_status);
    attr_addf(req, ATTR_REASON, "%.*s", VERIFY_TEXT_MAX, why ? why : "");
    ret = verify_clnt_call(req, reply);
    attr_list_free(req);
    attr_list_free(reply);
    return ret;
}

int
verify_clnt_update_rcpt(const char *addr, const char *orig, int addr_status, const char *why)
{
    int     ret = VERIFY_STAT_OK;

    if (orig && *orig && strcasecmp(orig, addr) != 0)
        ret = verify_clnt_update(orig, addr_status, why);
    if (ret == VERIFY_STAT_OK)
        ret = verify_clnt_update(addr, addr_status, why);
    return ret;
}
