/*
 * smtp_service.c - one delivery request of the SMTP/LMTP client.
 *
 * Interface (smtp.h): smtp_service(client) serves one request from qmgr
 * through deliver_request_serve() (read, smtp_deliver(), reply).
 * smtp_deliver(req) does the delivery: for each next hop in req->nexthop
 * (a relayhost may list several, separated by commas or spaces) it looks
 * up the server addresses (smtp_dns.c), connects to each in turn
 * (smtp_mx_address_limit addresses, smtp_mx_session_limit sessions) and
 * runs a session (smtp_proto.c). A connection failure, or a 4xx greeting
 * or EHLO reply, moves on to the next address; once a server took part
 * in a mail transaction its answers are final. When every next hop
 * failed that way (or was not found in the DNS), the next hops of
 * smtp_fallback_relay (lmtp_fallback_relay; its default $fallback_relay
 * is the old name) are tried the same way, unless this host is an MX
 * for the destination (no mail loops between MX and fallback hosts);
 * "relay=" then names the fallback server. Every recipient left
 * without a result gets the last failure ("connect to host[addr]:25:
 * Connection refused", "Host or domain name not found. ...").
 *
 * smtp_rcpt_result() logs each result through deliver_result() (the
 * "to=<>, relay=, delay=, delays=, dsn=, status=" line) exactly once per
 * recipient, turning bounces into deferrals under soft_bounce = yes.
 *
 * TLS: the policy of each next hop (smtp_tls_policy()) is looked up
 * before its addresses; when opportunistic TLS fails in the handshake
 * (SMTP_SESS_PLAIN) the same address is tried once more without TLS.
 * Under dane / dane-only each address's host gets its own level from
 * its TLSA records (smtp_dane.c) just before the connection.
 *
 * Connection reuse across requests: a request first tries a session that
 * an smtp process (this one or another) left in the scache daemon for
 * the same transport and nexthop (smtp_cache.c), then, for each address
 * found, one left for that address and port; when there is none, or its
 * RSET probe fails (closed silently), it connects anew.
 *
 * SECURITY: the request is checked by deliver_request_read(); next hops
 * by smtp_nexthop_parse(); server replies by smtp_reply_read().
 *
 * DIAGNOSTICS: none fatal; a next hop that does not parse is a warning
 * with the queue id and defers the recipients; every other failure is a
 * recipient result.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "argv.h"
#include "mem.h"
#include "msg.h"
#include "smtp.h"
#include "smtp_cache.h"

int
smtp_code_status(int code)
{
    switch (code / 100) {
    case 2:
        return DELIVER_SENT;
    case 5:
        return DELIVER_BOUNCE;
    default:
        return DELIVER_DEFER;
    }
}

void
smtp_rcpt_result(SMTP_STATE *st, int i, int status, const char *dsn,
                 const char *relay, double conn_time, double xfer_time,
                 const char *fmt, ...)
{
    VSTRING *text;
    char    d[16];
    va_list ap;

    if (i < 0 || i >= st->req->rcpt_count || st->rcpt_done[i])
        return;
    snprintf(d, sizeof(d), "%s", (dsn && *dsn) ? dsn : "4.0.0");
    if (status == DELIVER_BOUNCE && smtp_params.soft_bounce)
        status = DELIVER_DEFER;
    d[0] = status == DELIVER_SENT ? '2' : status == DELIVER_BOUNCE ? '5' : '4';
    text = vstring_alloc(4000);
    va_start(ap, fmt);
    vstring_vsprintf_append(text, fmt, ap);
    va_end(ap);
    deliver_result(st->req, i, status, d, relay, conn_time < 0 ? 0 : conn_time,
                   xfer_time < 0 ? 0 : xfer_time, "%s", STR(text));
    vstring_free(text);
    st->rcpt_done[i] = 1;
    st->done_count++;
}

/* Set up the session texts, run it, close. Returns SMTP_SESS_*. */
static int
smtp_run_fd(SMTP_STATE *st, int fd, const char *namaddr, const char *relay,
            SMTP_WHY *why, double *conn_done)
{
    SMTP_SESSION sess;
    int     ret;

    memset(&sess, 0, sizeof(sess));
    snprintf(sess.namaddr, sizeof(sess.namaddr), "%s", namaddr);
    snprintf(sess.relay, sizeof(sess.relay), "%s", relay);
    sess.fp = stream_fdopen(fd);
    sess.reply = smtp_reply_alloc();
    ret = smtp_session_run(st, &sess, why);
    *conn_done = sess.conn_done;
    tls_sess_stop(sess.tls);        /* the cache keeps no TLS session */
    if (sess.fp)                    /* NULL: kept in the connection cache */
        (void) stream_close(sess.fp);
    smtp_reply_free(sess.reply);
    return ret;
}

