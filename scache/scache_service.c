/*
 * scache_service.c - the scache protocol (mail_proto.h "scache").
 *
 * Interface (scache.h): scache_service_init() once after the privilege
 * drop; scache_greet() for each new client (on_accept); scache_service()
 * for each request (multi-server fn); scache_handle() is the request ->
 * reply core (also the fuzz target's entry).
 *
 * save_endp: answer {status=0}, then receive the connection's descriptor
 * on the socket (within connection_cache_protocol_timeout) and store it.
 * find_endp/find_dest: answer {status=0, property...}, wait for the
 * client's {status=0}, then send the descriptor and close ours. Each step
 * waits for the other side, so neither stream has read ahead past a
 * descriptor's message. The requested ttl is capped at
 * connection_cache_ttl_limit.
 *
 * SECURITY: clients are local daemons on a private socket, still treated
 * as untrusted: attr_read() bounds the list; the request must be known,
 * labels 1..SCACHE_LABEL_MAX and properties 0..SCACHE_PROP_MAX bytes
 * without control characters other than tab, the ttl a positive number;
 * else the reply is status -1 and nothing is received. The store bounds
 * its size (scache_table.c). The descriptors are not looked at: scache
 * neither reads nor writes the cached connections.
 *
 * DIAGNOSTICS: warnings only: a malformed request, a descriptor that did
 * not arrive.
 */
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "mail_proto.h"
#include "msg.h"
#include "scache.h"

static long scache_ttl_limit = 2;
static long scache_proto_timeout = 5;

void
scache_service_init(long ttl_limit, long proto_timeout)
{
    scache_ttl_limit = ttl_limit;
    scache_proto_timeout = proto_timeout > 0 ? proto_timeout : 1;
}

int
scache_greet(STREAM *client)
{
    stream_set_timeout(client, (int) scache_proto_timeout);
    return attr_send_protocol(client, PROTO_SCACHE) < 0 ? -1 : 0;
}

/* A label or property: bounded, printable (tab allowed in properties). */
static int
scache_text_ok(const char *s, size_t min, size_t max)
{
    size_t  len = s ? strlen(s) : 0;

    if (s == NULL || len < min || len > max)
        return 0;
    for (const unsigned char *cp = (const unsigned char *) s; *cp; cp++)
        if ((*cp < 0x20 && *cp != '\t') || *cp == 0x7f)
            return 0;
    return 1;
}

#define LABEL_OK(s) scache_text_ok((s), 1, SCACHE_LABEL_MAX)
#define PROP_OK(s)  scache_text_ok((s), 0, SCACHE_PROP_MAX)

/* The request's ttl, capped; 0 when missing or not positive. */
static long
scache_ttl(const ATTR_LIST *req)
{
    long    ttl;

    if (attr_get_long(req, ATTR_TTL, &ttl) < 0 || ttl <= 0)
        return 0;
    return ttl > scache_ttl_limit ? scache_ttl_limit : ttl;
}

/* Did the request pass the checks for its kind? */
static int
scache_req_ok(const ATTR_LIST *req, const char *request)
{
    const char *label = attr_get(req, ATTR_LABEL);

    if (!LABEL_OK(label))
        return 0;
    if (strcmp(request, SCACHE_REQ_SAVE_ENDP) == 0)
        return PROP_OK(attr_get(req, ATTR_PROPERTY)) && scache_ttl(req) > 0;
    if (strcmp(request, SCACHE_REQ_SAVE_DEST) == 0)
        return PROP_OK(attr_get(req, ATTR_PROPERTY)) && scache_ttl(req) > 0
            && LABEL_OK(attr_get(req, ATTR_ENDP_LABEL));
    return strcmp(request, SCACHE_REQ_FIND_ENDP) == 0
        || strcmp(request, SCACHE_REQ_FIND_DEST) == 0;
}

void
scache_handle(const ATTR_LIST *req, ATTR_LIST *reply, double now, int *action, int *fd)
{
    const char *request = attr_get(req, ATTR_REQUEST);
    const char *label = attr_get(req, ATTR_LABEL);
    const char *dprop = "", *eprop = "";

    attr_list_reset(reply);
    *action = SCACHE_ACT_NONE;
    *fd = -1;
    if (request == NULL || !scache_req_ok(req, request)) {
        msg_warn("malformed request%s%.100s", request ? ": " : "", request ? request : "");
        attr_add_long(reply, ATTR_STATUS, SCACHE_STAT_FAIL);
    } else if (strcmp(request, SCACHE_REQ_SAVE_ENDP) == 0) {
        attr_add_long(reply, ATTR_STATUS, SCACHE_STAT_OK);
        *action = SCACHE_ACT_RECV;
    } else if (strcmp(request, SCACHE_REQ_SAVE_DEST) == 0) {
        scache_table_save_dest(label, attr_get(req, ATTR_PROPERTY),
                               attr_get(req, ATTR_ENDP_LABEL), scache_ttl(req), now);
        attr_add_long(reply, ATTR_STATUS, SCACHE_STAT_OK);
    } else {
        if (strcmp(request, SCACHE_REQ_FIND_ENDP) == 0)
            *fd = scache_table_find_endp(label, &eprop, now);
        else
            *fd = scache_table_find_dest(label, &dprop, &eprop, now);
        attr_add_long(reply, ATTR_STATUS, *fd >= 0 ? SCACHE_STAT_OK : SCACHE_STAT_FAIL);
        if (*fd >= 0) {
            attr_add(reply, ATTR_PROPERTY, dprop);
            attr_add(reply, ATTR_ENDP_PROP, eprop);
            *action = SCACHE_ACT_SEND;
        }
    }
}

void
scache_handle_fd(const ATTR_LIST *req, int fd, double now)
{
    scache_table_save_endp(attr_get(req, ATTR_LABEL), attr_get(req, ATTR_PROPERTY), fd,
                           scache_ttl(req), now);
}

/* After a find: the client's go-ahead, then the descriptor (ours closed). */
static int
scache_send(STREAM *client, ATTR_LIST *ack, int fd)
{
    long    st;
    int     ret = -1;

    if (attr_read(client, ack) == 1 && attr_get_long(ack, ATTR_STATUS, &st) == 0
        && st == SCACHE_STAT_OK && stream_buffered(client) == 0)
        ret = attr_send_fd(stream_fd(client), fd);
    (void) close(fd);
    return ret;
}

int
scache_service(STREAM *client)
{
    ATTR_LIST *req = attr_list_alloc();
    ATTR_LIST *reply = attr_list_alloc();
    int     ret = -1, action, fd;

    if (attr_read(client, req) == 1) {
        scache_handle(req, reply, event_now(), &action, &fd);
        ret = attr_write(client, reply) < 0 ? -1 : 0;
        if (ret < 0 && fd >= 0)
            (void) close(fd);
        else if (action == SCACHE_ACT_SEND)
            ret = scache_send(client, reply, fd);
        else if (action == SCACHE_ACT_RECV && stream_buffered(client) == 0
                 && (fd = attr_recv_fd_wait(stream_fd(client), (int) scache_proto_timeout)) >= 0)
            scache_handle_fd(req, fd, event_now());
        else if (action == SCACHE_ACT_RECV)
            ret = -1;
        if (ret < 0 && action != SCACHE_ACT_NONE)
            msg_warn("no descriptor exchanged with client for %s request",
                     attr_get(req, ATTR_REQUEST));
    }
    attr_list_free(req);
    attr_list_free(reply);
    return ret;
}
