/*
 * tls_mgr.c - client of the tlsmgr service: shared TLS session caches and
 * session ticket keys.
 *
 * Interface: tls_mgr.h. One connection per process (an ATTR_CLNT), kept
 * open; an exchange that fails on the kept connection is retried once on
 * a fresh one (tlsmgr was restarted); when a fresh connection fails too,
 * the client warns and fails every call at once for TLS_MGR_BACKOFF
 * seconds. The answer to "policy" is asked once per cache type and kept
 * for the life of the process.
 *
 * SECURITY: every reply value is checked: status a number, sessions and
 * keys hexadecimal of bounded or exact length, expiry a number.
 *
 * DIAGNOSTICS: "problem talking to service private/tlsmgr: session
 * caching and shared ticket keys are off for 60 seconds" (once per
 * back-off); a malformed reply is a warning and a failure.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "attr.h"
#include "attr_clnt.h"
#include "hex.h"
#include "mem.h"
#include "msg.h"
#include "tls_mgr.h"

static ATTR_CLNT tls_mgr_conn = ATTR_CLNT_INIT(NULL, TLS_MGR_PROTOCOL);
static int tls_mgr_timeout = TLS_MGR_TIMEOUT;
static time_t tls_mgr_down_until;
static struct {
    char   *type;
    int     cachable;
} tls_mgr_policies[4];

void
tls_mgr_init(const char *path, int timeout)
{
    tls_mgr_close();
    mem_free((void *) tls_mgr_conn.path);
    tls_mgr_conn.path = mem_strdup(path);
    tls_mgr_timeout = timeout > 0 && timeout < TLS_MGR_TIMEOUT ? timeout : TLS_MGR_TIMEOUT;
}

void
tls_mgr_close(void)
{
    attr_clnt_close(&tls_mgr_conn);
}

/* ---- checks ---------------------------------------------------------- */

int
tls_mgr_valid_hex(const char *hex, size_t max_bytes)
{
    size_t  len = strlen(hex);

    if (len == 0 || len % 2 != 0 || len > 2 * max_bytes)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (hex_digit((unsigned char) hex[i]) < 0)
            return 0;
    return 1;
}

/* 1..TLS_MGR_ID_MAX printable ASCII bytes, no space. */
int
tls_mgr_valid_id(const char *id)
{
    size_t  len = strlen(id);

    if (len == 0 || len > TLS_MGR_ID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isgraph((unsigned char) id[i]))
            return 0;
    return 1;
}

/* ---- the exchange ----------------------------------------------------- */

/* One exchange with one retry; the reply's status (TLS_MGR_STAT_*). */
static int
tls_mgr_call(const ATTR_LIST *req, ATTR_LIST *reply)
{
    long    status;

    if (tls_mgr_conn.path == NULL)
        return TLS_MGR_STAT_FAIL;
    if (tls_mgr_down_until != 0 && time(NULL) < tls_mgr_down_until)
        return TLS_MGR_STAT_FAIL;
    tls_mgr_down_until = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        int     reused = tls_mgr_conn.stream != NULL;

        if (!reused && attr_clnt_open(&tls_mgr_conn, tls_mgr_timeout) < 0)
            break;
        if (attr_clnt_exchange(&tls_mgr_conn, req, reply) == 0) {
            if (attr_get_long(reply, TLS_MGR_ATTR_STATUS, &status) == 0
                && status >= TLS_MGR_STAT_FAIL && status <= TLS_MGR_STAT_OK)
                return (int) status;
            msg_warn("malformed reply from service %s", tls_mgr_conn.path);
            tls_mgr_close();
            return TLS_MGR_STAT_FAIL;
        }
        if (!reused)
            break;
    }
    msg_warn("problem talking to service %s: session caching and shared ticket keys "
             "are off for %d seconds", tls_mgr_conn.path, TLS_MGR_BACKOFF);
    tls_mgr_down_until = time(NULL) + TLS_MGR_BACKOFF;
    return TLS_MGR_STAT_FAIL;
}

static ATTR_LIST *
tls_mgr_request(const char *request, const char *cache_type, const char *cache_id)
{
    ATTR_LIST *req = attr_list_alloc();

    attr_add(req, TLS_MGR_ATTR_REQ, request);
    if (cache_type != NULL)
        attr_add(req, TLS_MGR_ATTR_TYPE, cache_type);
    if (cache_id != NULL)
        attr_add(req, TLS_MGR_ATTR_ID, cache_id);
    return req;
}

int
tls_mgr_cachable(const char *cache_type)
{
    size_t  i, n = sizeof(tls_mgr_policies) / sizeof(tls_mgr_policies[0]);
    ATTR_LIST *req, *reply;
    long    cachable = 0;
    int     status;

    for (i = 0; i < n && tls_mgr_policies[i].type != NULL; i++)
        if (strcmp(tls_mgr_policies[i].type, cache_type) == 0)
            return tls_mgr_policies[i].cachable;
    req = tls_mgr_request(TLS_MGR_REQ_POLICY, cache_type, NULL);
    reply = attr_list_alloc();
    status = tls_mgr_call(req, reply);
    if (status == TLS_MGR_STAT_OK
        && attr_get_long(reply, TLS_MGR_ATTR_CACHABLE, &cachable) < 0)
        cachable = 0;
    attr_list_free(req);
    attr_list_free(reply);
    /* an unreachable tlsmgr is asked again after the back-off */
    if (status != TLS_MGR_STAT_OK)
        return -1;
    if (i < n) {
        tls_mgr_policies[i].type = mem_strdup(cache_type);
        tls_mgr_policies[i].cachable = cachable == 1;
    }
    return cachable == 1;
}

