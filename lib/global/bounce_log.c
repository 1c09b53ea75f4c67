/*
 * bounce_log.c - append entries to the per-message delivery logs.
 *
 * Interface and format: bounce_log.h.
 *
 * SECURITY: control characters in values are replaced ('?'), so one
 * entry stays one block of lines; the file is opened with O_NOFOLLOW
 * relative to the queue directory, with a queue id the caller checked.
 *
 * DIAGNOSTICS: nothing is fatal; a log file that cannot be opened,
 * written, fsynced or closed is a warning with the queue id and path, and
 * a -1 return (the caller keeps the recipient deferred).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "bounce_log.h"
#include "msg.h"
#include "queue.h"

/* Append text with control characters replaced, no newline. */
static void
bounce_log_text(VSTRING *out, const char *value)
{
    for (const unsigned char *cp = (const unsigned char *) (value ? value : ""); *cp; cp++)
        vstring_addch(out, (*cp < 0x20 || *cp == 0x7f) ? '?' : *cp);
}

/* Append "name=value\n" with control characters replaced. */
static void
bounce_log_field(VSTRING *out, const char *name, const char *value)
{
    vstring_cat(out, name);
    vstring_addch(out, '=');
    bounce_log_text(out, value);
    vstring_addch(out, '\n');
}

void
bounce_log_format(VSTRING *buf, const BOUNCE_LOG_ENTRY *e)
{
    char    num[32];

    vstring_cat(buf, "\n<");
    bounce_log_text(buf, e->recipient);
    vstring_cat(buf, ">: ");
    bounce_log_text(buf, e->reason);
    vstring_addch(buf, '\n');
    if (e->orig_rcpt && *e->orig_rcpt)
        bounce_log_field(buf, "original_recipient", e->orig_rcpt);
    bounce_log_field(buf, "recipient", e->recipient);
    snprintf(num, sizeof(num), "%ld", e->offset);
    bounce_log_field(buf, "offset", num);
    if (e->dsn_orcpt && *e->dsn_orcpt)
        bounce_log_field(buf, "dsn_orig_rcpt", e->dsn_orcpt);
    if (e->dsn_notify) {
        snprintf(num, sizeof(num), "%d", e->dsn_notify);
        bounce_log_field(buf, "notify_flags", num);
    }
    bounce_log_field(buf, "status", e->status && *e->status ? e->status : "4.0.0");
    bounce_log_field(buf, "action", e->action);
    bounce_log_field(buf, "reason", e->reason);
    vstring_addch(buf, '\n');
}

int
bounce_log_write(const char *queue, const char *id, const VSTRING *buf)
{
    VSTRING *path = vstring_alloc(256);
    int     fd, rc = 0;

    fd = open(queue_path(path, queue, id), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT && queue_mkdirs(STR(path)) == 0)
        fd = open(STR(path), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, 0600);
    if (fd < 0) {
        msg_warn("%s: open %s: %m", id, STR(path));
        rc = -1;
    } else {
        if (write(fd, STR(buf), LEN(buf)) != (ssize_t) LEN(buf)
            || (strcmp(queue, QUEUE_DEFER) != 0 && fsync(fd) < 0)) {
            msg_warn("%s: write %s: %m", id, STR(path));
            rc = -1;
        }
        if (close(fd) < 0 && rc == 0) {
            msg_warn("%s: close %s: %m", id, STR(path));
            rc = -1;
        }
    }
    vstring_free(path);
    return rc;
}
