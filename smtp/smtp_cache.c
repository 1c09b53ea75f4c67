/*
 * smtp_cache.c - the SMTP/LMTP client's side of the connection cache.
 *
 * Interface (smtp_cache.h): smtp_cache_take(req, sess) at the start of
 * each request, smtp_cache_take_endp(st, relay, sess) before connecting
 * to an address, smtp_cache_save(st, sess) after a good transaction,
 * smtp_cache_flush() when qmgr's connection ends.
 *
 * A saved session first stays in this process (one slot) while qmgr's
 * connection may bring the next request for the same destination; it
 * goes to scache when that connection ends (see cache_slot below).
 *
 * Idle sessions live in the scache(8) daemon (scache/, protocol:
 * mail_proto.h "scache"), so the next request for the same destination,
 * in any smtp process, reuses one. A saved session is stored under its
 * endpoint label "transport:[addr]:port:level" (level: the TLS policy
 * level it was made under, none or may, so that a destination with a
 * stricter policy never gets it) with its properties (features, SIZE
 * limit, when it was set up, how often it was used, the names for the
 * log, the level) and the destination label "transport:nexthop" is bound
 * to that endpoint; a request looks its destination label up, then, when
 * that misses, each address it found in DNS (smtp_cache_take_endp()).
 * The descriptor
 * travels over the socket to scache (SCM_RIGHTS, attr_send_fd()) and
 * back; this process's copy is closed after the hand-over.
 *
 * Which sessions are kept: caching is on when the request's nexthop is
 * in smtp_connection_cache_destinations, or with smtp_connection_cache_
 * on_demand = yes when qmgr's hint says the destination has a backlog
 * (DELIVER_CONN_STORE to keep a session, DELIVER_CONN_FETCH to look one
 * up: qmgr_sched.c). A session is not kept after its server said 421,
 * when it is a TLS session (Postfix caches those only with
 * smtp_tls_connection_reuse and tlsproxy, which posthorn does not have),
 * once it was used smtp_connection_reuse_count_limit times (0 = no
 * limit), or once it is smtp_connection_reuse_time_limit old. It is kept
 * for smtp_connection_cache_time_limit (scache caps this at
 * connection_cache_ttl_limit and closes it then). lmtp_* for LMTP.
 *
 * When scache cannot be reached (no "scache" line in master.cf) the
 * process warns once and caches nothing for the rest of its life.
 *
 * SECURITY: scache is a local daemon but its answers are checked: the
 * endpoint property must parse, with bounded names; a session that
 * does not work is caught by the RSET probe (smtp_proto.c) and closed.
 *
 * DIAGNOSTICS: none fatal; "cannot connect to the connection cache" once
 * per process; a malformed reply is a warning and the session is not
 * reused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "argv.h"
#include "attr_clnt.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "smtp_cache.h"

static ATTR_CLNT cache_conn = ATTR_CLNT_INIT(NULL, PROTO_SCACHE);
static char *cache_path;
static int cache_dead;              /* could not connect: stop trying */

/* Does caching apply to this request's destination? how: DELIVER_CONN_FETCH
 * (looking one up) or DELIVER_CONN_STORE (keeping this one). */
static int
cache_wanted(const DELIVER_REQUEST *req, int how)
{
    const char *list = smtp_params.cache_destinations;
    ARGV   *argv;
    int     found = 0;

    if (cache_dead || smtp_params.cache_time_limit <= 0)
        return 0;
    if (smtp_params.cache_on_demand && (req->flags & how))
        return 1;
    if (*list == 0 || req->nexthop == NULL)
        return 0;
    argv = argv_split(list, ", \t\r\n");
    for (size_t i = 0; i < argv->argc && !found; i++)
        found = strcasecmp(argv->argv[i], req->nexthop) == 0;
    argv_free(argv);
    return found;
}

static int
cache_timeout(void)
{
    return smtp_params.cache_timeout > 0 ? (int) smtp_params.cache_timeout : 5;
}