/* The session cached for this destination (relay NULL) or endpoint, if any
 * and usable: SMTP_SESS_*, SMTP_SESS_RETRY when there is none (why
 * untouched). */
static int
smtp_try_cached(SMTP_STATE *st, const char *relay, SMTP_WHY *why, double *conn_done)
{
    SMTP_SESSION sess;
    int     ret;

    memset(&sess, 0, sizeof(sess));
    if (relay == NULL ? !smtp_cache_take || !smtp_cache_take(st->req, &sess)
        : !smtp_cache_take_endp || !smtp_cache_take_endp(st, relay, &sess))
        return SMTP_SESS_RETRY;
    sess.reply = smtp_reply_alloc();
    ret = smtp_session_reuse(st, &sess, why);
    if (ret < 0)
        ret = SMTP_SESS_RETRY;      /* not usable: connect anew, log nothing */
    else
        *conn_done = sess.conn_done;
    if (sess.fp)
        (void) stream_close(sess.fp);
    smtp_reply_free(sess.reply);
    return ret;
}

static int
smtp_try_addr_tls(SMTP_STATE *st, const SMTP_ADDR *a, SMTP_WHY *why, double *conn_done)
{
    char    namaddr[sizeof(((SMTP_SESSION *) 0)->namaddr)];
    char    relay[sizeof(((SMTP_SESSION *) 0)->relay)];
    unsigned port;
    int     fd, ret;

    port = a->sa.ss_family == AF_INET ? ntohs(((const struct sockaddr_in *) &a->sa)->sin_port)
        : ntohs(((const struct sockaddr_in6 *) &a->sa)->sin6_port);
    snprintf(namaddr, sizeof(namaddr), "%s[%s]", a->host, a->addr);
    snprintf(relay, sizeof(relay), "%s:%u", namaddr, port);
    if ((ret = smtp_try_cached(st, relay, why, conn_done)) != SMTP_SESS_RETRY)
        return ret;
    for (;;) {
        if ((fd = smtp_connect_addr(a, smtp_params.connect_timeout)) < 0) {
            smtp_why_set(why, DELIVER_DEFER, "4.4.1", "connect to %s: %s", relay,
                         strerror(errno));
            snprintf(why->relay, sizeof(why->relay), "none");
            ret = SMTP_SESS_RETRY;
        } else if ((ret = smtp_run_fd(st, fd, namaddr, relay, why, conn_done)) == SMTP_SESS_PLAIN
                   && !st->tls_off) {
            st->tls_off = 1;        /* opportunistic TLS failed: once more in plain text */
            continue;
        }
        st->tls_off = 0;
        return ret == SMTP_SESS_PLAIN ? SMTP_SESS_RETRY : ret;
    }
}

/* One address, under the level DANE gives its host (smtp_dane.c) when
 * the next hop's level is dane or dane-only. */
