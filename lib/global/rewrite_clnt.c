/*
 * rewrite_clnt.c - client of the trivial-rewrite service (private/rewrite).
 *
 * Interface (rewrite_clnt.h):
 *   rewrite_clnt(rule, addr, out)        {request=rewrite, rule, address}
 *   resolve_clnt(sender, addr, reply)    {request=resolve, sender, address}
 *
 * One connection is kept open per process. A request that fails (write
 * error, timeout, bad reply) closes it and is tried once more on a fresh
 * connection; a second failure returns -1 and the caller defers.
 *
 * The connection is an ATTR_CLNT (lib/util/attr_clnt.c): the first
 * request on a new connection is written before the server's
 * {protocol=rewrite} greeting is read, so the client works with servers
 * that greet on accept and with servers that greet when the first
 * request arrives.
 *
 * ipc_timeout (read once, on the first connection; a bad value is fatal
 * with its name and value) bounds the connect and every read and write.
 *
 * Each request type keeps its last REWRITE_CLNT_KEPT (8) answers for
 * REWRITE_CLNT_CACHE_TTL (30) seconds: a question asked again within
 * that time is answered without a round trip (smtpd resolving the same
 * recipient for session after session, qmgr for message after message,
 * cleanup rewriting a sender and a recipient for each message: Postfix's
 * clients keep one answer, which two alternating questions never reuse).
 * When all are taken, the least recently used answer makes room. A table
 * change in trivial-rewrite is therefore seen up to 30 seconds late by a
 * client that keeps asking the same questions, as in Postfix. An empty
 * address and a failed call are never kept.
 *
 * SECURITY: replies are checked strictly: every expected attribute must be
 * there and numeric, and the values are bounded by the output VSTRINGs.
 *
 * DIAGNOSTICS: a bad ipc_timeout is fatal (config_read_vars); an
 * unreachable trivial-rewrite ("connect to private/rewrite service"), a
 * failed exchange ("problem talking to service") or a malformed reply are
 * warnings and a failed call (the caller defers or tries again).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "attr.h"
#include "attr_clnt.h"
#include "config.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "rewrite_clnt.h"

#define REWRITE_CLNT_PATH  MAIL_CLASS_PRIVATE "/" SERVICE_REWRITE
#define REWRITE_CLNT_CACHE_TTL 30       /* seconds an answer is reused */
#define REWRITE_CLNT_KEPT 8             /* answers kept per request type */

/* One kept answer: key (rule or sender) + address. */
typedef struct REWRITE_CLNT_LAST {
    char   *key;
    char   *addr;
    time_t  expire;             /* 0 = empty */
    unsigned long used;         /* when last used (a counter), for LRU */
    char   *result[3];          /* rewrite: address; resolve: transport, nexthop, recipient */
    int     flags;
} REWRITE_CLNT_LAST;

static REWRITE_CLNT_LAST rewrite_last[REWRITE_CLNT_KEPT], resolve_last[REWRITE_CLNT_KEPT];
static unsigned long rewrite_clnt_clock;

/* The kept answer for key and addr, if it is still fresh. */
static const REWRITE_CLNT_LAST *
rewrite_clnt_cached(REWRITE_CLNT_LAST *kept, const char *key, const char *addr)
{
    time_t  now;

    if (*addr == 0)
        return NULL;
    now = time(NULL);
    for (REWRITE_CLNT_LAST *last = kept; last < kept + REWRITE_CLNT_KEPT; last++) {
        if (last->expire != 0 && now < last->expire
            && strcmp(last->addr, addr) == 0 && strcmp(last->key, key) == 0) {
            last->used = ++rewrite_clnt_clock;
            return last;
        }
    }
    return NULL;
}

/* Keep an answer (n results): in place of an older answer to the same
 * question, else of an empty or expired entry, else of the least
 * recently used one. */
static void
rewrite_clnt_keep(REWRITE_CLNT_LAST *kept, const char *key, const char *addr,
                  const char *const *result, int n, int flags)
{
    REWRITE_CLNT_LAST *last = kept;
    time_t  now;
    int     i;

    if (*addr == 0)
        return;
    now = time(NULL);
    for (REWRITE_CLNT_LAST *e = kept; e < kept + REWRITE_CLNT_KEPT; e++) {
        if (e->expire != 0 && strcmp(e->addr, addr) == 0 && strcmp(e->key, key) == 0) {
            last = e;
            break;
        }
        if (e->expire == 0 || now >= e->expire) {
            e->used = 0;                /* free: taken before any live one */
            last = e;
        } else if (e->used < last->used) {
            last = e;
        }
    }
    mem_free(last->key);
    mem_free(last->addr);
    for (i = 0; i < 3; i++) {
        mem_free(last->result[i]);
        last->result[i] = i < n ? mem_strdup(result[i]) : NULL;
    }
    last->key = mem_strdup(key);
    last->addr = mem_strdup(addr);
    last->flags = flags;
    last->expire = now + REWRITE_CLNT_CACHE_TTL;
    last->used = ++rewrite_clnt_clock;
}

