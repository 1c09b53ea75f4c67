/*
 * local_forward.c - forwarding to addresses that local does not deliver
 * itself (alias, .forward, :include: or luser_relay destinations in
 * another domain, or local ones that another transport handles).
 *
 * Interface (local.h):
 *   local_addr_resolve(st, addr)   1 = an address this agent delivers
 *       (resolves to class local with local_transport's transport),
 *       0 = someone else's, -1 = the rewrite service failed (defer).
 *   local_forward_append(st, a, target)  remember target, forwarded on
 *       behalf of the address a being expanded (a->address becomes the
 *       Delivered-To: of the new message). The message must not have
 *       been delivered to a->address before (Delivered-To loop check).
 *   local_forward_flush(st)  at the end of one queue recipient: one new
 *       message per distinct Delivered-To value, through public/cleanup,
 *       with the original envelope sender, arrival time, DSN envid/ret,
 *       the recipient's NOTIFY/ORCPT, the original recipient as ORCP, and
 *       the original content with "Delivered-To: a" prepended (when
 *       prepend_delivered_header has "forward"). Logs, for the queue
 *       recipient, "status=sent (forwarded as NEWID)", or defers it.
 *
 * SECURITY: this runs in the root parent, but only talks to cleanup (a
 * socket in the queue directory); it opens no user file. Targets are
 * bounded by LOCAL_MAX_TOKENS per expansion and LOCAL_FWD_MAX in all.
 *
 * DIAGNOSTICS: none fatal; too many forwarding destinations for one
 * recipient is a warning and the excess is dropped.
 */
#include <string.h>
#include <strings.h>

#include "cleanup_clnt.h"
#include "local.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "record.h"
#include "rewrite_clnt.h"

#define LOCAL_FWD_MAX   LOCAL_MAX_TOKENS

int
local_addr_resolve(LOCAL_STATE *st, const char *addr)
{
    RESOLVE_REPLY r;
    const char *spec = var_local_transport;
    size_t  n = strcspn(spec, ":");
    int     ret;

    resolve_reply_init(&r);
    if (resolve_clnt(st->req->sender, addr, &r) < 0 || (r.flags & RESOLVE_FLAG_FAIL))
        ret = -1;
    else
        ret = (r.flags & RESOLVE_CLASS_LOCAL) && LEN(r.transport) == n
            && strncmp(STR(r.transport), spec, n) == 0;
    resolve_reply_free(&r);
    return ret;
}

void
local_forward_append(LOCAL_STATE *st, const LOCAL_ADDR *a, const char *target)
{
    size_t  i;

    if (local_loop_check(st, a->address) || local_dup_check(st, "forward", target))
        return;
    for (i = 0; i < st->fwd_to->argc; i++)
        if (strcasecmp(st->fwd_to->argv[i], target) == 0)
            return;                             /* once per queue recipient */
    if (st->fwd_to->argc >= LOCAL_FWD_MAX) {
        msg_warn("%s: too many forwarding destinations for %s; %s dropped",
                 st->req->queue_id, st->req->rcpt[st->rcpt].address, target);
        return;
    }
    argv_add(st->fwd_to, target);
    argv_add(st->fwd_by, a->address);
}

typedef struct FWD_COPY {
    STREAM *cleanup;
} FWD_COPY;

static int
local_forward_line(const char *data, size_t len, int is_eol, void *ctx)
{
    FWD_COPY *f = ctx;

    return rec_put(f->cleanup, is_eol ? REC_TYPE_NORM : REC_TYPE_CONT, data, len) < 0 ? 1 : 0;
}

