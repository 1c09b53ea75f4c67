/*
 * deliver.c - the delivery request between qmgr and a delivery agent,
 * and the per-recipient "to=<...>, relay=..., status=..." log line.
 *
 * Interface: deliver.h. Wire sequence (mail_proto.h):
 *
 *   agent: {protocol=delivery}
 *   qmgr:  {queue_name, queue_id, offset, size, sender, ..., rcpt_count=N}
 *   qmgr:  N x {address, orig_rcpt, offset, dsn_notify, dsn_orcpt}
 *   agent: N x {status, dsn, reason}
 *
 * Agent side: deliver_request_read() greets, reads and checks the
 * request, opens the queue file read-only; deliver_read_content() walks
 * the content records; deliver_result() records and logs each result;
 * deliver_request_reply() answers.
 * qmgr side: deliver_request_write() and deliver_reply_read().
 *
 * SECURITY: both directions are untrusted input from another process.
 * The agent validates queue name and id before they become a path, opens
 * the file with O_NOFOLLOW, checks offsets against the file size and
 * bounds the recipient count (DELIVER_MAX_RCPT). qmgr checks each
 * reply's status and dsn syntax; attribute sizes are bounded by attr.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "attr.h"
#include "config.h"
#include "deliver.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "record.h"

#define DELIVER_REASON_MAX  2000    /* reason text sent to qmgr */

