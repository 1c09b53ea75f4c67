/*
 * pickup_requeue.c - re-submitting a queue file that postsuper -r moved
 * to maildrop/.
 *
 * Interface (pickup.h): pickup_requeue_note(), pickup_requeue_send().
 *
 * Postfix re-queues a message by sending its queue file through pickup
 * and cleanup again, so that address rewriting, canonical and virtual
 * mapping and header checks are redone under the current configuration.
 * The file gets a new queue id; the arrival time, sender, full name,
 * attributes (except log_ident, which names the new id) and DSN settings
 * are kept. Recipients still to deliver (RCPT) are sent with their
 * original-recipient and DSN records; delivered ones (DONE) are left out;
 * recipients from the extracted section (Bcc:, -t, redirect) join the
 * envelope. The SIZE, create-time, delay-warning and content-filter
 * records are cleanup's own business and are not sent. pickup puts its
 * Received: header in front of the content, as for any local submission.
 *
 * SECURITY: pickup_file_open() calls this only for a file owned by
 * mail_owner with mode 0700, which a local user cannot create in
 * maildrop/ (postdrop files are theirs, mode 0744). Even so, the file is
 * checked completely against the queue file grammar (pickup_file_check,
 * maildrop_check_init_queue) before a byte goes to cleanup, and cleanup
 * checks the records again; pickup_requeue_note() sees checked records.
 *
 * DIAGNOSTICS: none fatal; a read error after the check is a warning and
 * the file stays for a retry.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "maildrop.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "pickup.h"
#include "record.h"

/* Keep "<type><data>" in a list (data is checked text: no NUL inside). */
static void
pickup_requeue_keep(ARGV *list, int type, const VSTRING *buf)
{
    char   *rec = mem_printf("%c%s", type, STR(buf));

    argv_add(list, rec);
    mem_free(rec);
}

/* Empty a list of kept records. */
static void
pickup_requeue_drop(ARGV *list)
{
    for (size_t i = 0; i < list->argc; i++)
        mem_free(list->argv[i]);
    list->argc = 0;
}

/* Send the records of a list and empty it (NULL: none). */
static int
pickup_requeue_put_list(STREAM *c, ARGV *list)
{
    int     ret = 0;

    if (list == NULL)
        return 0;
    for (size_t i = 0; i < list->argc; i++)
        ret |= rec_puts(c, list->argv[i][0], list->argv[i] + 1);
    pickup_requeue_drop(list);
    return ret;
}

static int
pickup_requeue_is_pending(int type)
{
    return type == REC_TYPE_ORCP || type == REC_TYPE_DSN_ORCPT || type == REC_TYPE_DSN_NOTIFY;
}

/* Collect the extracted section's recipients, with their ORCP/DSN records. */
void
pickup_requeue_note(PICKUP_FILE *pf, int type, const VSTRING *buf)
{
    if (pf->xtra == NULL) {
        pf->xtra = argv_alloc();
        pf->xtra_pending = argv_alloc();
    }
    if (pickup_requeue_is_pending(type)) {
        pickup_requeue_keep(pf->xtra_pending, type, buf);
    } else if (type == REC_TYPE_RCPT) {
        for (size_t i = 0; i < pf->xtra_pending->argc; i++)
            argv_add(pf->xtra, pf->xtra_pending->argv[i]);
        pickup_requeue_keep(pf->xtra, type, buf);
    }
    if (type == REC_TYPE_RCPT || type == REC_TYPE_DONE)
        pickup_requeue_drop(pf->xtra_pending);
}

/* One envelope record; returns 0 or -1. */
static int
pickup_requeue_envelope(PICKUP_FILE *pf, STREAM *c, int type, VSTRING *buf,
                        ARGV *pending, int *have_context, const char *queue_id)
{
    switch (type) {
    case REC_TYPE_SIZE:
    case REC_TYPE_CTIM:
    case REC_TYPE_WARN:
    case REC_TYPE_CONTENT_FILTER:
        return 0;
    case REC_TYPE_ATTR:
        if (strncmp(STR(buf), ATTR_LOG_IDENT "=", sizeof(ATTR_LOG_IDENT)) == 0)
            return 0;
        if (strncmp(STR(buf), ATTR_RWR_CONTEXT "=", sizeof(ATTR_RWR_CONTEXT)) == 0)
            *have_context = 1;
        return rec_put(c, type, STR(buf), LEN(buf));
    case REC_TYPE_FROM:
        if (!*have_context)
            rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_RWR_CONTEXT, "local");
        rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_LOG_IDENT, queue_id);
        return rec_put(c, type, STR(buf), LEN(buf));
    case REC_TYPE_RCPT:
        pickup_requeue_put_list(c, pending);
        return rec_put(c, type, STR(buf), LEN(buf));
    case REC_TYPE_DONE:
        pickup_requeue_drop(pending);
        return 0;
    default:
        if (pickup_requeue_is_pending(type)) {
            pickup_requeue_keep(pending, type, buf);
            return 0;
        }
        return rec_put(c, type, STR(buf), LEN(buf));        /* TIME FULL DSN_* */
    }
}

static void
pickup_requeue_received(PICKUP_FILE *pf, STREAM *c, const char *queue_id)
{
    VSTRING *l1 = vstring_alloc(1024), *l2 = vstring_alloc(1024);

    pickup_received(l1, l2, var_myhostname, var_mail_name,
                    (long) pf->st.st_uid, queue_id, time((time_t *) 0));
    rec_put(c, REC_TYPE_NORM, STR(l1), LEN(l1));
    rec_put(c, REC_TYPE_NORM, STR(l2), LEN(l2));
    vstring_free(l1);
    vstring_free(l2);
}

int
pickup_requeue_send(PICKUP_FILE *pf, STREAM *c, const char *queue_id)
{
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    ARGV   *pending = argv_alloc();
    REC_WALK walk = {0, 0};
    int     type, section = MAILDROP_SECT_ENVELOPE, have_context = 0, ret = 0;

    while (ret == 0 && (type = rec_get_walk(pf->src, buf, REC_MAX_DEFAULT, &walk)) >= 0) {
        if (type == REC_TYPE_END) {
            ret = rec_put(c, type, "", 0);
            break;
        }
        if (section == MAILDROP_SECT_ENVELOPE && type == REC_TYPE_MESG) {
            ret = pickup_requeue_put_list(c, pf->xtra);
            ret |= rec_put(c, type, "", 0);
            pickup_requeue_received(pf, c, queue_id);
            section = MAILDROP_SECT_CONTENT;
        } else if (section == MAILDROP_SECT_ENVELOPE) {
            ret = pickup_requeue_envelope(pf, c, type, buf, pending, &have_context, queue_id);
        } else if (section == MAILDROP_SECT_CONTENT) {
            ret = rec_put(c, type, STR(buf), LEN(buf));
            if (type == REC_TYPE_XTRA)
                section = MAILDROP_SECT_EXTRA;
        }                               /* extracted section: already moved up */
    }
    if (ret == 0 && type != REC_TYPE_END) {
        msg_warn("%s: read error after check", pf->path);
        ret = -1;
    }
    argv_free(pending);
    vstring_free(buf);
    return ret;
}
