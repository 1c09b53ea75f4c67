/*
 * cleanup_bounce.c - a permanently rejected local submission becomes a
 * bounce instead of a reply.
 *
 * Interface (cleanup.h):
 *   cleanup_bounce_wanted(state)  the client asked for it (CLEANUP_FLAG_BOUNCE:
 *       pickup, i.e. sendmail/postdrop) and the only errors are permanent
 *       content verdicts: content rejected (header/body checks REJECT),
 *       message_size_limit exceeded, hopcount_limit exceeded; and there
 *       is a recipient to bounce.
 *   cleanup_bounce(state)         finish the queue file and bounce every
 *       recipient; 0 (state->errs cleared, the caller publishes the file
 *       and replies "queued") or the CLEANUP_STAT_* bits to report.
 *   cleanup_bounce_undo(state)    remove bounce/ID again when the queue
 *       file is not published after all.
 *
 * A local user cannot get an SMTP reply: pickup removes the maildrop
 * file once cleanup answers, so the rejection must reach the sender as a
 * non-delivery notification, as Postfix does. The queue file (envelope
 * and the content written up to the rejection) is closed with XTRA, a
 * DSN_RET record asking for headers only (the rest was never written)
 * and END; each recipient gets a bounce/ID entry (lib/bounce_log.h,
 * action=failed, the rejection's status and text) and a
 * "to=<...>, relay=none, ..., status=bounced (text)" log line; bounce/ID
 * is fsynced before the recipients are marked DONE. The published file
 * has no recipient left: qmgr sees the bounce log, asks the bounce
 * service for the notification and removes the message.
 *
 * SECURITY: the file re-read here is the one this process just wrote;
 * records are still read with a bound. Texts from check actions are
 * logged and written through bounce_log_format, which neutralises
 * control characters.
 *
 * DIAGNOSTICS: none fatal; a queue file envelope that cannot be read back,
 * a write error or a failed remove is a warning with the queue id, and the
 * bounce is not made (the client sees a failure).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce_log.h"
#include "cleanup.h"
#include "deliver.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "record.h"

#define CLEANUP_BOUNCE_ERRS (CLEANUP_STAT_CONT | CLEANUP_STAT_SIZE | CLEANUP_STAT_HOPS)

int
cleanup_bounce_wanted(const CLEANUP_STATE *state)
{
    return (state->flags & CLEANUP_FLAG_BOUNCE) && !(state->flags & CLEANUP_FLAG_DISCARD)
        && state->errs != 0 && (state->errs & ~CLEANUP_BOUNCE_ERRS) == 0
        && state->section == CLEANUP_SECT_DONE && state->rcpt_noffs > 0;
}

/* The rejection as DSN status and text: the check's text, or Postfix's generic one. */
static void
cleanup_bounce_reason(const CLEANUP_STATE *state, char *dsn, size_t dsn_len, VSTRING *text)
{
    const char *r = STR(state->reason);
    size_t  n;

    if ((r[0] == '4' || r[0] == '5') && strspn(r, "0123456789") == 3 && r[3] == ' ')
        r += 4;                                 /* a milter's "554 5.7.0 text" */
    n = deliver_dsn_scan(r, dsn, dsn_len);

    if (n > 0 && r[0] == '5') {                 /* "5.7.1 text" */
        vstring_strcpy(text, r + n + (r[n] != 0));
    } else if (*r) {
        snprintf(dsn, dsn_len, "5.7.1");
        vstring_strcpy(text, r);
    } else if (state->errs & CLEANUP_STAT_HOPS) {
        snprintf(dsn, dsn_len, "5.4.0");
        vstring_strcpy(text, "too many hops");
    } else if (state->errs & CLEANUP_STAT_SIZE) {
        snprintf(dsn, dsn_len, "5.3.4");
        vstring_strcpy(text, "message file too big");
    } else {
        snprintf(dsn, dsn_len, "5.7.1");
        vstring_strcpy(text, "message content rejected");
    }
}

/* Close the file: XTRA, DSN_RET (headers only), END, the SIZE record. */
static int
cleanup_bounce_close(CLEANUP_STATE *state)
{
    char    ret[16];

    state->xtra_offset = stream_tell(state->dst);
    cleanup_out(state, REC_TYPE_XTRA, "", 0);
    snprintf(ret, sizeof(ret), "%d", DSN_RET_HDRS);
    cleanup_out_str(state, REC_TYPE_DSN_RET, ret);
    cleanup_out(state, REC_TYPE_END, "", 0);
    return cleanup_out_final(state);
}

/* The "to=<...>, relay=none, ... status=bounced" line for one recipient. */
static void
cleanup_bounce_log(const CLEANUP_STATE *state, const BOUNCE_LOG_ENTRY *e)
{
    double  arrival = (double) state->time_sec + (double) state->time_usec / 1e6;
    double  now = deliver_now();

    deliver_log_status(state->queue_id, e->recipient, e->orig_rcpt, "none", arrival, now, now,
                       0, 0, e->status, "bounced", e->reason);
}

