/*
 * trivial-rewrite_service.c - answer rewrite and resolve requests.
 *
 * Interface: rewrite_greet(client), the skeleton's on_accept hook, sends
 * the {protocol=rewrite} greeting to each new client; rewrite_service(client),
 * the multi_server callback, answers one request (mail_proto.h):
 *   {request=rewrite, rule=local|remote, address=A} -> {flags=0, address=A'}
 *   {request=resolve, sender=S, address=A}
 *       -> {flags=F, transport=T, nexthop=H, recipient=A'}
 *
 * SECURITY: clients are other posthorn processes and are not trusted. A
 * request must have exactly the attributes named above, a known request
 * and rule, and an address no longer than ADDRESS_MAX; anything else is
 * logged and the client is dropped.
 *
 * DIAGNOSTICS: none fatal; a bad, truncated or malformed request, or one
 * without a required attribute, is a warning and the client is dropped; an
 * unknown rewrite rule name is a warning and a failed request too.
 */
#include <string.h>

#include "address.h"
#include "attr.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "rewrite_clnt.h"
#include "trivial-rewrite.h"

/* on_accept: the server speaks first. */
int
rewrite_greet(STREAM *client)
{
    return attr_send_protocol(client, PROTO_REWRITE);
}

/* Validate the request's shape; returns the address or NULL. */
static const char *
rewrite_check(const ATTR_LIST *req, const char *other)
{
    const char *addr;

    if (req->count != 3 || attr_require(req, ATTR_REQUEST, other, ATTR_ADDRESS, (char *) 0))
        return NULL;
    addr = attr_get(req, ATTR_ADDRESS);
    if (strlen(addr) > ADDRESS_MAX || strlen(attr_get(req, other)) > ADDRESS_MAX)
        return NULL;
    return addr;
}

static int
rewrite_do_rewrite(STREAM *client, const ATTR_LIST *req, ATTR_LIST *rep)
{
    const char *addr = rewrite_check(req, ATTR_RULE);
    const char *rule;
    VSTRING *out;

    if (addr == NULL)
        return -1;
    rule = attr_get(req, ATTR_RULE);
    if (strcmp(rule, "local") != 0 && strcmp(rule, "remote") != 0) {
        msg_warn("unknown rewrite rule: %.100s", rule);
        return -1;
    }
    out = vstring_alloc(ADDRESS_MAX + 512);
    rewrite_addr(rule, addr, out);
    if (msg_verbose)
        msg_info("rewrite %s <%s> -> <%s>", rule, addr, STR(out));
    attr_add_long(rep, ATTR_FLAGS, 0);
    attr_add(rep, ATTR_ADDRESS, STR(out));
    vstring_free(out);
    return attr_write(client, rep);
}

static int
rewrite_do_resolve(STREAM *client, const ATTR_LIST *req, ATTR_LIST *rep)
{
    const char *addr = rewrite_check(req, ATTR_SENDER);
    RESOLVE_REPLY reply;

    if (addr == NULL)
        return -1;
    resolve_reply_init(&reply);
    resolve_addr(attr_get(req, ATTR_SENDER), addr, &reply);
    attr_add_long(rep, ATTR_FLAGS, reply.flags);
    attr_add(rep, ATTR_TRANSPORT, STR(reply.transport));
    attr_add(rep, ATTR_NEXTHOP, STR(reply.nexthop));
    attr_add(rep, ATTR_RECIPIENT, STR(reply.recipient));
    resolve_reply_free(&reply);
    return attr_write(client, rep);
}

/* One request; 0 = served, -1 = drop the client. */
static int
rewrite_one(STREAM *client, ATTR_LIST *req, ATTR_LIST *rep)
{
    const char *request;
    int     ret;

    attr_list_reset(rep);
    if ((ret = attr_read(client, req)) <= 0) {
        if (ret < 0)
            msg_warn("bad or truncated request from client; dropping it");
        return -1;
    }
    if ((request = attr_get(req, ATTR_REQUEST)) == NULL) {
        msg_warn("request without \"%s\" attribute; dropping client", ATTR_REQUEST);
        return -1;
    }
    if (strcmp(request, "rewrite") == 0)
        ret = rewrite_do_rewrite(client, req, rep);
    else if (strcmp(request, "resolve") == 0)
        ret = rewrite_do_resolve(client, req, rep);
    else
        ret = -1;
    if (ret < 0)
        msg_warn("malformed \"%.50s\" request from client; dropping it", request);
    return ret;
}

int
rewrite_service(STREAM *client)
{
    ATTR_LIST *req = attr_list_alloc();
    ATTR_LIST *rep = attr_list_alloc();
    int     ret;

    /* Serve the request that woke us, then any already in the buffer. */
    do {
        ret = rewrite_one(client, req, rep);
    } while (ret == 0 && stream_buffered(client) > 0);
    attr_list_free(req);
    attr_list_free(rep);
    return ret;                 /* -1: the skeleton closes the client */
}