int
tls_mgr_lookup(const char *cache_type, const char *cache_id, VSTRING *session)
{
    ATTR_LIST *req = tls_mgr_request(TLS_MGR_REQ_LOOKUP, cache_type, cache_id);
    ATTR_LIST *reply = attr_list_alloc();
    int     status = tls_mgr_call(req, reply);
    const char *hex;

    if (status == TLS_MGR_STAT_OK) {
        hex = attr_get(reply, TLS_MGR_ATTR_SESSION);
        if (hex == NULL || !tls_mgr_valid_hex(hex, TLS_MGR_SESSION_MAX)
            || hex_decode(session, hex) < 0) {
            msg_warn("malformed session in reply from service %s", tls_mgr_conn.path);
            status = TLS_MGR_STAT_FAIL;
        }
    }
    attr_list_free(req);
    attr_list_free(reply);
    return status;
}

int
tls_mgr_update(const char *cache_type, const char *cache_id,
               const unsigned char *session, size_t len)
{
    ATTR_LIST *req = tls_mgr_request(TLS_MGR_REQ_UPDATE, cache_type, cache_id);
    ATTR_LIST *reply = attr_list_alloc();
    VSTRING *hex = vstring_alloc(2 * TLS_MGR_SESSION_MAX);
    int     status = TLS_MGR_STAT_FAIL;

    if (len > 0 && len <= TLS_MGR_SESSION_MAX) {
        hex_encode(hex, session, len);
        attr_add(req, TLS_MGR_ATTR_SESSION, STR(hex));
        status = tls_mgr_call(req, reply);
    }
    vstring_free(hex);
    attr_list_free(req);
    attr_list_free(reply);
    return status;
}

int
tls_mgr_delete(const char *cache_type, const char *cache_id)
{
    ATTR_LIST *req = tls_mgr_request(TLS_MGR_REQ_DELETE, cache_type, cache_id);
    ATTR_LIST *reply = attr_list_alloc();
    int     status = tls_mgr_call(req, reply);

    attr_list_free(req);
    attr_list_free(reply);
    return status;
}

/* Copy exactly len bytes of hex into out: 0, or -1. */
static int
tls_mgr_hex_exact(const ATTR_LIST *reply, const char *name, unsigned char *out, size_t len)
{
    const char *hex = attr_get(reply, name);
    VSTRING *buf;
    int     ret = -1;

    if (hex == NULL || strlen(hex) != 2 * len)
        return -1;
    buf = vstring_alloc(len);
    if (hex_decode(buf, hex) == 0 && LEN(buf) == len) {
        memcpy(out, STR(buf), len);
        ret = 0;
    }
    vstring_free(buf);
    return ret;
}

int
tls_mgr_key(const unsigned char *name, TLS_TICKET_KEY *key)
{
    ATTR_LIST *req = tls_mgr_request(TLS_MGR_REQ_TKTKEY, NULL, NULL);
    ATTR_LIST *reply = attr_list_alloc();
    VSTRING *hex = vstring_alloc(2 * TLS_TICKET_NAMELEN);
    unsigned char keybuf[TLS_TICKET_MACLEN + TLS_TICKET_KEYLEN];
    long    expiry;
    int     status;

    if (name != NULL)
        hex_encode(hex, name, TLS_TICKET_NAMELEN);
    attr_add(req, TLS_MGR_ATTR_KEYNAME, STR(hex));
    if ((status = tls_mgr_call(req, reply)) == TLS_MGR_STAT_OK) {
        if (tls_mgr_hex_exact(reply, TLS_MGR_ATTR_KEYNAME, key->name, sizeof(key->name)) < 0
            || tls_mgr_hex_exact(reply, TLS_MGR_ATTR_KEYBUF, keybuf, sizeof(keybuf)) < 0
            || attr_get_long(reply, TLS_MGR_ATTR_EXPIRY, &expiry) < 0
            || (name != NULL && memcmp(name, key->name, TLS_TICKET_NAMELEN) != 0)) {
            msg_warn("malformed ticket key in reply from service %s", tls_mgr_conn.path);
            status = TLS_MGR_STAT_FAIL;
        } else {
            memcpy(key->hmac, keybuf, TLS_TICKET_MACLEN);
            memcpy(key->key, keybuf + TLS_TICKET_MACLEN, TLS_TICKET_KEYLEN);
            key->expiry = (time_t) expiry;
        }
    }
    OPENSSL_cleanse(keybuf, sizeof(keybuf));
    vstring_free(hex);
    attr_list_free(req);
    attr_list_free(reply);
    return status;
}
