/*
 * qmgr_log.c - per-message delivery logs (defer/ID, bounce/ID) and the
 * "to=<...>" lines for verdicts qmgr reaches itself (transport
 * unavailable, resolver failure, bad address), where no delivery agent
 * logs them.
 *
 * Interface (qmgr.h): qmgr_log_append(), qmgr_log_status(),
 * qmgr_bounce_flush().
 *
 * Log file format: one entry per recipient, "name=value" lines closed by
 * an empty line (the form the bounce service and postqueue/showq read):
 *
 *   recipient=user@example.com
 *   orig_rcpt=User@Example.com
 *   offset=123
 *   dsn_orig_rcpt=rfc822;User@Example.com
 *   notify_flags=0
 *   status=4.3.0
 *   action=delayed|failed
 *   reason=mail transport unavailable
 *
 * Each append is fsynced before the caller marks a recipient DONE, so a
 * bounced recipient is never dropped without its bounce entry.
 *
 * SECURITY: values come from queue files and agent replies; newlines and
 * other control characters are replaced so an entry cannot forge another.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>
#include "deliver.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "vstring.h"
#include "qmgr.h"

/* Append "name=value\n" with control characters replaced. */
static void
log_field(VSTRING *out, const char *name, const char *value)
{
    vstring_cat(out, name);
    vstring_addch(out, '=');
    for (const unsigned char *cp = (const unsigned char *) (value ? value : ""); *cp; cp++)
        vstring_addch(out, (*cp < 0x20 || *cp == 0x7f) ? '?' : *cp);
    vstring_addch(out, '\n');
}

int
qmgr_log_append(const char *queue, const QMGR_MESSAGE *msg,
                const QMGR_RCPT *rcpt, const char *action)
{
    VSTRING *path = vstring_alloc(256);
    VSTRING *buf = vstring_alloc(VSTRING_UNLIMITED);
    char    num[32];
    int     fd, rc = 0;

    log_field(buf, "recipient", rcpt->address);
    if (rcpt->orig_rcpt && *rcpt->orig_rcpt)
        log_field(buf, "orig_rcpt", rcpt->orig_rcpt);
    snprintf(num, sizeof(num), "%ld", rcpt->offset);
    log_field(buf, "offset", num);
    if (rcpt->dsn_orcpt && *rcpt->dsn_orcpt)
        log_field(buf, "dsn_orig_rcpt", rcpt->dsn_orcpt);
    snprintf(num, sizeof(num), "%d", rcpt->dsn_notify);
    log_field(buf, "notify_flags", num);
    log_field(buf, "status", rcpt->dsn[0] ? rcpt->dsn : "4.0.0");
    log_field(buf, "action", action);
    log_field(buf, "reason", rcpt->reason ? rcpt->reason : "");
    vstring_addch(buf, '\n');

    fd = open(queue_path(path, queue, msg->queue_id),
              O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0600);
    if (fd < 0) {
        msg_warn("%s: open %s: %m", msg->queue_id, STR(path));
        rc = -1;
    } else {
        if (write(fd, STR(buf), LEN(buf)) != (ssize_t) LEN(buf) || fsync(fd) < 0) {
            msg_warn("%s: write %s: %m", msg->queue_id, STR(path));
            rc = -1;
        }
        if (close(fd) < 0 && rc == 0) {
            msg_warn("%s: close %s: %m", msg->queue_id, STR(path));
            rc = -1;
        }
    }
    vstring_free(path);
    vstring_free(buf);
    return rc;
}

void
qmgr_log_status(const QMGR_MESSAGE *msg, const QMGR_RCPT *rcpt, const char *status)
{
    VSTRING *delays = vstring_alloc(256);
    VSTRING *orig = vstring_alloc(2048);
    struct timeval tv;
    double  now;

    gettimeofday(&tv, 0);
    now = (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
    deliver_format_delays(delays, msg->arrival_time, msg->active_time, now, 0, 0, now);
    if (rcpt->orig_rcpt && *rcpt->orig_rcpt && strcasecmp(rcpt->orig_rcpt, rcpt->address) != 0)
        vstring_sprintf(orig, "orig_to=<%s>, ", rcpt->orig_rcpt);
    msg_info("%s: to=<%s>, %srelay=none, %s, dsn=%s, status=%s (%s)",
             msg->queue_id, rcpt->address, STR(orig), STR(delays),
             rcpt->dsn, status, rcpt->reason ? rcpt->reason : "");
    vstring_free(delays);
    vstring_free(orig);
}

/*
 * Turn bounce/ID into a non-delivery notice: the bounce service client
 * (qmgr_bounce.c) plugs into qmgr_bounce_flush_fn when the daemon starts.
 * Without it (unit tests) the log stays in bounce/ and the queue file
 * may go. Returns 0 when the queue file may be removed.
 */
int     (*qmgr_bounce_flush_fn)(const QMGR_MESSAGE *msg);

int
qmgr_bounce_flush(const QMGR_MESSAGE *msg)
{
    return qmgr_bounce_flush_fn ? qmgr_bounce_flush_fn(msg) : 0;
}
