/*
 * qmgr_warn.c - delay warnings: when a message is deferred and its
 * warning time has come, ask the defer service for a "Delayed Mail
 * (still being retried)" notice to the sender, once.
 *
 * Interface: qmgr_warn_check(msg, now), called by qmgr_message_finish()
 * while the message, about to be deferred, is still in active/ and its
 * defer log (defer/ID) holds this attempt's reasons.
 *
 * The warning time is the WARN record of the envelope: cleanup writes
 * it as arrival + delay_warning_time, fixed-width, when that parameter
 * is not zero. When it has passed, qmgr sends {request=warn} to
 * private/defer (mail_proto.h) and, on success, overwrites the record's
 * value in place with a zero of the same width, so the warning is sent
 * once, as Postfix does. A failed request leaves the record alone: the
 * next deferral tries again. A message without a WARN record (written
 * while delay_warning_time was 0) never gets a warning.
 *
 * The request goes through qmgr_bounce_request() (qmgr_bounce.c), the
 * client the bounce and trace requests use.
 *
 * SECURITY: the queue file is ours (cleanup, same uid) and is opened
 * O_NOFOLLOW; envelope records are read with REC_MAX_DEFAULT bounds, at
 * most QMGR_WARN_RECORDS WARN records are updated, and the in-place
 * write stays inside the record's own value. The reply of the defer
 * service is checked (only status 0 counts as sent).
 *
 * DIAGNOSTICS: none fatal; a queue file whose delay warning time cannot be
 * updated or opened is a warning (the warning may be sent again).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mail_proto.h"
#include "msg.h"
#include "queue.h"
#include "record.h"
#include "qmgr.h"

#define QMGR_WARN_RECORDS       8       /* WARN records updated per file */

typedef struct QMGR_WARN_REC {
    long    offset;             /* of the value */
    size_t  len;                /* its width */
} QMGR_WARN_REC;

/*
 * Scan the envelope for WARN records. Returns how many carry a time
 * (not yet warned), and sets *due when one of them is <= now.
 */
static int
qmgr_warn_scan(STREAM *fp, time_t now, QMGR_WARN_REC *recs, int *due)
{
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    REC_WALK walk = {0, 0};
    int     type, count = 0;
    long    when;
    char   *end;

    *due = 0;
    while ((type = rec_get_walk(fp, buf, REC_MAX_DEFAULT, &walk)) >= 0
           && type != REC_TYPE_MESG && type != REC_TYPE_END) {
        if (type != REC_TYPE_WARN || count >= QMGR_WARN_RECORDS)
            continue;
        errno = 0;
        when = strtol(STR(buf), &end, 10);
        if (end == STR(buf) || *end != 0 || errno != 0 || when <= 0)
            continue;                   /* warned already, or bad: ignore */
        recs[count].len = LEN(buf);
        recs[count].offset = (long) stream_tell(fp) - (long) LEN(buf);
        if (when <= now)
            *due = 1;
        count++;
    }
    vstring_free(buf);
    return count;
}

/* Zero each WARN value in place (same width). 0 or -1. */
static int
qmgr_warn_clear(int fd, const char *id, const QMGR_WARN_REC *recs, int count)
{
    char    zero[64];
    int     rc = 0;

    for (int i = 0; i < count; i++) {
        if (recs[i].len == 0 || recs[i].len >= sizeof(zero))
            continue;
        snprintf(zero, sizeof(zero), "%*d", (int) recs[i].len, 0);
        if (pwrite(fd, zero, recs[i].len, recs[i].offset) != (ssize_t) recs[i].len) {
            msg_warn("%s: update delay warning time: %m", id);
            rc = -1;
        }
    }
    return rc;
}

void
qmgr_warn_check(QMGR_MESSAGE *msg, time_t now)
{
    QMGR_WARN_REC recs[QMGR_WARN_RECORDS];
    VSTRING *path;
    STREAM *fp;
    int     count, due;

    if (msg->sender == 0 || *msg->sender == 0)
        return;                         /* no warnings about notices */
    path = vstring_alloc(256);
    fp = stream_open(queue_path(path, QUEUE_ACTIVE, msg->queue_id), O_RDWR | O_NOFOLLOW, 0);
    if (fp == 0) {
        if (errno != ENOENT)
            msg_warn("%s: open %s: %m", msg->queue_id, STR(path));
        vstring_free(path);
        return;
    }
    count = qmgr_warn_scan(fp, now, recs, &due);
    if (count > 0 && due && qmgr_bounce_request(msg, SERVICE_DEFER, BOUNCE_REQ_WARN,
                                              "delay notification") == 0)
        (void) qmgr_warn_clear(stream_fd(fp), msg->queue_id, recs, count);
    (void) stream_close(fp);
    vstring_free(path);
}
