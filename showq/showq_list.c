/*
 * showq_list.c - walk the queues and send the listing to one client.
 *
 * Interface (showq.h): showq_list(), showq_put().
 *
 * Order: maildrop, active, incoming, deferred, hold, each in directory
 * order, hash subdirectories included (as Postfix's showq). Each queue
 * is read as it is listed (queue_scan_next()), so the output starts at
 * once and memory does not grow with the queue. The null sender is shown
 * as MAILER-DAEMON.
 * A recipient's reason is the last one its defer log has for it, "" when
 * there is none. forced_expire is always 0 (postsuper -e/-f are not
 * implemented).
 *
 * SECURITY: names that are not queue ids are skipped; values are sent
 * with control characters replaced, so a client printing them cannot be
 * fooled by an address with embedded escapes or newlines.
 *
 * DIAGNOSTICS: none fatal; a queue directory that cannot be opened is a
 * warning and is skipped.
 */
#include <stdio.h>
#include <string.h>

#include "attr.h"
#include "msg.h"
#include "queue.h"
#include "record.h"
#include "showq.h"

static const char *showq_queues[] = {
    QUEUE_MAILDROP, QUEUE_ACTIVE, QUEUE_INCOMING, QUEUE_DEFERRED, QUEUE_HOLD, 0,
};

void
showq_put(STREAM *client, const char *name, const char *value)
{
    (void) stream_write(client, name, strlen(name) + 1);
    for (const unsigned char *cp = (const unsigned char *) value; *cp; cp++)
        (void) stream_putc(client, (*cp < 0x20 || *cp == 0x7f) ? '?' : *cp);
    (void) stream_putc(client, 0);
}

/* The reason defer/<id> gives for rcpt, or "". */
static const char *
showq_reason(const ARGV *rcpts, const ARGV *reasons, const char *rcpt)
{
    const char *found = "";

    for (size_t i = 0; i < rcpts->argc; i++)
        if (strcmp(rcpts->argv[i], rcpt) == 0)
            found = reasons->argv[i];
    return found;
}

/* Send one message; 0, or -1 when the client is gone. */
static int
showq_send(STREAM *client, const char *queue, const char *id, const SHOWQ_MSG *m)
{
    ARGV   *rcpts = argv_alloc();
    ARGV   *reasons = argv_alloc();
    char    num[32];

    showq_defer_read(id, rcpts, reasons);
    showq_put(client, "queue_name", queue);
    showq_put(client, "queue_id", id);
    snprintf(num, sizeof(num), "%ld", m->arrival);
    showq_put(client, "time", num);
    snprintf(num, sizeof(num), "%ld", m->size);
    showq_put(client, "size", num);
    showq_put(client, "forced_expire", "0");
    showq_put(client, "sender", LEN(m->sender) ? STR(m->sender) : "MAILER-DAEMON");
    for (size_t i = 0; i < m->rcpts->argc && !stream_error(client); i++) {
        showq_put(client, "recipient", m->rcpts->argv[i]);
        showq_put(client, "reason", showq_reason(rcpts, reasons, m->rcpts->argv[i]));
    }
    (void) stream_putc(client, 0);
    argv_free(rcpts);
    argv_free(reasons);
    return stream_error(client) ? -1 : 0;
}

/* One queue directory; 0, or -1 when the client is gone. */
static int
showq_queue(STREAM *client, const char *queue)
{
    QUEUE_SCAN *scan = queue_scan_open(queue);
    const char *id;
    int     rc = 0;

    while (rc == 0 && (id = queue_scan_next(scan)) != NULL) {
        SHOWQ_MSG m;

        showq_msg_init(&m);
        if (showq_msg_read(queue, id, &m) == 0)
            rc = showq_send(client, queue, id, &m);
        showq_msg_free(&m);
    }
    queue_scan_close(scan);
    return rc;
}

void
showq_list(STREAM *client)
{
    if (attr_send_protocol(client, SHOWQ_PROTOCOL) < 0)
        return;
    for (const char **q = showq_queues; *q; q++)
        if (showq_queue(client, *q) < 0)
            return;
    (void) stream_putc(client, 0);
    (void) stream_flush(client);
}