/* One request and its reply's status (-1 on any failure; the connection
 * is then closed). */
static long
cache_call(const ATTR_LIST *req, ATTR_LIST *reply)
{
    long    status;

    if (cache_path == NULL) {
        cache_path = mem_printf("%s/%s", MAIL_CLASS_PRIVATE, *smtp_params.cache_service
                                ? smtp_params.cache_service : SERVICE_SCACHE);
        cache_conn.path = cache_path;
    }
    if (cache_conn.stream == NULL && attr_clnt_open(&cache_conn, cache_timeout()) < 0) {
        msg_warn("cannot connect to the connection cache %s: %m", cache_path);
        cache_dead = 1;
        return -1;
    }
    if (attr_clnt_exchange(&cache_conn, req, reply) < 0
        || attr_get_long(reply, ATTR_STATUS, &status) < 0) {
        msg_warn("problem talking to service %s", cache_path);
        attr_clnt_close(&cache_conn);
        return -1;
    }
    return status;
}

static long
cache_wallclock(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (long) tv.tv_sec;
}

static char *
cache_dest_label(const DELIVER_REQUEST *req)
{
    return mem_printf("%s:%s", req->transport ? req->transport : "",
                      req->nexthop ? req->nexthop : "");
}

/* "transport:[addr]:port:level" for the relay "host[addr]:port[, ...]". */
static char *
cache_endp_label(const DELIVER_REQUEST *req, const char *relay, int level)
{
    const char *addr = strchr(relay, '[');

    addr = addr ? addr : relay;
    return mem_printf("%s:%.*s:%d", req->transport ? req->transport : "",
                      (int) strcspn(addr, ","), addr, level);
}

/* "features\tsize\tcreated\tuses\tnamaddr\trelay\tlevel" into sess; 0 or -1. */
static int
cache_prop_parse(const char *prop, SMTP_SESSION *sess)
{
    ARGV   *f = argv_split(prop, "\t");
    char   *end;
    int     ret = -1;

    if (f->argc == 7 && strlen(f->argv[4]) < sizeof(sess->namaddr)
        && strlen(f->argv[5]) < sizeof(sess->relay) - 24) {
        sess->features = (int) strtol(f->argv[0], &end, 10);
        ret = *end ? -1 : 0;
        sess->size_limit = strtol(f->argv[1], &end, 10);
        ret |= *end ? -1 : 0;
        sess->cache_created = strtol(f->argv[2], &end, 10);
        ret |= *end ? -1 : 0;
        sess->cache_uses = strtol(f->argv[3], &end, 10);
        ret |= (*end || sess->cache_uses < 1) ? -1 : 0;
        sess->cache_level = (int) strtol(f->argv[6], &end, 10);
        ret |= (*end || sess->cache_level < SMTP_TLS_NONE
                || sess->cache_level > SMTP_TLS_MAY) ? -1 : 0;
        snprintf(sess->namaddr, sizeof(sess->namaddr), "%s", f->argv[4]);
        snprintf(sess->relay, sizeof(sess->relay), "%s, conn_use=%ld", f->argv[5],
                 sess->cache_uses + 1);
    }
    argv_free(f);
    return ret;
}

/* A find_dest or find_endp request: 1 with the session in sess, or 0. */
static int
cache_find(const char *request, const char *label, SMTP_SESSION *sess)
{
    ATTR_LIST *rq = attr_list_alloc();
    ATTR_LIST *reply = attr_list_alloc();
    const char *prop;
    int     fd = -1;

    attr_add(rq, ATTR_REQUEST, request);
    attr_add(rq, ATTR_LABEL, label);
    if (cache_call(rq, reply) == SCACHE_STAT_OK) {
        prop = attr_get(reply, ATTR_ENDP_PROP);
        attr_list_reset(rq);
        attr_add_long(rq, ATTR_STATUS, SCACHE_STAT_OK);
        if (attr_write(cache_conn.stream, rq) < 0 || stream_buffered(cache_conn.stream) > 0
            || (fd = attr_recv_fd_wait(stream_fd(cache_conn.stream), cache_timeout())) < 0) {
            msg_warn("no connection received from service %s", cache_path);
            attr_clnt_close(&cache_conn);
        } else if (prop == NULL || cache_prop_parse(prop, sess) < 0) {
            msg_warn("malformed reply from service %s", cache_path);
            (void) close(fd);
            fd = -1;
        } else {
            sess->fp = stream_fdopen(fd);
        }
    }
    attr_list_free(rq);
    attr_list_free(reply);
    return fd >= 0;
}

