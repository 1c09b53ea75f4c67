/*
 * verify_service.c - the verify protocol (mail_proto.h "verify").
 *
 * Interface (verify.h): verify_service_init() once after the privilege
 * drop; verify_greet() for each new client (on_accept); verify_service()
 * for each request (multi-server fn); verify_handle() is the request ->
 * reply core (also the fuzz target's entry).
 *
 * query: look the address up in the cache, answer per verify_cache.c,
 * and queue a probe when one is due (recording its time, so concurrent
 * queries do not each send one). update: store a probe's result, unless
 * it is a failure that would replace a positive result that has not
 * expired. With address_verify_negative_cache = no a negative result is
 * answered once and then forgotten, so the next query probes again.
 *
 * SECURITY: clients are local daemons on a private socket, still treated
 * as untrusted: attr_read() bounds the list; the request must be known,
 * the address 1..VERIFY_ADDR_MAX bytes without control characters, the
 * status one of the result values and the reason at most VERIFY_TEXT_MAX
 * bytes, else the reply is status -1. The cache can be filled with
 * garbage by whoever can make smtpd ask (as Postfix's): the expiry
 * times bound how long it stays.
 *
 * DIAGNOSTICS: warnings only: a malformed request, a cache that cannot
 * be read or written.
 */
#include <string.h>
#include <time.h>

#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "verify.h"

static DICT *verify_cache;
static VERIFY_PARAMS verify_params;
static const char *verify_sender;

void
verify_service_init(DICT *cache, const VERIFY_PARAMS *p, const char *sender)
{
    verify_cache = cache;
    verify_params = *p;
    verify_sender = sender;
}

int
verify_greet(STREAM *client)
{
    return attr_send_protocol(client, PROTO_VERIFY) < 0 ? -1 : 0;
}

static int
verify_addr_ok(const char *addr)
{
    size_t  len = addr ? strlen(addr) : 0;

    if (len == 0 || len > VERIFY_ADDR_MAX)
        return 0;
    for (const unsigned char *cp = (const unsigned char *) addr; *cp; cp++)
        if (*cp < 0x20 || *cp == 0x7f)
            return 0;
    return 1;
}

/* The cached entry; 1 found (parsed into e, text copied to buf), 0 none. */
static int
verify_lookup(const char *addr, VERIFY_ENTRY *e, VSTRING *buf)
{
    const char *value;
    int     st;

    if (verify_cache == NULL)
        return 0;
    if ((st = dict_get(verify_cache, addr, &value)) == MAP_FAIL)
        msg_warn("%s: lookup of %s failed: %s", dict_spec(verify_cache), addr,
                 dict_error(verify_cache));
    if (st != MAP_FOUND)
        return 0;
    vstring_strcpy(buf, value);
    if (verify_entry_parse(STR(buf), e) < 0) {
        msg_warn("%s: bad cache entry for %s", dict_spec(verify_cache), addr);
        return 0;
    }
    return 1;
}

static void
verify_store(const char *addr, const VERIFY_ENTRY *e)
{
    VSTRING *value = vstring_alloc(256);

    if (verify_cache == NULL)
        return;
    verify_entry_format(value, e);
    if (dict_put(verify_cache, addr, STR(value)) < 0)
        msg_warn("%s: cannot update entry for %s: %s", dict_spec(verify_cache), addr,
                 dict_error(verify_cache));
    vstring_free(value);
}

static void
verify_query(const char *addr, ATTR_LIST *reply, time_t now)
{
    VSTRING *buf = vstring_alloc(256);
    VERIFY_ENTRY e, answer;
    int     found = verify_lookup(addr, &e, buf);

    if (verify_query_decide(&verify_params, found, &e, now, &answer)
        && verify_probe_send(verify_sender, addr) == 0) {
        answer.probed = now;
        verify_store(addr, &answer);
    } else if (found && answer.status != VERIFY_ADDR_OK && answer.status != VERIFY_ADDR_TODO
               && !verify_params.neg_cache && verify_cache) {
        (void) dict_del(verify_cache, addr);        /* answered once: forget it */
    }
    attr_add_long(reply, ATTR_STATUS, VERIFY_STAT_OK);
    attr_add_long(reply, ATTR_ADDR_STATUS, answer.status);
    attr_add(reply, ATTR_REASON, answer.text);
    vstring_free(buf);
}

static void
verify_update(const char *addr, int status, const char *text, ATTR_LIST *reply, time_t now)
{
    VSTRING *buf = vstring_alloc(256);
    VERIFY_ENTRY old, e;
    int     found = verify_lookup(addr, &old, buf);

    if (verify_update_ok(&verify_params, found, &old, status, now)) {
        e.status = status;
        e.probed = 0;
        e.updated = now;
        e.text = text;
        verify_store(addr, &e);
    }
    attr_add_long(reply, ATTR_STATUS, VERIFY_STAT_OK);
    vstring_free(buf);
}

void
verify_handle(const ATTR_LIST *req, ATTR_LIST *reply, time_t now)
{
    const char *request = attr_get(req, ATTR_REQUEST);
    const char *addr = attr_get(req, ATTR_ADDRESS);
    const char *text = attr_get(req, ATTR_REASON);
    long    status;

    attr_list_reset(reply);
    if (request && strcmp(request, VERIFY_REQ_QUERY) == 0 && verify_addr_ok(addr)) {
        verify_query(addr, reply, now);
    } else if (request && strcmp(request, VERIFY_REQ_UPDATE) == 0 && verify_addr_ok(addr)
               && attr_get_long(req, ATTR_ADDR_STATUS, &status) == 0
               && status >= VERIFY_ADDR_OK && status <= VERIFY_ADDR_BOUNCE
               && text && strlen(text) <= VERIFY_TEXT_MAX) {
        verify_update(addr, (int) status, text, reply, now);
    } else {
        msg_warn("malformed request%s%s", request ? ": " : "", request ? request : "");
        attr_add_long(reply, ATTR_STATUS, VERIFY_STAT_FAIL);
    }
}

int
verify_service(STREAM *client)
{
    ATTR_LIST *req = attr_list_alloc();
    ATTR_LIST *reply = attr_list_alloc();
    int     ret = -1;

    if (attr_read(client, req) == 1) {
        verify_handle(req, reply, time(NULL));
        ret = attr_write(client, reply) < 0 ? -1 : 0;
    }
    attr_list_free(req);
    attr_list_free(reply);
    return ret;
}
