/*
 * pickup_copy.c - handing one checked maildrop file to cleanup.
 *
 * Interface (pickup.h): pickup_copy(), pickup_received().
 *
 * Protocol: mail_proto.h ("cleanup"); cleanup_clnt_open() connects and
 * checks the greeting (lib/global/cleanup_clnt.c). The file's records go
 * to cleanup as they are, except that pickup sets the attributes itself: ATTR
 * records from the file (already limited to encoding, trace_flags=verify
 * and rewrite_context=local by the check) are replaced by
 * "rewrite_context=local", "log_ident=ID", "content_filter=$content_filter"
 * (when set: local mail is filtered as Postfix's pickup does), the file's
 * encoding and its trace_flags=verify (sendmail -bv); and a
 * Received: header naming the submitting uid (the file's owner) is put
 * in front of the content:
 *
 *     Received: by <myhostname> (<mail_name>, from userid <uid>)
 *             id <queue id>; <date>
 *
 * Logs "ID: uid=N from=<sender>" ("... orig_id=OLDID" for a file that
 * postsuper -r requeued; pickup_requeue.c sends those). Result: PICKUP_REMOVE when cleanup
 * queued the message (or rejected it for good), PICKUP_RETRY when
 * cleanup cannot be reached or defers (the file stays for the next scan).
 *
 * SECURITY: the file was checked completely by pickup_file_check(), so
 * a read error here is an I/O problem, not a format one; cleanup's reply
 * is checked like any peer's (missing status = retry, never "done").
 *
 * DIAGNOSTICS: none fatal; a read error after the check, a cleanup without
 * a status or a temporary cleanup failure is a warning and the file stays
 * for a retry; a message cleanup rejects is a warning with the uid.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "cleanup_clnt.h"
#include "mail_date.h"
#include "maildrop.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "pickup.h"
#include "receive_opts.h"
#include "record.h"

#define PICKUP_CLEANUP_FLAGS (CLEANUP_FLAG_BOUNCE | CLEANUP_FLAG_FILTER \
                              | CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_MILTER)

void
pickup_received(VSTRING *line1, VSTRING *line2, const char *myhostname,
                const char *mail_name, long uid, const char *queue_id, time_t when)
{
    VSTRING *date = vstring_alloc(128);

    mail_date(date, when);
    vstring_sprintf(line1, "Received: by %s (%s, from userid %ld)", myhostname, mail_name, uid);
    vstring_sprintf(line2, "\tid %s; %s", queue_id, STR(date));
    vstring_free(date);
}

/* Send the file's records with pickup's own attributes and Received:. */
static int
pickup_send(PICKUP_FILE *pf, STREAM *c, const char *queue_id)
{
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    VSTRING *l1 = vstring_alloc(1024), *l2 = vstring_alloc(1024);
    int     type, ret = 0;

    while ((type = rec_get(pf->src, buf, REC_MAX_DEFAULT)) >= 0) {
        if (type == REC_TYPE_ATTR) {
            if (strncmp(STR(buf), ATTR_ENCODING "=", sizeof(ATTR_ENCODING)) == 0
                || strcmp(STR(buf), ATTR_TRACE_FLAGS "=" TRACE_FLAGS_VERIFY) == 0)
                rec_put(c, type, STR(buf), LEN(buf));
            continue;                   /* rewrite_context: set below */
        }
        if (type == REC_TYPE_FROM) {
            rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_RWR_CONTEXT, "local");
            rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_LOG_IDENT, queue_id);
            if (*var_filter_xport)      /* as smtpd: local mail is filtered too */
                rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_CONTENT_FILTER, var_filter_xport);
        }
        rec_put(c, type, STR(buf), LEN(buf));
        if (type == REC_TYPE_MESG) {
            pickup_received(l1, l2, var_myhostname, var_mail_name,
                            (long) pf->st.st_uid, queue_id,
                            pf->have_time ? (time_t) pf->time_sec : pf->st.st_mtime);
            rec_put(c, REC_TYPE_NORM, STR(l1), LEN(l1));
            rec_put(c, REC_TYPE_NORM, STR(l2), LEN(l2));
        }
        if (type == REC_TYPE_END)
            break;
    }
    if (type != REC_TYPE_END) {
        msg_warn("%s: read error after check", pf->path);
        ret = -1;
    }
    vstring_free(buf);
    vstring_free(l1);
    vstring_free(l2);
    return ret;
}

int
pickup_copy(PICKUP_FILE *pf)
{
    VSTRING *queue_id = vstring_alloc(QUEUE_ID_MAX + 1);
    ATTR_LIST *reply;
    STREAM *c;
    long    status = -1;
    const char *reason;
    int     result = PICKUP_RETRY;

    c = cleanup_clnt_open(receive_opts_cleanup(PICKUP_CLEANUP_FLAGS), queue_id);
    if (c == NULL) {
        vstring_free(queue_id);
        return PICKUP_RETRY;
    }
    if (pf->requeue)
        msg_info("%s: uid=%ld from=<%s> orig_id=%s", STR(queue_id), (long) pf->st.st_uid,
                 pf->sender ? pf->sender : "", pf->name);
    else
        msg_info("%s: uid=%ld from=<%s>", STR(queue_id), (long) pf->st.st_uid,
                 pf->sender ? pf->sender : "");
    reply = attr_list_alloc();
    if ((pf->requeue ? pickup_requeue_send(pf, c, STR(queue_id))
         : pickup_send(pf, c, STR(queue_id))) == 0 && stream_flush(c) == 0
        && attr_read(c, reply) == 1 && attr_get_long(reply, ATTR_STATUS, &status) == 0) {
        reason = attr_get(reply, ATTR_REASON);
        if (status == CLEANUP_STAT_OK) {
            result = PICKUP_REMOVE;
        } else if (status & (CLEANUP_STAT_DEFER | CLEANUP_STAT_WRITE | CLEANUP_STAT_BAD)) {
            msg_warn("%s: cleanup could not queue %s (status %ld%s%s); will retry",
                     STR(queue_id), pf->path, status, reason && *reason ? ": " : "",
                     reason ? reason : "");
        } else {
            msg_warn("%s: uid=%ld: message rejected (status %ld%s%s)", STR(queue_id),
                     (long) pf->st.st_uid, status, reason && *reason ? ": " : "",
                     reason ? reason : "");
            result = PICKUP_REMOVE;
        }
    } else {
        msg_warn("%s: no status from cleanup for %s; will retry", STR(queue_id), pf->path);
    }
    attr_list_free(reply);
    (void) stream_close(c);
    vstring_free(queue_id);
    return result;
}