/* Envelope of the new message: the recipients forwarded by "by". */
static void
local_forward_envelope(LOCAL_STATE *st, STREAM *c, const char *by)
{
    DELIVER_REQUEST *req = st->req;
    const DELIVER_RCPT *r = &req->rcpt[st->rcpt];
    long    sec = (long) req->arrival_time;
    long    usec = (long) ((req->arrival_time - (double) sec) * 1e6);
    size_t  i;

    rec_printf(c, REC_TYPE_TIME, "%ld %ld", sec, usec < 0 || usec > 999999 ? 0 : usec);
    rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_LOG_IDENT, req->queue_id);
    rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_RWR_CONTEXT, "local");
    if (req->encoding && *req->encoding)
        rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_ENCODING, req->encoding);
    rec_puts(c, REC_TYPE_FROM, req->sender);
    for (i = 0; i < st->fwd_to->argc; i++) {
        if (strcmp(st->fwd_by->argv[i], by) != 0)
            continue;
        if (r->dsn_orcpt && *r->dsn_orcpt)
            rec_puts(c, REC_TYPE_DSN_ORCPT, r->dsn_orcpt);
        if (r->dsn_notify)
            rec_printf(c, REC_TYPE_DSN_NOTIFY, "%d", r->dsn_notify);
        rec_puts(c, REC_TYPE_ORCP, local_orig_rcpt(st));
        rec_puts(c, REC_TYPE_RCPT, st->fwd_to->argv[i]);
    }
    if (req->dsn_envid && *req->dsn_envid)
        rec_puts(c, REC_TYPE_DSN_ENVID, req->dsn_envid);
    if (req->dsn_ret)
        rec_printf(c, REC_TYPE_DSN_RET, "%d", req->dsn_ret);
}

/* One new message for the targets forwarded by "by"; logs the result. */
static void
local_forward_send(LOCAL_STATE *st, const char *by)
{
    VSTRING *id = vstring_alloc(64), *reason = vstring_alloc(LOCAL_REASON_MAX);
    FWD_COPY f;
    STREAM *c;
    int     status, ret;

    if (st->req->trace_flags & DELIVER_TRACE_VERIFY) {
        local_result(st, NULL, DELIVER_SENT, "2.0.0", "mail forwarding by %s", by);
        goto done;                      /* sendmail -bv: report only */
    }
    if ((c = cleanup_clnt_open(CLEANUP_FLAG_MAP_OK, id)) == NULL) {
        local_result(st, NULL, DELIVER_DEFER, "4.3.0", "mail forwarding failed: "
                     "cannot connect to the cleanup service");
        goto done;
    }
    local_forward_envelope(st, c, by);
    rec_put(c, REC_TYPE_MESG, "", 0);
    if (local_header_wanted("forward"))
        rec_printf(c, REC_TYPE_NORM, "Delivered-To: %s", by);
    f.cleanup = c;
    ret = deliver_read_content(st->req, local_forward_line, &f);
    if (ret < 0) {
        cleanup_clnt_abort(c);
        local_result(st, NULL, DELIVER_DEFER, "4.3.0", "queue file read error");
        goto done;
    }
    status = cleanup_clnt_finish(c, reason);
    if (status == 0) {
        for (size_t i = 0; i < st->fwd_to->argc; i++)
            if (strcmp(st->fwd_by->argv[i], by) == 0)
                local_dup_add(st, "forward", st->fwd_to->argv[i]);
        local_result(st, NULL, DELIVER_SENT, "2.0.0", "forwarded as %s", STR(id));
    } else if (!(status & (CLEANUP_STAT_BAD | CLEANUP_STAT_WRITE | CLEANUP_STAT_DEFER))) {
        local_result(st, NULL, DELIVER_BOUNCE, "5.3.0", "mail forwarding failed: %s",
                     LEN(reason) ? STR(reason) : "message rejected by cleanup");
    } else {
        local_result(st, NULL, DELIVER_DEFER, "4.3.0", "mail forwarding failed: %s",
                     LEN(reason) ? STR(reason) : "cleanup service error");
    }
done:
    vstring_free(id);
    vstring_free(reason);
}

void
local_forward_flush(LOCAL_STATE *st)
{
    ARGV   *done = argv_alloc();
    size_t  i, j;
    int     seen;

    for (i = 0; i < st->fwd_by->argc; i++) {
        for (seen = 0, j = 0; j < done->argc && !seen; j++)
            seen = strcmp(done->argv[j], st->fwd_by->argv[i]) == 0;
        if (seen)
            continue;
        local_forward_send(st, st->fwd_by->argv[i]);
        argv_add(done, st->fwd_by->argv[i]);
    }
    argv_free(done);
    argv_truncate(st->fwd_to, 0);
    argv_truncate(st->fwd_by, 0);
}