static int cache_slot_take(const char *label, int by_endp, SMTP_SESSION *sess);

int
smtp_cache_take(const DELIVER_REQUEST *req, SMTP_SESSION *sess)
{
    char   *label;
    int     ret;

    if (!cache_wanted(req, DELIVER_CONN_FETCH)) {
        smtp_cache_flush();
        return 0;
    }
    label = cache_dest_label(req);
    ret = cache_slot_take(label, 0, sess) || cache_find(SCACHE_REQ_FIND_DEST, label, sess);
    mem_free(label);
    return ret;
}

int
smtp_cache_take_endp(const SMTP_STATE *st, const char *relay, SMTP_SESSION *sess)
{
    int     level = st->tls ? st->tls->level : SMTP_TLS_NONE;
    char   *label;
    int     ret;

    if (level > SMTP_TLS_MAY || !cache_wanted(st->req, DELIVER_CONN_FETCH)) {
        smtp_cache_flush();
        return 0;
    }
    label = cache_endp_label(st->req, relay, level);
    ret = cache_slot_take(label, 1, sess) || cache_find(SCACHE_REQ_FIND_ENDP, label, sess);
    mem_free(label);
    return ret;
}

/* The endpoint properties as scache keeps them (cache_prop_parse). */
static char *
cache_prop(const SMTP_SESSION *sess, long created, long uses, int level)
{
    const char *relay = sess->relay;
    const char *cp = strstr(relay, ", conn_use=");

    return mem_printf("%d\t%ld\t%ld\t%ld\t%s\t%.*s\t%d", sess->features,
                      sess->size_limit, created, uses, sess->namaddr,
                      (int) (cp ? (size_t) (cp - relay) : strlen(relay)), relay, level);
}

/* Hand the descriptor over under the endpoint label; 0 or -1. */
static int
cache_save_endp(const char *label, const char *prop, STREAM *fp)
{
    ATTR_LIST *rq = attr_list_alloc();
    ATTR_LIST *reply = attr_list_alloc();
    int     ret = -1;

    attr_add(rq, ATTR_REQUEST, SCACHE_REQ_SAVE_ENDP);
    attr_add_long(rq, ATTR_TTL, smtp_params.cache_time_limit);
    attr_add(rq, ATTR_LABEL, label);
    attr_add(rq, ATTR_PROPERTY, prop);
    if (cache_call(rq, reply) == SCACHE_STAT_OK) {
        if (stream_buffered(cache_conn.stream) == 0
            && attr_send_fd(stream_fd(cache_conn.stream), stream_fd(fp)) == 0)
            ret = 0;
        else
            attr_clnt_close(&cache_conn);
    }
    attr_list_free(rq);
    attr_list_free(reply);
    return ret;
}

static void
cache_save_dest(const char *label, const char *nexthop, const char *endp_label)
{
    ATTR_LIST *rq = attr_list_alloc();
    ATTR_LIST *reply = attr_list_alloc();

    attr_add(rq, ATTR_REQUEST, SCACHE_REQ_SAVE_DEST);
    attr_add_long(rq, ATTR_TTL, smtp_params.cache_time_limit);
    attr_add(rq, ATTR_LABEL, label);
    attr_add(rq, ATTR_PROPERTY, nexthop);
    attr_add(rq, ATTR_ENDP_LABEL, endp_label);
    (void) cache_call(rq, reply);
    attr_list_free(rq);
    attr_list_free(reply);
}

