/*
 * bounce_log.h - writing the per-message delivery logs bounce/ID,
 * defer/ID and trace/ID (the bounce service reads them: bounce/).
 *
 * Postfix's format (3.7, so that either program reads the other's logs):
 * per recipient an empty line, a readable "<recipient>: reason" line,
 * then "name=value" lines closed by an empty line:
 *
 *   <user@example.com>: reason text
 *   original_recipient=User@Example.com  (omitted when empty)
 *   recipient=user@example.com
 *   offset=123                           (of the recipient's RCPT record)
 *   dsn_orig_rcpt=rfc822;User@Example.com (omitted when empty)
 *   notify_flags=6                       (omitted when 0)
 *   status=5.7.1                         ("4.0.0" when none is given)
 *   action=failed|delayed
 *   reason=text
 *
 *   bounce_log_format(buf, entry)
 *       append one entry to buf.
 *   bounce_log_write(queue, id, buf)
 *       append buf to queue/id (created 0600, O_NOFOLLOW) and fsync it;
 *       0, or -1 after a logged warning. The caller marks recipients
 *       DONE only after this returned 0, so no bounce is ever lost.
 *       A defer log (queue "defer") is not fsynced: no recipient is
 *       marked DONE after it, the queue file still holds every deferred
 *       recipient, and a crash only loses the reason text that postqueue
 *       and a delay warning would show, until the next attempt writes
 *       it again. (One fsync less per deferral: with a large deferred
 *       queue, make bench-scale, docs/PERFORMANCE.md section 19.)
 *
 * Writers: qmgr (qmgr_log.c) and cleanup (a rejected local submission
 * becomes a bounce, cleanup_bounce.c).
 *
 * SECURITY: values come from queue files, agent replies and check
 * actions; control characters (newline included) become '?', so a
 * value cannot forge another line or entry.
 *
 * DIAGNOSTICS: nothing is fatal; a log file that cannot be written is a
 * warning and a -1 return.
 */
#ifndef POSTHORN_BOUNCE_LOG_H
#define POSTHORN_BOUNCE_LOG_H

#include "vstring.h"

typedef struct BOUNCE_LOG_ENTRY {
    const char *recipient;
    const char *orig_rcpt;      /* NULL or "" = omitted */
    long    offset;
    const char *dsn_orcpt;      /* NULL or "" = omitted */
    int     dsn_notify;
    const char *status;         /* NULL or "" = "4.0.0" */
    const char *action;
    const char *reason;         /* NULL = "" */
} BOUNCE_LOG_ENTRY;

void    bounce_log_format(VSTRING *buf, const BOUNCE_LOG_ENTRY *entry);
int     bounce_log_write(const char *queue, const char *id, const VSTRING *buf);

#endif
