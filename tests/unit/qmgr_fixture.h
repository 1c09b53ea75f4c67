/*
 * qmgr_fixture.h - the queue manager tests' shared fixture: the qmgr
 * sources compiled in directly (everything but main()), a private
 * temporary queue directory as cwd, a queue-file writer, and loading a
 * queue file into the active list the way the scan does.
 *
 * Included once by each tests/unit/test_qmgr_*.c that needs a queue
 * (after unit.h); everything here is static and may go unused
 * (QMGR_TEST_FN). The resolver is the including test's stand-in, passed
 * to qmgr_test_activate().
 */
#ifndef POSTHORN_QMGR_FIXTURE_H
#define POSTHORN_QMGR_FIXTURE_H

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mail_params.h"
#include "config.h"
#include "msg.h"
#include "record.h"
#include "../../qmgr/qmgr_param.c"
#include "../../qmgr/qmgr_message.c"
#include "../../qmgr/qmgr_log.c"
#include "../../qmgr/qmgr_bounce.c"
#include "../../qmgr/qmgr_transport.c"
#include "../../qmgr/qmgr_queue.c"
#include "../../qmgr/qmgr_entry.c"
#include "../../qmgr/qmgr_scan.c"
#include "../../qmgr/qmgr_sched.c"
#include "../../qmgr/qmgr_deliver.c"
#include "../../qmgr/qmgr_warn.c"

#define QMGR_TEST_FN static __attribute__((unused))

/* Where qmgr_test_write() put each recipient record. */
QMGR_TEST_FN long qmgr_test_rcpt_off[256];
/* The record type qmgr_test_write() gives the filter (an earlier posthorn
 * wrote 'f', now Postfix's flags letter). */
QMGR_TEST_FN int qmgr_test_filter_type = REC_TYPE_CONTENT_FILTER;

/* A new temporary queue directory as cwd, main.cf text as given. */
QMGR_TEST_FN void
qmgr_test_setup(const char *main_cf)
{
    char    tmpl[] = "/tmp/test_qmgr.XXXXXX";
    const char *dirs[] = {"incoming", "active", "deferred", "corrupt", "bounce",
                          "defer", "private", 0};

    msg_init("qmgr", MSG_STDERR | MSG_NOSYSLOG);
    if (mkdtemp(tmpl) == 0 || chdir(tmpl) < 0)
        abort();
    for (int i = 0; dirs[i]; i++)
        mkdir(dirs[i], 0700);
    config_reset();
    config_load_text("hash_queue_names =\n", "test");     /* flat queues here */
    config_load_text(main_cf, "test");
    mail_params_init();
    qmgr_params_init();
    qmgr_transport_list = 0;    /* limits are read when a transport is created */
    qmgr_message_list = 0;      /* a test's leftovers are not the next one's */
    qmgr_message_count = 0;
    qmgr_message_new = 0;
    qmgr_rcpt_count = 0;
    for (int i = 0; i < 2; i++) {
        QMGR_SCAN *scan = i ? &scan_deferred : &scan_incoming;

        queue_scan_close(scan->dir);
        scan->dir = 0;
        scan->again = scan->again_all = 0;
    }
}

/*
 * Write queue/id: sender, n recipients (the first done_first already
 * DONE; the first with an ORCP record), arrival time, a three-line body,
 * and filter (unless null) as CONTENT_FILTER in the extracted section.
 */
QMGR_TEST_FN void
qmgr_test_write(const char *queue, const char *id, const char *sender, const char **rcpts,
                int n, time_t arrival, int done_first, const char *filter)
{
    VSTRING *path = vstring_alloc(256);
    STREAM *s;
    long    data_off, xtra_off;
    const char *body[] = {"Subject: test", "", "hello", 0};

    s = stream_open(queue_path(path, queue, id), O_RDWR | O_CREAT | O_TRUNC, 0700);
    CHECK(s != 0);
    rec_size_put(s, 0L, 0L, 0L, 0L);
    rec_printf(s, REC_TYPE_TIME, "%ld 0", (long) arrival);
    rec_puts(s, REC_TYPE_ATTR, "encoding=8bitmime");
    rec_puts(s, REC_TYPE_ATTR, "client_addr=192.0.2.1");
    rec_puts(s, REC_TYPE_FROM, sender);
    for (int i = 0; i < n; i++) {
        if (i == 0)
            rec_puts(s, REC_TYPE_ORCP, "First@Example.COM");
        qmgr_test_rcpt_off[i] = (long) stream_tell(s);
        rec_puts(s, i < done_first ? REC_TYPE_DONE : REC_TYPE_RCPT, rcpts[i]);
    }
    rec_puts(s, REC_TYPE_MESG, "");
    data_off = (long) stream_tell(s);
    for (int i = 0; body[i]; i++)
        rec_puts(s, REC_TYPE_NORM, body[i]);
    xtra_off = (long) stream_tell(s);
    rec_puts(s, REC_TYPE_XTRA, "");
    if (filter)
        rec_puts(s, qmgr_test_filter_type, filter);
    rec_puts(s, REC_TYPE_END, "");
    stream_seek(s, 0);
    rec_size_put(s, data_off, xtra_off, (long) n, 0L);
    CHECK(stream_close(s) == 0);
    vstring_free(path);
}

/* Load active/id into the active list and group it with resolve, as the
 * scan does; null if it cannot be read. */
QMGR_TEST_FN QMGR_MESSAGE *
qmgr_test_activate(const char *id, QMGR_RESOLVE_FN resolve)
{
    const char *why;
    QMGR_MESSAGE *msg = qmgr_message_read(QUEUE_ACTIVE, id, &why);

    if (msg == 0)
        return 0;
    msg->next = qmgr_message_list;
    if (qmgr_message_list)
        qmgr_message_list->prev = msg;
    qmgr_message_list = msg;
    qmgr_message_count++;
    qmgr_rcpt_count += msg->rcpt_count;
    qmgr_message_resolve_fn = resolve;
    qmgr_message_group(msg);
    return msg;
}

/* The number of delivery entries waiting in q (0 for no queue). */
QMGR_TEST_FN int
qmgr_test_entries(QMGR_QUEUE *q)
{
    int     n = 0;

    for (QMGR_ENTRY *e = q ? q->todo_head : 0; e; e = e->next)
        n++;
    return n;
}

#endif