double
deliver_now(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

/* Parse a non-negative floating point time stamp; 0 when absent or bad. */
static double
deliver_get_time(const ATTR_LIST *list, const char *name)
{
    const char *v = attr_get(list, name);
    char   *end;
    double  d;

    if (v == NULL || *v == 0)
        return 0;
    errno = 0;
    d = strtod(v, &end);
    if (errno || *end || !isfinite(d) || d < 0)
        return 0;
    return d;
}

static char *
deliver_get_str(const ATTR_LIST *list, const char *name)
{
    const char *v = attr_get(list, name);

    return mem_strdup(v ? v : "");
}

static long
deliver_get_long(const ATTR_LIST *list, const char *name, long dflt)
{
    long    v;

    if (attr_get_long(list, name, &v) < 0)
        return dflt;
    return v;
}

void
deliver_request_free(DELIVER_REQUEST *req)
{
    int     i;

    if (req == NULL)
        return;
    for (i = 0; i < req->rcpt_count && req->rcpt; i++) {
        mem_free(req->rcpt[i].address);
        mem_free(req->rcpt[i].orig_rcpt);
        mem_free(req->rcpt[i].dsn_orcpt);
        mem_free(req->rcpt[i].reason);
    }
    mem_free(req->rcpt);
    mem_free(req->queue_name);
    mem_free(req->queue_id);
    mem_free(req->sender);
    mem_free(req->nexthop);
    mem_free(req->transport);
    mem_free(req->encoding);
    mem_free(req->dsn_envid);
    mem_free(req->client_name);
    mem_free(req->client_addr);
    if (req->fp)
        stream_close(req->fp);
    mem_free(req);
}

/* Fill the message part of req from the first list; -1 on bad values. */
static int
deliver_parse_message(DELIVER_REQUEST *req, const ATTR_LIST *list)
{
    const char *missing;
    long    count;

    missing = attr_require(list, ATTR_QUEUE_NAME, ATTR_QUEUE_ID, ATTR_OFFSET,
                           ATTR_SIZE, ATTR_SENDER, ATTR_RCPT_COUNT, (char *) 0);
    if (missing) {
        msg_warn("delivery request: missing attribute %s", missing);
        return -1;
    }
    req->queue_name = deliver_get_str(list, ATTR_QUEUE_NAME);
    req->queue_id = deliver_get_str(list, ATTR_QUEUE_ID);
    if (!queue_name_ok(req->queue_name) || !queue_id_ok(req->queue_id)) {
        msg_warn("delivery request: bad queue name or id");
        return -1;
    }
    req->offset = deliver_get_long(list, ATTR_OFFSET, -1);
    req->size = deliver_get_long(list, ATTR_SIZE, -1);
    count = deliver_get_long(list, ATTR_RCPT_COUNT, -1);
    if (req->offset <= 0 || req->size < 0 || count < 1 || count > DELIVER_MAX_RCPT) {
        msg_warn("%s: delivery request: bad offset, size or recipient count",
                 req->queue_id);
        return -1;
    }
    req->sender = deliver_get_str(list, ATTR_SENDER);
    req->nexthop = deliver_get_str(list, ATTR_NEXTHOP);
    req->transport = deliver_get_str(list, ATTR_TRANSPORT);
    req->encoding = deliver_get_str(list, ATTR_ENCODING);
    req->dsn_envid = deliver_get_str(list, ATTR_DSN_ENVID);
    req->client_name = deliver_get_str(list, ATTR_CLIENT_NAME);
    req->client_addr = deliver_get_str(list, ATTR_CLIENT_ADDR);
    req->dsn_ret = (int) deliver_get_long(list, ATTR_DSN_RET, 0);
    req->trace_flags = (int) deliver_get_long(list, ATTR_TRACE_FLAGS, 0) & DELIVER_TRACE_VERIFY;
    req->arrival_time = deliver_get_time(list, ATTR_ARRIVAL_TIME);
    req->active_time = deliver_get_time(list, ATTR_ACTIVE_TIME);
    req->rcpt = mem_array((size_t) count, sizeof(DELIVER_RCPT));
    req->rcpt_count = 0;
    return (int) count;
}

static int
deliver_parse_rcpt(DELIVER_REQUEST *req, const ATTR_LIST *list)
{
    DELIVER_RCPT *r = &req->rcpt[req->rcpt_count];

    if (attr_get(list, ATTR_ADDRESS) == NULL) {
        msg_warn("%s: delivery request: recipient without address", req->queue_id);
        return -1;
    }
    r->address = deliver_get_str(list, ATTR_ADDRESS);
    r->orig_rcpt = deliver_get_str(list, ATTR_ORIG_RCPT);
    r->dsn_orcpt = deliver_get_str(list, ATTR_DSN_ORCPT);
    r->offset = deliver_get_long(list, ATTR_OFFSET, 0);
    r->dsn_notify = (int) deliver_get_long(list, ATTR_DSN_NOTIFY, 0);
    r->status = -1;
    req->rcpt_count++;
    if (r->offset < 0) {
        msg_warn("%s: delivery request: bad recipient offset", req->queue_id);
        return -1;
    }
    return 0;
}

/* Open the queue file read-only and check the offsets against its size. */
static int
deliver_open_file(DELIVER_REQUEST *req)
{
    VSTRING *path = vstring_alloc(256);
    struct stat st;
    int     i;

    queue_path(path, req->queue_name, req->queue_id);
    req->fp = stream_open(STR(path), O_RDONLY | O_NOFOLLOW, 0);
    if (req->fp == NULL) {
        msg_warn("%s: open queue file %s: %s", req->queue_id, STR(path), strerror(errno));
        vstring_free(path);
        return -1;
    }
    vstring_free(path);
    if (fstat(stream_fd(req->fp), &st) < 0 || !S_ISREG(st.st_mode)) {
        msg_warn("%s: queue file is not a regular file", req->queue_id);
        return -1;
    }
    if (req->offset >= st.st_size) {
        msg_warn("%s: delivery request: content offset %ld beyond end of file",
                 req->queue_id, req->offset);
        return -1;
    }
    for (i = 0; i < req->rcpt_count; i++) {
        if (req->rcpt[i].offset >= st.st_size) {
            msg_warn("%s: delivery request: recipient offset beyond end of file",
                     req->queue_id);
            return -1;
        }
    }
    return 0;
}

DELIVER_REQUEST *
deliver_request_read(STREAM *client)
{
    DELIVER_REQUEST *req = mem_alloc(sizeof(*req));
    ATTR_LIST *list = attr_list_alloc();
    int     count, i;

    if (attr_send_protocol(client, PROTO_DELIVERY) < 0) {
        msg_warn("delivery request: cannot send greeting");
        goto bad;
    }
    if (attr_read(client, list) != 1) {
        msg_warn("delivery request: cannot read request");
        goto bad;
    }
    if ((count = deliver_parse_message(req, list)) < 0)
        goto bad;
    for (i = 0; i < count; i++) {
        if (attr_read(client, list) != 1) {
            msg_warn("%s: delivery request: cannot read recipient", req->queue_id);
            goto bad;
        }
        if (deliver_parse_rcpt(req, list) < 0)
            goto bad;
    }
    if (deliver_open_file(req) < 0)
        goto bad;
    req->agent_time = deliver_now();
    attr_list_free(list);
    return req;

bad:
    attr_list_free(list);
    deliver_request_free(req);
    return NULL;
}

int
deliver_request_reply(STREAM *client, DELIVER_REQUEST *req)
{
    ATTR_LIST *list = attr_list_alloc();
    int     i, ret = 0;

    for (i = 0; i < req->rcpt_count && ret == 0; i++) {
        DELIVER_RCPT *r = &req->rcpt[i];

        attr_list_reset(list);
        if (r->status < 0) {
            attr_add_long(list, ATTR_STATUS, DELIVER_DEFER);
            attr_add(list, ATTR_DSN_STATUS, "4.3.0");
            attr_add(list, ATTR_REASON, "delivery was not attempted");
        } else {
            attr_add_long(list, ATTR_STATUS, r->status);
            attr_add(list, ATTR_DSN_STATUS, r->dsn);
            attr_add(list, ATTR_REASON, r->reason ? r->reason : "");
        }
        ret = attr_write(client, list);
    }
    attr_list_free(list);
    return ret;
}

/* ---- result logging ----------------------------------------------------- */

static const char *
deliver_status_word(int status)
{
    switch (status) {
    case DELIVER_SENT:
        return "sent";
    case DELIVER_BOUNCE:
        return "bounced";
    default:
        return "deferred";
    }
}

static int
deliver_rank(int status)
{
    return status == DELIVER_SENT ? 0 : status == DELIVER_BOUNCE ? 1 : 2;
}

static int
deliver_resolution(void)
{
    const char *v = config_lookup("delay_logging_resolution_limit");
    long    n;

    if (v == NULL || *v == 0)
        return 2;
    n = strtol(v, NULL, 10);
    return n < 0 ? 0 : n > 6 ? 6 : (int) n;
}

/* One delay value as Postfix prints it: whole seconds from 10s up, two
 * significant digits below that (truncated), at most "limit" digits after
 * the point, "0" for anything smaller. */
static void
deliver_format_one(VSTRING *out, double x, int limit)
{
    char    buf[64];
    int     digits, i;
    double  scale;
    char   *p;

    if (!isfinite(x) || x < 0)
        x = 0;
    if (x > 1e12)
        x = 1e12;
    if (x >= 10) {
        vstring_sprintf_append(out, "%lld", (long long) (x + 0.5));
        return;
    }
    if (x >= 1)
        digits = 1;
    else {
        for (digits = 2, scale = 0.1; digits < 8 && x < scale; digits++)
            scale /= 10;
    }
    if (digits > limit)
        digits = limit;
    for (scale = 1, i = 0; i < digits; i++)
        scale *= 10;
    x = (double) (long long) (x * scale + 1e-6) / scale;        /* truncate: below the limit is "0" */
    snprintf(buf, sizeof(buf), "%.*f", digits, x);
    if (strchr(buf, '.')) {
        for (p = buf + strlen(buf) - 1; *p == '0'; p--)
            *p = 0;
        if (*p == '.')
            *p = 0;
    }
    vstring_cat(out, buf);
}

void
deliver_format_delays(VSTRING *out, double arrival, double active,
                      double agent, double conn, double xfer, double now)
{
    int     limit = deliver_resolution();

    if (active < arrival)
        active = arrival;
    if (agent < active)
        agent = active;
    vstring_cat(out, "delay=");
    deliver_format_one(out, now - arrival, limit);
    vstring_cat(out, ", delays=");
    deliver_format_one(out, active - arrival, limit);
    vstring_cat(out, "/");
    deliver_format_one(out, agent - active, limit);
    vstring_cat(out, "/");
    deliver_format_one(out, conn, limit);
    vstring_cat(out, "/");
    deliver_format_one(out, xfer, limit);
}

static void
deliver_vresult(DELIVER_REQUEST *req, int i, const char *to, int status,
                const char *dsn, const char *relay, double conn_time,
                double xfer_time, const char *fmt, va_list ap)
{
    DELIVER_RCPT *r;
    VSTRING *text = vstring_alloc(DELIVER_REASON_MAX);
    const char *orig;

    if (i < 0 || i >= req->rcpt_count)
        msg_panic("deliver_result: recipient index %d out of range", i);
    r = &req->rcpt[i];
    if (status != DELIVER_SENT && status != DELIVER_BOUNCE)
        status = DELIVER_DEFER;
    vstring_vsprintf_append(text, fmt, ap);
    if (to == NULL) {
        to = r->address;
        orig = r->orig_rcpt;
    } else {
        orig = (r->orig_rcpt && *r->orig_rcpt) ? r->orig_rcpt : r->address;
    }
    deliver_log_status(req->queue_id, to, orig, relay, req->arrival_time, req->active_time,
                       req->agent_time, conn_time, xfer_time, dsn,
                       (req->trace_flags & DELIVER_TRACE_VERIFY) && status != DELIVER_DEFER
                       ? (status == DELIVER_SENT ? "deliverable" : "undeliverable")
                       : deliver_status_word(status), STR(text));

    if (r->status < 0 || deliver_rank(status) > deliver_rank(r->status)) {
        r->status = status;
        snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
        mem_free(r->reason);
        r->reason = vstring_export(text);
        text = NULL;
    }
    vstring_free(text);
}

void
deliver_log_status(const char *queue_id, const char *to, const char *orig,
                   const char *relay, double arrival, double active, double agent,
                   double conn, double xfer, const char *dsn, const char *status,
                   const char *text)
{
    VSTRING *line = vstring_alloc(MSG_LINE_MAX);

    vstring_sprintf(line, "%s: to=<%s>, ", queue_id, to);
    if (orig && *orig && strcasecmp(orig, to) != 0)
        vstring_sprintf_append(line, "orig_to=<%s>, ", orig);
    vstring_sprintf_append(line, "relay=%s, ", relay);
    deliver_format_delays(line, arrival, active, agent, conn, xfer, deliver_now());
    vstring_sprintf_append(line, ", dsn=%s, status=%s (%s)", dsn, status, text ? text : "");
    msg_info("%s", STR(line));
    vstring_free(line);
}

void
deliver_result(DELIVER_REQUEST *req, int i, int status, const char *dsn,
               const char *relay, double conn_time, double xfer_time,
               const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    deliver_vresult(req, i, NULL, status, dsn, relay, conn_time, xfer_time, fmt, ap);
    va_end(ap);
}

void
deliver_result_to(DELIVER_REQUEST *req, int i, const char *to, int status,
                  const char *dsn, const char *relay, double conn_time,
                  double xfer_time, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    deliver_vresult(req, i, to, status, dsn, relay, conn_time, xfer_time, fmt, ap);
    va_end(ap);
}

/* ---- qmgr side ---------------------------------------------------------- */

int
deliver_request_write(STREAM *agent, const DELIVER_REQUEST *req)
{
    ATTR_LIST *list;
    int     i, ret;

    if (attr_expect_protocol(agent, PROTO_DELIVERY) < 0)
        return -1;
    list = attr_list_alloc();
    attr_add(list, ATTR_QUEUE_NAME, req->queue_name);
    attr_add(list, ATTR_QUEUE_ID, req->queue_id);
    attr_add_long(list, ATTR_OFFSET, req->offset);
    attr_add_long(list, ATTR_SIZE, req->size);
    attr_add(list, ATTR_SENDER, req->sender);
    attr_add(list, ATTR_NEXTHOP, req->nexthop);
    attr_add(list, ATTR_TRANSPORT, req->transport);
    attr_addf(list, ATTR_ARRIVAL_TIME, "%.6f", req->arrival_time);
    attr_addf(list, ATTR_ACTIVE_TIME, "%.6f", req->active_time);
    attr_add(list, ATTR_ENCODING, req->encoding);
    attr_add(list, ATTR_DSN_ENVID, req->dsn_envid);
    attr_add_long(list, ATTR_DSN_RET, req->dsn_ret);
    if (req->trace_flags)
        attr_add_long(list, ATTR_TRACE_FLAGS, req->trace_flags);
    attr_add(list, ATTR_CLIENT_NAME, req->client_name);
    attr_add(list, ATTR_CLIENT_ADDR, req->client_addr);
    attr_add_long(list, ATTR_RCPT_COUNT, req->rcpt_count);
    ret = attr_write(agent, list);
    for (i = 0; i < req->rcpt_count && ret == 0; i++) {
        const DELIVER_RCPT *r = &req->rcpt[i];

        attr_list_reset(list);
        attr_add(list, ATTR_ADDRESS, r->address);
        attr_add(list, ATTR_ORIG_RCPT, r->orig_rcpt);
        attr_add_long(list, ATTR_OFFSET, r->offset);
        attr_add_long(list, ATTR_DSN_NOTIFY, r->dsn_notify);
        attr_add(list, ATTR_DSN_ORCPT, r->dsn_orcpt);
        ret = attr_write(agent, list);
    }
    attr_list_free(list);
    return ret;
}

size_t
deliver_dsn_scan(const char *text, char *dsn, size_t dsnlen)
{
    const char *p = text;
    int     part, n;

    if (*p != '2' && *p != '4' && *p != '5')
        return 0;
    p++;
    for (part = 0; part < 2; part++) {
        if (*p++ != '.')
            return 0;
        for (n = 0; *p >= '0' && *p <= '9'; p++)
            n++;
        if (n < 1 || n > 3)
            return 0;
    }
    if (*p != 0 && *p != ' ' && *p != '\t')
        return 0;
    if ((size_t) (p - text) >= dsnlen)
        return 0;
    memcpy(dsn, text, (size_t) (p - text));
    dsn[p - text] = 0;
    return (size_t) (p - text);
}

/* A whole "X.Y.Z" status that fits a DELIVER_RCPT. */
static int
deliver_dsn_ok(const char *dsn)
{
    char    buf[sizeof(((DELIVER_RCPT *) 0)->dsn)];
    size_t  n = deliver_dsn_scan(dsn, buf, sizeof(buf));

    return n > 0 && dsn[n] == 0;
}

int
deliver_reply_read(STREAM *agent, DELIVER_REQUEST *req)
{
    ATTR_LIST *list = attr_list_alloc();
    const char *dsn, *reason;
    long    status;
    int     i;

    for (i = 0; i < req->rcpt_count; i++) {
        DELIVER_RCPT *r = &req->rcpt[i];

        if (attr_read(agent, list) != 1
            || attr_get_long(list, ATTR_STATUS, &status) < 0
            || (dsn = attr_get(list, ATTR_DSN_STATUS)) == NULL) {
            msg_warn("%s: malformed or missing delivery agent reply", req->queue_id);
            attr_list_free(list);
            return -1;
        }
        if ((status != DELIVER_SENT && status != DELIVER_DEFER
             && status != DELIVER_BOUNCE) || !deliver_dsn_ok(dsn)) {
            msg_warn("%s: bad delivery agent reply status", req->queue_id);
            attr_list_free(list);
            return -1;
        }
        reason = attr_get(list, ATTR_REASON);
        r->status = (int) status;
        snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
        mem_free(r->reason);
        r->reason = mem_strndup(reason ? reason : "", DELIVER_REASON_MAX);
    }
    attr_list_free(list);
    return 0;
}

/* ---- content ------------------------------------------------------------ */

int
deliver_read_content(DELIVER_REQUEST *req, DELIVER_LINE_FN fn, void *ctx)
{
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    int     type, ret = -1;

    if (stream_seek(req->fp, req->offset) < 0) {
        msg_warn("%s: seek queue file: %s", req->queue_id, strerror(errno));
        vstring_free(buf);
        return -1;
    }
    for (;;) {
        type = rec_get(req->fp, buf, REC_MAX_DEFAULT);
        if (type == REC_TYPE_NORM || type == REC_TYPE_CONT) {
            int     r = fn(STR(buf), LEN(buf), type == REC_TYPE_NORM, ctx);

            if (r != 0) {
                ret = r;
                break;
            }
            continue;
        }
        if (type == REC_TYPE_XTRA)
            ret = 0;
        else
            msg_warn("%s: corrupt queue file: unexpected record type %d in content",
                     req->queue_id, type);
        break;
    }
    vstring_free(buf);
    return ret;
}