/*
 * The session of the request just delivered stays in this process while
 * qmgr's connection may bring the next request: a connection carries the
 * requests of one destination (qmgr_deliver.c), so the next one takes it
 * from here, without the round trips through scache. It goes to scache
 * when the connection ends (smtp_cache_flush()), or when a request for
 * another destination or endpoint, or one that must not use a cached
 * session, comes first.
 */
static struct {
    STREAM *fp;                 /* NULL: empty */
    char   *dest;               /* destination label */
    char   *nexthop;
    char   *endp;               /* endpoint label */
    char   *prop;               /* its properties (cache_prop) */
} cache_slot;

static void
cache_slot_clear(void)
{
    mem_free(cache_slot.dest);
    mem_free(cache_slot.nexthop);
    mem_free(cache_slot.endp);
    mem_free(cache_slot.prop);
    memset(&cache_slot, 0, sizeof(cache_slot));
}

void
smtp_cache_flush(void)
{
    if (cache_slot.fp == NULL)
        return;
    if (cache_save_endp(cache_slot.endp, cache_slot.prop, cache_slot.fp) == 0)
        cache_save_dest(cache_slot.dest, cache_slot.nexthop, cache_slot.endp);
    else                                /* not kept: end it politely (no wait
                                         * for the answer, as with
                                         * smtp_skip_quit_response) */
        (void) stream_puts(cache_slot.fp, "QUIT\r\n");
    (void) stream_close(cache_slot.fp);     /* scache has its own copy, or it ended */
    cache_slot_clear();
}

/* The kept session when its label (dest or endp) is label: 1 with it in sess. */
static int
cache_slot_take(const char *label, int by_endp, SMTP_SESSION *sess)
{
    if (cache_slot.fp == NULL)
        return 0;
    if (strcmp(by_endp ? cache_slot.endp : cache_slot.dest, label) != 0
        || cache_prop_parse(cache_slot.prop, sess) < 0) {
        smtp_cache_flush();
        return 0;
    }
    sess->fp = cache_slot.fp;
    cache_slot_clear();
    return 1;
}

int
smtp_cache_save(const SMTP_STATE *st, SMTP_SESSION *sess)
{
    const DELIVER_REQUEST *req = st->req;
    int     level = st->tls ? st->tls->level : SMTP_TLS_NONE;
    long    now = cache_wallclock();
    long    reuse_time = smtp_params.reuse_time_limit;
    long    count_limit = smtp_params.reuse_count_limit;
    long    created = now, uses = 1;
    if (sess->fp == NULL || sess->tls != NULL   /* smtp_tls_connection_reuse = no */
        || (sess->authenticated && smtp_sasl_sender_dependent())
        || (sess->reply && sess->reply->code == 421)
        || stream_error(sess->fp) || !cache_wanted(req, DELIVER_CONN_STORE))
        return 0;
    if (sess->cache_uses > 0) {     /* a reused session: keep its history */
        created = sess->cache_created;
        uses = sess->cache_uses + 1;
        level = sess->cache_level;
    } else if (sess->conn_done > 0) {
        created = (long) sess->conn_done;       /* wall clock, deliver_now() */
    }
    if ((count_limit > 0 && uses > count_limit) || (reuse_time > 0 && now - created >= reuse_time)
        || level > SMTP_TLS_MAY)
        return 0;
    smtp_cache_flush();
    cache_slot.fp = sess->fp;
    cache_slot.dest = cache_dest_label(req);
    cache_slot.nexthop = mem_strdup(req->nexthop ? req->nexthop : "");
    cache_slot.endp = cache_endp_label(req, sess->relay, level);
    cache_slot.prop = cache_prop(sess, created, uses, level);
    sess->fp = NULL;
    return 1;
}