static int
smtp_try_addr(SMTP_STATE *st, const SMTP_ADDR *a, SMTP_WHY *why, double *conn_done)
{
    SMTP_TLS_POLICY *conf = st->tls, eff;
    int     ret;

    if (conf == NULL || !SMTP_DANE_LEVEL(conf->level))
        return smtp_try_addr_tls(st, a, why, conn_done);
    if (smtp_dane_policy(st->dest, conf, a, &eff, why) < 0)
        return SMTP_SESS_RETRY;
    st->tls = &eff;
    ret = smtp_try_addr_tls(st, a, why, conn_done);
    st->tls = conf;
    smtp_dane_policy_free(&eff);
    return ret;
}

static int
smtp_try_unix(SMTP_STATE *st, const SMTP_NEXTHOP *nh, SMTP_WHY *why, double *conn_done)
{
    char    namaddr[sizeof(((SMTP_SESSION *) 0)->namaddr)];
    int     fd;

    snprintf(namaddr, sizeof(namaddr), "%s[%s]", smtp_params.myhostname, nh->path);
    if ((fd = smtp_connect_unix(nh->path, smtp_params.connect_timeout)) < 0) {
        smtp_why_set(why, DELIVER_DEFER, "4.4.1", "connect to %s: %s", namaddr, strerror(errno));
        snprintf(why->relay, sizeof(why->relay), "none");
        return SMTP_SESS_RETRY;
    }
    return smtp_run_fd(st, fd, namaddr, namaddr, why, conn_done);
}

/* One next hop; returns SMTP_SESS_*. *sessions counts connections made. */
static int
smtp_try_dest(SMTP_STATE *st, const char *dest, SMTP_WHY *why, int *sessions,
              double *conn_done)
{
    SMTP_NEXTHOP nh;
    SMTP_ADDR_LIST list;
    SMTP_TLS_POLICY policy;
    int     i, ret = SMTP_SESS_RETRY;

    st->dest = dest;
    if (smtp_nexthop_parse(dest, smtp_params.lmtp, smtp_params.default_port, &nh, why->text) < 0) {
        msg_warn("%s: %s", st->req->queue_id, STR(why->text));
        why->status = DELIVER_DEFER;
        snprintf(why->dsn, sizeof(why->dsn), "4.3.5");
        snprintf(why->relay, sizeof(why->relay), "none");
        return SMTP_SESS_RETRY;
    }
    if (nh.kind == SMTP_NEXTHOP_UNIX)
        return smtp_try_unix(st, &nh, why, conn_done);
    if (smtp_tls_policy(dest, &nh, &policy, why) < 0) {
        snprintf(why->relay, sizeof(why->relay), "none");
        return SMTP_SESS_RETRY;
    }
    st->tls = &policy;
    smtp_addr_list_init(&list);
    ret = smtp_dns_lookup(&nh, &list, why);
    if (list.self_mx)
        st->no_fallback = 1;
    if (ret == 0) {
        ret = SMTP_SESS_RETRY;
        for (i = 0; i < list.count; i++) {
            if (smtp_params.mx_session_limit > 0 && *sessions >= smtp_params.mx_session_limit)
                break;
            ret = smtp_try_addr(st, &list.addr[i], why, conn_done);
            if (strcmp(why->relay, "none") != 0 || ret != SMTP_SESS_RETRY)
                (*sessions)++;
            if (ret != SMTP_SESS_RETRY)
                break;
        }
    } else {
        snprintf(why->relay, sizeof(why->relay), "none");
        ret = why->status == DELIVER_BOUNCE ? SMTP_SESS_FINAL : SMTP_SESS_RETRY;
    }
    smtp_addr_list_free(&list);
    st->tls = NULL;
    smtp_tls_policy_free(&policy);
    return ret;
}

/* MAIL FROM and RCPT TO addresses with smtp_generic_maps applied (the
 * null sender stays); 0, or -1 when a table failed. */
