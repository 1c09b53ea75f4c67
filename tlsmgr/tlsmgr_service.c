/*
 * tlsmgr_service.c - the tlsmgr protocol: one request, one reply.
 *
 * Interface: tlsmgr.h. tlsmgr_greet() sends {protocol=tlsmgr} to each new
 * client (on_accept); tlsmgr_service() reads one request and answers it
 * (multi-server fn); tlsmgr_request() is the decision, without I/O, so
 * that the fuzz harness (tests/fuzz/fuzz_tlsmgr_request.c) drives it.
 * Requests and replies are in lib/tls/tls_mgr.h.
 *
 * master's wakeup ('W' every 1000 seconds, "1000?" in master.cf) arrives
 * as a connection that sends one byte and closes: it is closed quietly.
 *
 * SECURITY: the socket is private (mail_owner), yet each request is
 * checked: attr_read() bounds the list; cache_type must be one of
 * smtpd, smtp, lmtp; cache_id 1..TLS_MGR_ID_MAX printable bytes; session
 * hexadecimal of at most TLS_MGR_SESSION_MAX bytes; keyname empty or
 * exactly TLS_TICKET_NAMELEN bytes of hexadecimal. Anything else is
 * answered with status -1 and a warning, never a crash.
 *
 * DIAGNOSTICS: "bad request: ..." and "unknown request ..." warnings.
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "attr.h"
#include "mem.h"
#include "msg.h"
#include "tlsmgr.h"
#include "vstring.h"

int
tlsmgr_greet(STREAM *client)
{
    return attr_send_protocol(client, TLS_MGR_PROTOCOL);
}

/* The cache a request names, or NULL after a warning. */
static TLSMGR_CACHE *
tlsmgr_req_cache(const ATTR_LIST *req, int with_id)
{
    const char *type = attr_get(req, TLS_MGR_ATTR_TYPE);
    const char *id = attr_get(req, TLS_MGR_ATTR_ID);
    TLSMGR_CACHE *cache;

    if (type == NULL || (cache = tlsmgr_cache_find(type)) == NULL) {
        msg_warn("bad request: missing or unknown %s", TLS_MGR_ATTR_TYPE);
        return NULL;
    }
    if (with_id && (id == NULL || !tls_mgr_valid_id(id))) {
        msg_warn("bad request: missing or malformed %s", TLS_MGR_ATTR_ID);
        return NULL;
    }
    return cache;
}

static int
tlsmgr_req_update(const ATTR_LIST *req, TLSMGR_CACHE *cache, time_t now)
{
    const char *hex = attr_get(req, TLS_MGR_ATTR_SESSION);

    if (hex == NULL || !tls_mgr_valid_hex(hex, TLS_MGR_SESSION_MAX)) {
        msg_warn("bad request: missing or malformed %s", TLS_MGR_ATTR_SESSION);
        return TLS_MGR_STAT_ERR;
    }
    return tlsmgr_cache_update(cache, attr_get(req, TLS_MGR_ATTR_ID), hex, now) == 0
        ? TLS_MGR_STAT_OK : TLS_MGR_STAT_FAIL;
}

static int
tlsmgr_req_key(const char *request, const ATTR_LIST *req, ATTR_LIST *reply, time_t now)
{
    const char *hex = attr_get(req, TLS_MGR_ATTR_KEYNAME);
    VSTRING *name = vstring_alloc(TLS_TICKET_NAMELEN);
    VSTRING *out = vstring_alloc(2 * (TLS_TICKET_MACLEN + TLS_TICKET_KEYLEN));
    const TLS_TICKET_KEY *key = NULL;
    int     status = TLS_MGR_STAT_FAIL;

    if (hex == NULL || (*hex != 0 && (strlen(hex) != 2 * TLS_TICKET_NAMELEN
                                      || hex_decode(name, hex) < 0))) {
        msg_warn("bad request: missing or malformed %s", TLS_MGR_ATTR_KEYNAME);
        status = TLS_MGR_STAT_ERR;
    } else if ((key = tlsmgr_key_get(*hex ? (unsigned char *) STR(name) : NULL, now)) != NULL) {
        hex_encode(out, key->name, sizeof(key->name));
        attr_add(reply, TLS_MGR_ATTR_KEYNAME, STR(out));
        vstring_reset(out);
        hex_encode(out, key->hmac, sizeof(key->hmac));
        hex_encode(out, key->key, sizeof(key->key));
        attr_add(reply, TLS_MGR_ATTR_KEYBUF, STR(out));
        attr_add_long(reply, TLS_MGR_ATTR_EXPIRY, (long) key->expiry);
        OPENSSL_cleanse(STR(out), LEN(out));
        status = TLS_MGR_STAT_OK;
    }
    vstring_free(name);
    vstring_free(out);
    return status;
}