static ATTR_CLNT rewrite_conn = ATTR_CLNT_INIT(REWRITE_CLNT_PATH, PROTO_REWRITE);

static long var_ipc_timeout;

static const CONFIG_VAR rewrite_clnt_vars[] = {
    CONFIG_VAR_TIME("ipc_timeout", &var_ipc_timeout),
    CONFIG_VAR_END,
};

/* ipc_timeout, read once (the table's minimum is 1), as the int streams take. */
static int
rewrite_clnt_timeout(void)
{
    static int read_done;

    if (!read_done) {
        config_read_vars(rewrite_clnt_vars);
        read_done = 1;
    }
    return var_ipc_timeout > 86400 ? 86400 : (int) var_ipc_timeout;
}

/* One request/reply exchange, with one retry on a new connection. */
static int
rewrite_clnt_call(const ATTR_LIST *request, ATTR_LIST *reply)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (rewrite_conn.stream == NULL
            && attr_clnt_open(&rewrite_conn, rewrite_clnt_timeout()) < 0) {
            msg_warn("connect to %s service: %m", REWRITE_CLNT_PATH);
            return -1;
        }
        if (attr_clnt_exchange(&rewrite_conn, request, reply) == 0)
            return 0;
    }
    msg_warn("problem talking to service %s", REWRITE_CLNT_PATH);
    return -1;
}

int
rewrite_clnt(const char *rule, const char *addr, VSTRING *out)
{
    const REWRITE_CLNT_LAST *hit = rewrite_clnt_cached(rewrite_last, rule, addr);
    ATTR_LIST *req;
    ATTR_LIST *rep;
    const char *value;
    long    flags;
    int     ret = -1;

    if (hit != NULL)
        return vstring_strcpy(out, hit->result[0]) == 0 ? 0 : -1;
    req = attr_list_alloc();
    rep = attr_list_alloc();
    attr_add(req, ATTR_REQUEST, "rewrite");
    attr_add(req, ATTR_RULE, rule);
    attr_add(req, ATTR_ADDRESS, addr);
    if (rewrite_clnt_call(req, rep) == 0) {
        if (attr_get_long(rep, ATTR_FLAGS, &flags) < 0
            || (value = attr_get(rep, ATTR_ADDRESS)) == NULL) {
            msg_warn("malformed reply from service %s", REWRITE_CLNT_PATH);
            attr_clnt_close(&rewrite_conn);
        } else if (vstring_strcpy(out, value) == 0) {
            rewrite_clnt_keep(rewrite_last, rule, addr, &value, 1, 0);
            ret = 0;
        }
    }
    attr_list_free(req);
    attr_list_free(rep);
    return ret;
}

/* transport, nexthop, recipient and flags into reply; 0 or -1 (too long). */
static int
resolve_clnt_copy(RESOLVE_REPLY *reply, const char *const *result, int flags)
{
    if (vstring_strcpy(reply->transport, result[0]) != 0
        || vstring_strcpy(reply->nexthop, result[1]) != 0
        || vstring_strcpy(reply->recipient, result[2]) != 0)
        return -1;
    reply->flags = flags;
    return 0;
}

int
resolve_clnt(const char *sender, const char *addr, RESOLVE_REPLY *reply)
{
    const char *from = sender ? sender : "";
    const REWRITE_CLNT_LAST *hit = rewrite_clnt_cached(resolve_last, from, addr);
    ATTR_LIST *req;
    ATTR_LIST *rep;
    const char *transport, *nexthop, *recipient;
    long    flags;
    int     ret = -1;

    if (hit != NULL)
        return resolve_clnt_copy(reply, (const char *const *) hit->result, hit->flags);
    req = attr_list_alloc();
    rep = attr_list_alloc();
    attr_add(req, ATTR_REQUEST, "resolve");
    attr_add(req, ATTR_SENDER, from);
    attr_add(req, ATTR_ADDRESS, addr);
    if (rewrite_clnt_call(req, rep) == 0) {
        if (attr_get_long(rep, ATTR_FLAGS, &flags) < 0
            || (transport = attr_get(rep, ATTR_TRANSPORT)) == NULL
            || (nexthop = attr_get(rep, ATTR_NEXTHOP)) == NULL
            || (recipient = attr_get(rep, ATTR_RECIPIENT)) == NULL) {
            msg_warn("malformed reply from service %s", REWRITE_CLNT_PATH);
            attr_clnt_close(&rewrite_conn);
        } else {
            const char *result[3] = {transport, nexthop, recipient};

            if ((ret = resolve_clnt_copy(reply, result, (int) flags)) == 0)
                rewrite_clnt_keep(resolve_last, from, addr, result, 3, (int) flags);
        }
    }
    attr_list_free(req);
    attr_list_free(rep);
    return ret;
}