static int
smtp_envelope_prepare(SMTP_STATE *st)
{
    DELIVER_REQUEST *req = st->req;
    VSTRING *out = vstring_alloc(ADDRESS_MAX + 1);
    int     ret = 0;

    st->rcpt = mem_array((size_t) req->rcpt_count, sizeof(char *));
    if (smtp_generic_addr(req->sender, out) < 0)
        ret = -1;
    st->sender = mem_strdup(STR(out));
    for (int i = 0; i < req->rcpt_count; i++) {
        if (smtp_generic_addr(req->rcpt[i].address, out) < 0)
            ret = -1;
        st->rcpt[i] = mem_strdup(STR(out));
    }
    vstring_free(out);
    return ret;
}

static void
smtp_envelope_free(SMTP_STATE *st)
{
    for (int i = 0; st->rcpt && i < st->req->rcpt_count; i++)
        mem_free(st->rcpt[i]);
    mem_free(st->rcpt);
    mem_free(st->sender);
}

void
smtp_deliver(DELIVER_REQUEST *req)
{
    SMTP_STATE st;
    SMTP_WHY why;
    ARGV   *dests, *fallback;
    const char *domain;
    double  conn_done = 0, now;
    int     sessions = 0, ret = SMTP_SESS_RETRY, i;
    size_t  d, primary;

    memset(&st, 0, sizeof(st));
    st.req = req;
    st.start = req->agent_time > 0 ? req->agent_time : deliver_now();
    st.rcpt_done = mem_array((size_t) req->rcpt_count, sizeof(int));
    smtp_why_init(&why);
    smtp_why_set(&why, DELIVER_DEFER, "4.3.0", "no next-hop destination");
    dests = argv_split(req->nexthop ? req->nexthop : "", ", \t\r\n");
    if (dests->argc == 0 && (domain = address_domain(req->rcpt[0].address)) != NULL && *domain)
        argv_add(dests, domain);
    st.dest = dests->argc ? dests->argv[0] : "";
    primary = dests->argc;
    fallback = argv_split(smtp_params.fallback_relay, ", \t\r\n");
    for (d = 0; d < fallback->argc; d++)
        argv_add(dests, fallback->argv[d]);
    argv_free(fallback);
    if (smtp_params.refusal != NULL) {  /* never deliver less protected */
        smtp_why_set(&why, DELIVER_DEFER, "4.3.5", "server configuration problem: %s",
                     smtp_params.refusal);
        argv_truncate(dests, 0);
    } else if (smtp_envelope_prepare(&st) < 0) {
        smtp_why_set(&why, DELIVER_DEFER, "4.3.0",
                     "mail system error: generic table lookup failure");
        argv_truncate(dests, 0);
    } else
        ret = smtp_try_cached(&st, NULL, &why, &conn_done);
    for (d = 0; d < dests->argc && ret == SMTP_SESS_RETRY; d++) {
        if (d >= primary && st.no_fallback)
            break;
        ret = smtp_try_dest(&st, dests->argv[d], &why, &sessions, &conn_done);
        if (ret == SMTP_SESS_FINAL && why.status == DELIVER_BOUNCE && d + 1 < dests->argc
            && strcmp(why.relay, "none") == 0)
            ret = SMTP_SESS_RETRY;      /* a lookup failure: try the next relay */
    }
    now = deliver_now();
    for (i = 0; i < req->rcpt_count; i++) {
        if (conn_done > 0)
            smtp_rcpt_result(&st, i, why.status, why.dsn, why.relay, conn_done - st.start,
                             now - conn_done, "%s", STR(why.text));
        else
            smtp_rcpt_result(&st, i, why.status, why.dsn, why.relay, now - st.start, 0,
                             "%s", STR(why.text));
    }
    argv_free(dests);
    smtp_why_free(&why);
    smtp_envelope_free(&st);
    mem_free(st.rcpt_done);
}

static void
smtp_serve_one(DELIVER_REQUEST *req, void *unused)
{
    smtp_deliver(req);
}

void
smtp_service(STREAM *client)
{
    deliver_request_serve(client, smtp_serve_one, NULL);
    if (smtp_cache_flush)
        smtp_cache_flush();
}