/* One request on a cache; TLS_MGR_STAT_*. */
static int
tlsmgr_req_cache_op(const char *request, const ATTR_LIST *req, ATTR_LIST *reply, time_t now)
{
    int     policy = strcmp(request, TLS_MGR_REQ_POLICY) == 0;
    TLSMGR_CACHE *cache = tlsmgr_req_cache(req, !policy);
    const char *hex;

    if (cache == NULL)
        return TLS_MGR_STAT_ERR;
    if (policy) {
        attr_add_long(reply, TLS_MGR_ATTR_CACHABLE, cache->dict != NULL);
        return TLS_MGR_STAT_OK;
    }
    if (strcmp(request, TLS_MGR_REQ_LOOKUP) == 0) {
        if (tlsmgr_cache_lookup(cache, attr_get(req, TLS_MGR_ATTR_ID), now, &hex) != MAP_FOUND)
            return TLS_MGR_STAT_FAIL;
        attr_add(reply, TLS_MGR_ATTR_SESSION, hex);
        return TLS_MGR_STAT_OK;
    }
    if (strcmp(request, TLS_MGR_REQ_UPDATE) == 0)
        return tlsmgr_req_update(req, cache, now);
    (void) tlsmgr_cache_delete(cache, attr_get(req, TLS_MGR_ATTR_ID));
    return TLS_MGR_STAT_OK;
}

typedef int (*TLSMGR_REQ_FN)(const char *, const ATTR_LIST *, ATTR_LIST *, time_t);

static const struct {
    const char *name;
    TLSMGR_REQ_FN fn;
} tlsmgr_requests[] = {
    {TLS_MGR_REQ_POLICY, tlsmgr_req_cache_op},
    {TLS_MGR_REQ_LOOKUP, tlsmgr_req_cache_op},
    {TLS_MGR_REQ_UPDATE, tlsmgr_req_cache_op},
    {TLS_MGR_REQ_DELETE, tlsmgr_req_cache_op},
    {TLS_MGR_REQ_TKTKEY, tlsmgr_req_key},
};

/* Each handler adds its reply attributes only when it answers OK. */
void
tlsmgr_request(const ATTR_LIST *req, ATTR_LIST *reply, time_t now)
{
    const char *request = attr_get(req, TLS_MGR_ATTR_REQ);
    size_t  n = sizeof(tlsmgr_requests) / sizeof(tlsmgr_requests[0]), i;
    int     status = TLS_MGR_STAT_ERR;

    attr_list_reset(reply);
    for (i = 0; request != NULL && i < n; i++) {
        if (strcmp(request, tlsmgr_requests[i].name) == 0) {
            status = tlsmgr_requests[i].fn(request, req, reply, now);
            break;
        }
    }
    if (request == NULL)
        msg_warn("bad request: no %s attribute", TLS_MGR_ATTR_REQ);
    else if (i == n)
        msg_warn("unknown request: \"%.100s\"", request);
    attr_add_long(reply, TLS_MGR_ATTR_STATUS, status);
}

int
tlsmgr_service(STREAM *client)
{
    static ATTR_LIST *req, *reply;
    int     ch, ret;

    if (req == NULL) {
        req = attr_list_alloc();
        reply = attr_list_alloc();
    }
    /* master's wakeup: one 'W'; no attribute name starts with it */
    if ((ch = stream_getc(client)) == 'W' || ch == STREAM_EOF)
        return -1;
    (void) stream_ungetc(client, ch);
    if ((ret = attr_read(client, req)) <= 0) {
        if (ret < 0)
            msg_warn("malformed request from a client: closing the connection");
        return -1;
    }
    tlsmgr_request(req, reply, time(NULL));
    ret = attr_write(client, reply);
    attr_list_reset(reply);
    return ret < 0 ? -1 : 0;
}