/*
 * Read the envelope back and append one bounce entry per RCPT record to
 * buf (and its log line), its offset to offs; 0 or -1.
 */
static int
cleanup_bounce_entries(CLEANUP_STATE *state, VSTRING *buf, long *offs, size_t *noffs,
                       const char *dsn, const char *text)
{
    VSTRING *rec = vstring_alloc(CLEANUP_ENV_RECORD_MAX);
    char   *orcp = NULL, *dsn_orcpt = NULL;
    int     notify = 0, type, rc = -1;
    BOUNCE_LOG_ENTRY e;
    off_t   where;

    for (int ok = stream_seek(state->dst, 0) == 0; ok;) {
        where = stream_tell(state->dst);
        type = rec_get(state->dst, rec, CLEANUP_ENV_RECORD_MAX);
        if (type == REC_TYPE_MESG) {
            rc = 0;
            break;
        }
        if (type < 0 || type == REC_TYPE_END)
            break;                      /* not from this process: corrupt */
        if (type == REC_TYPE_ORCP) {
            mem_free(orcp);
            orcp = mem_strdup(STR(rec));
        } else if (type == REC_TYPE_DSN_ORCPT) {
            mem_free(dsn_orcpt);
            dsn_orcpt = mem_strdup(STR(rec));
        } else if (type == REC_TYPE_DSN_NOTIFY) {
            notify = atoi(STR(rec));
        } else if (type == REC_TYPE_RCPT && *noffs < state->rcpt_noffs) {
            e.recipient = STR(rec);
            e.orig_rcpt = orcp;
            e.offset = (long) where;
            e.dsn_orcpt = dsn_orcpt;
            e.dsn_notify = notify;
            e.status = dsn;
            e.action = "failed";
            e.reason = text;
            bounce_log_format(buf, &e);
            cleanup_bounce_log(state, &e);
            offs[(*noffs)++] = (long) where;
        }
        if (type == REC_TYPE_RCPT || type == REC_TYPE_DONE) {
            mem_free(orcp);
            mem_free(dsn_orcpt);
            orcp = dsn_orcpt = NULL;
            notify = 0;
        }
    }
    if (rc < 0)
        msg_warn("%s: cannot read back the queue file envelope", state->queue_id);
    mem_free(orcp);
    mem_free(dsn_orcpt);
    vstring_free(rec);
    return rc;
}

/* Overwrite each RCPT record's type byte with DONE (fsync: cleanup_publish). */
static int
cleanup_bounce_mark_done(CLEANUP_STATE *state, const long *offs, size_t noffs)
{
    char    done = REC_TYPE_DONE;

    for (size_t i = 0; i < noffs; i++) {
        if (pwrite(stream_fd(state->dst), &done, 1, offs[i]) != 1) {
            msg_warn("%s: write queue file: %m", state->queue_id);
            return -1;
        }
    }
    return 0;
}

int
cleanup_bounce(CLEANUP_STATE *state)
{
    VSTRING *buf = vstring_alloc(VSTRING_UNLIMITED);
    VSTRING *text = vstring_alloc(1024);
    long   *offs = mem_array(state->rcpt_noffs, sizeof(long));
    size_t  noffs = 0;
    char    dsn[16];
    int     errs = state->errs;

    cleanup_bounce_reason(state, dsn, sizeof(dsn), text);
    state->errs = 0;                    /* write the rest of the file */
    if (cleanup_bounce_close(state) != 0
        || cleanup_bounce_entries(state, buf, offs, &noffs, dsn, STR(text)) < 0
        || noffs == 0) {
        state->errs = errs | CLEANUP_STAT_WRITE;
    } else if (bounce_log_write(QUEUE_BOUNCE, state->queue_id, buf) < 0) {
        cleanup_bounce_undo(state);
        state->errs = errs | CLEANUP_STAT_WRITE;
    } else {
        state->bounced = 1;
        if (cleanup_bounce_mark_done(state, offs, noffs) < 0)
            state->errs = errs | CLEANUP_STAT_WRITE;
        state->flags &= ~CLEANUP_FLAG_HOLD;     /* the notice goes out now */
        vstring_reset(state->reason);
    }
    mem_free(offs);
    vstring_free(buf);
    vstring_free(text);
    return state->errs;
}

void
cleanup_bounce_undo(CLEANUP_STATE *state)
{
    VSTRING *path = vstring_alloc(256);

    if (unlink(queue_path(path, QUEUE_BOUNCE, state->queue_id)) < 0 && errno != ENOENT)
        msg_warn("remove %s: %m", STR(path));
    state->bounced = 0;
    vstring_free(path);
}
