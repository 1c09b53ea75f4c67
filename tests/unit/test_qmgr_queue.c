/*
 * test_qmgr_queue.c - the queue manager's file handling and grouping:
 * reading a queue file written with rec_put, marking recipients DONE,
 * grouping recipients into delivery entries, and what happens to a
 * message when its deliveries end (removed, deferred with backoff,
 * expired), plus the incoming scan and start-up recovery.
 *
 * The qmgr sources are compiled in directly (everything but main()), in
 * a private temporary queue directory; the resolver is a stand-in.
 */
#include "unit.h"
#include "qmgr_fixture.h"

/* A temporary queue directory as cwd, parameters at their defaults. */
static void
setup(void)
{
    qmgr_test_setup("");
}

/* Write queue/id: n recipients; the first done_first are already DONE. */
static void
write_queue_file(const char *queue, const char *id, const char *sender,
                 const char **rcpts, int n, time_t arrival, int done_first)
{
    qmgr_test_write(queue, id, sender, rcpts, n, arrival, done_first, 0);
}

/* Stand-in resolver: *.local.test -> local, "bad" -> syntax error,
 * @fail.test -> failure, else smtp:domain. */
static int
fake_resolve(const char *sender, const char *addr, VSTRING *transport,
             VSTRING *nexthop, VSTRING *recipient, int *flags)
{
    const char *at = strrchr(addr, '@');

    *flags = 0;
    if (at && strcmp(at + 1, "fail.test") == 0)
        return -1;
    vstring_strcpy(recipient, addr);
    if (at == 0) {
        *flags = RESOLVE_FLAG_ERROR;
        vstring_strcpy(transport, "error");
        vstring_strcpy(nexthop, "bad");
        return 0;
    }
    if (strcmp(at + 1, "local.test") == 0) {
        vstring_strcpy(transport, "local");
        *flags = RESOLVE_CLASS_LOCAL | RESOLVE_FLAG_FINAL;
    } else {
        vstring_strcpy(transport, "smtp");
        *flags = RESOLVE_CLASS_DEFAULT;
    }
    vstring_strcpy(nexthop, at + 1);
    return 0;
}

static int
file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

/* Load active/id into the active list and group it, as the scan does. */
static QMGR_MESSAGE *
activate(const char *id)
{
    return qmgr_test_activate(id, fake_resolve);
}

/* Finish every entry of every queue with the given status. */
static void
complete_all(int status, const char *dsn, const char *reason)
{
    QMGR_ENTRY *e;

    for (QMGR_TRANSPORT *tr = qmgr_transport_list; tr; tr = tr->next)
        for (QMGR_QUEUE *q = tr->queues; q; q = q->next)
            while ((e = qmgr_queue_pop(q)) != 0) {
                for (int i = 0; i < e->rcpt_count; i++)
                    qmgr_log_result(e->message, e->rcpt_index[i], status, dsn, reason);
                qmgr_entry_done(e);
            }
}

UNIT_TEST(read_envelope)
{
    const char *r[] = {"first@example.com", "b@example.com", "c@local.test"};
    const char *why = "x";
    QMGR_MESSAGE *msg;

    setup();
    write_queue_file("active", "ABC123", "sender@example.org", r, 3, 1000, 0);
    msg = qmgr_message_read("active", "ABC123", &why);
    CHECK(msg != 0);
    if (msg == 0)
        return;
    CHECK(why == 0);
    CHECK_STR(msg->sender, "sender@example.org");
    CHECK_INT(msg->size, 24);           /* content records: 21 bytes + 3 headers */
    CHECK_INT(msg->nrcpt, 3);
    CHECK_INT(msg->rcpt_count, 3);
    CHECK_INT((long) msg->arrival_time, 1000);
    CHECK_STR(msg->encoding, "8bitmime");
    CHECK_STR(msg->client_addr, "192.0.2.1");
    CHECK_STR(msg->rcpt[0].address, "first@example.com");
    CHECK_STR(msg->rcpt[0].orig_rcpt, "First@Example.COM");
    CHECK_STR(msg->rcpt[1].orig_rcpt, "");
    for (int i = 0; i < 3; i++)
        CHECK_INT(msg->rcpt[i].offset, qmgr_test_rcpt_off[i]);
    qmgr_message_free(msg);
}

UNIT_TEST(read_skips_done)
{
    const char *r[] = {"a@example.com", "b@example.com", "c@example.com"};
    const char *why;
    QMGR_MESSAGE *msg;

    setup();
    write_queue_file("active", "D1", "", r, 3, 1000, 2);
    msg = qmgr_message_read("active", "D1", &why);
    CHECK(msg != 0);
    if (msg == 0)
        return;
    CHECK_INT(msg->rcpt_count, 1);
    CHECK_INT(msg->nrcpt, 3);
    CHECK_STR(msg->sender, "");
    CHECK_STR(msg->rcpt[0].address, "c@example.com");
    qmgr_message_free(msg);
}

UNIT_TEST(mark_done)
{
    const char *r[] = {"a@example.com", "b@example.com", "c@example.com"};
    const char *why;
    QMGR_MESSAGE *msg;
    long    offs[2];
    char    ch = 0;
    int     fd;

    setup();
    write_queue_file("active", "M1", "s@x.test", r, 3, 1000, 0);
    offs[0] = qmgr_test_rcpt_off[0];
    offs[1] = qmgr_test_rcpt_off[2];
    CHECK_INT(qmgr_message_mark_done("active", "M1", offs, 2), 0);
    fd = open("active/M1", O_RDONLY);
    CHECK(pread(fd, &ch, 1, qmgr_test_rcpt_off[2]) == 1);
    CHECK_INT(ch, REC_TYPE_DONE);
    CHECK(pread(fd, &ch, 1, qmgr_test_rcpt_off[1]) == 1);
    CHECK_INT(ch, REC_TYPE_RCPT);
    close(fd);
    /* idempotent: marking again is fine */
    CHECK_INT(qmgr_message_mark_done("active", "M1", offs, 2), 0);
    /* an offset that is not a recipient record is refused */
    offs[0] = 0;
    CHECK_INT(qmgr_message_mark_done("active", "M1", offs, 1), -1);
    msg = qmgr_message_read("active", "M1", &why);
    CHECK(msg != 0);
    if (msg) {
        CHECK_INT(msg->rcpt_count, 1);
        CHECK_STR(msg->rcpt[0].address, "b@example.com");
        qmgr_message_free(msg);
    }
}

UNIT_TEST(read_corrupt)
{
    const char *r[] = {"a@example.com"};
    const char *why;
    VSTRING *path = vstring_alloc(100);
    struct stat st;
    int     fd;

    setup();
    CHECK(qmgr_message_read("active", "NOPE", &why) == 0);
    CHECK(why == 0);                    /* vanished is not corrupt */

    fd = open("active/G1", O_WRONLY | O_CREAT, 0700);
    CHECK(write(fd, "garbage\n", 8) == 8);
    close(fd);
    CHECK(qmgr_message_read("active", "G1", &why) == 0);
    CHECK(why != 0);

    write_queue_file("active", "T1", "s@x.test", r, 1, 1000, 0);
    stat(queue_path(path, "active", "T1"), &st);
    CHECK(truncate(STR(path), st.st_size - 2) == 0);
    CHECK(qmgr_message_read("active", "T1", &why) == 0);
    CHECK(why != 0);
    vstring_free(path);
}

UNIT_TEST(group_recipient_limit)
{
    const char *r[126];
    char    buf[126][64];
    QMGR_MESSAGE *msg;
    QMGR_TRANSPORT *tr;
    QMGR_QUEUE *q;

    setup();
    for (int i = 0; i < 120; i++) {
        snprintf(buf[i], sizeof(buf[i]), "u%d@Example.com", i);
        r[i] = buf[i];
    }
    r[120] = "x@other.org";
    r[121] = "y@other.org";
    r[122] = "a@local.test";
    r[123] = "a@local.test";
    r[124] = "b@local.test";
    r[125] = "z@EXAMPLE.COM";
    write_queue_file("active", "G1", "s@x.test", r, 126, time(0), 0);
    msg = activate("G1");
    CHECK(msg != 0);
    if (msg == 0)
        return;
    tr = qmgr_transport_find("smtp", 0);
    CHECK(tr != 0);
    CHECK_INT(tr->rcpt_limit, 50);
    q = qmgr_queue_find(tr, "example.com", "", 0);
    CHECK(q != 0);
    CHECK_INT(qmgr_test_entries(q), 3);       /* 121 recipients: 50 + 50 + 21 */
    if (q && q->todo_head) {
        CHECK_INT(q->todo_head->rcpt_count, 50);
        CHECK_INT(q->todo_tail->rcpt_count, 21);
    }
    CHECK_INT(qmgr_test_entries(qmgr_queue_find(tr, "other.org", "", 0)), 1);
    /* local: one recipient per request, one queue per recipient */
    tr = qmgr_transport_find("local", 0);
    CHECK(tr != 0);
    CHECK_INT(qmgr_test_entries(qmgr_queue_find(tr, "a@local.test\nlocal.test", "", 0)), 2);
    CHECK_INT(qmgr_test_entries(qmgr_queue_find(tr, "b@local.test\nlocal.test", "", 0)), 1);
    CHECK_INT(msg->refcount, 7);
}

UNIT_TEST(group_bad_and_failed)
{
    const char *r[] = {"bad", "u@fail.test", "ok@example.com"};
    QMGR_MESSAGE *msg;
    char    ch = 0;
    int     fd;

    setup();
    write_queue_file("active", "B1", "s@x.test", r, 3, time(0), 0);
    msg = activate("B1");
    CHECK(msg != 0);
    if (msg == 0)
        return;
    CHECK_INT(msg->rcpt[0].state, QMGR_RCPT_BOUNCED);
    CHECK_INT(msg->rcpt[1].state, QMGR_RCPT_DEFER);
    CHECK_INT(msg->rcpt[2].state, QMGR_RCPT_BUSY);
    CHECK(file_exists("bounce/B1"));
    CHECK(file_exists("defer/B1"));
    fd = open("active/B1", O_RDONLY);
    CHECK(pread(fd, &ch, 1, qmgr_test_rcpt_off[0]) == 1);
    CHECK_INT(ch, REC_TYPE_DONE);       /* bounce logged, then DONE */
    close(fd);
    /* the deliverable one is sent: the message is deferred for the other */
    complete_all(DELIVER_SENT, "2.0.0", "delivered");
    CHECK(!file_exists("active/B1"));
    CHECK(file_exists("deferred/B1"));
    CHECK_INT(qmgr_message_count, 0);
}

UNIT_TEST(finish_all_sent_removes)
{
    const char *r[] = {"a@example.com", "b@other.org"};

    setup();
    write_queue_file("active", "S1", "s@x.test", r, 2, time(0), 0);
    CHECK(activate("S1") != 0);
    complete_all(DELIVER_SENT, "2.0.0", "ok");
    CHECK(!file_exists("active/S1"));
    CHECK(!file_exists("deferred/S1"));
    CHECK_INT(qmgr_message_count, 0);
}

UNIT_TEST(finish_deferred_backoff)
{
    const char *r[] = {"a@example.com", "b@other.org"};
    time_t  now = time(0);
    struct stat st;
    VSTRING *log = vstring_alloc(4096);
    STREAM *s;

    setup();
    write_queue_file("active", "F1", "s@x.test", r, 2, now - 1000, 0);
    CHECK(activate("F1") != 0);
    /* deliver the first, defer the second */
    {
        QMGR_QUEUE *q = qmgr_queue_find(qmgr_transport_find("smtp", 0), "example.com", "", 0);
        QMGR_ENTRY *e = qmgr_queue_pop(q);

        qmgr_log_result(e->message, e->rcpt_index[0], DELIVER_SENT, "2.0.0", "ok");
        qmgr_entry_done(e);
    }
    complete_all(DELIVER_DEFER, "4.4.1", "connection refused");
    CHECK(!file_exists("active/F1"));
    CHECK(stat("deferred/F1", &st) == 0);
    /* next try: now + age (1000s) */
    CHECK(st.st_mtime >= now + 1000 && st.st_mtime <= now + 1002);
    s = stream_open("defer/F1", O_RDONLY, 0);
    CHECK(s != 0);
    if (s) {
        stream_read(s, log->data, 0);
        vstring_reset(log);
        while (stream_gets(s, log, 4000) > 0 && strncmp(STR(log), "reason=", 7) != 0)
            ;
        CHECK_STR(STR(log), "reason=connection refused\n");
        stream_close(s);
    }
    vstring_free(log);
    /* the delivered recipient is DONE in the file, the other is not */
    {
        const char *why;
        QMGR_MESSAGE *msg = qmgr_message_read("deferred", "F1", &why);

        CHECK(msg != 0);
        if (msg) {
            CHECK_INT(msg->rcpt_count, 1);
            CHECK_STR(msg->rcpt[0].address, "b@other.org");
            qmgr_message_free(msg);
        }
    }
}

UNIT_TEST(finish_expired)
{
    const char *r[] = {"a@example.com"};

    setup();
    write_queue_file("active", "E1", "s@x.test", r, 1, time(0) - 6 * 86400, 0);
    CHECK(activate("E1") != 0);
    complete_all(DELIVER_DEFER, "4.4.1", "connection refused");
    CHECK(!file_exists("active/E1"));
    CHECK(!file_exists("deferred/E1"));
    CHECK(!file_exists("defer/E1"));
    CHECK(file_exists("bounce/E1"));
}

UNIT_TEST(scan_incoming_ready_only)
{
    const char *r[] = {"a@example.com"};

    setup();
    qmgr_message_resolve_fn = fake_resolve;
    write_queue_file("incoming", "R1", "s@x.test", r, 1, time(0), 0);
    write_queue_file("incoming", "N1", "s@x.test", r, 1, time(0), 0);
    chmod("incoming/N1", 0600);         /* cleanup is still writing it */
    qmgr_scan_request(QMGR_SCAN_INCOMING);
    CHECK_INT(qmgr_scan_feed(10), 1);
    CHECK(file_exists("active/R1"));
    CHECK(file_exists("incoming/N1"));
    CHECK_INT(qmgr_message_count, 1);
    CHECK(!qmgr_scan_pending());
}

UNIT_TEST(scan_deferred_due_only)
{
    const char *r[] = {"a@example.com"};
    struct timeval tv[2] = {{0, 0}, {0, 0}};

    setup();
    qmgr_message_resolve_fn = fake_resolve;
    write_queue_file("deferred", "L1", "s@x.test", r, 1, time(0), 0);
    write_queue_file("deferred", "L2", "s@x.test", r, 1, time(0), 0);
    /* both times from this process's clock, not the file system's */
    tv[0].tv_sec = tv[1].tv_sec = time(0);
    utimes("deferred/L1", tv);
    tv[0].tv_sec = tv[1].tv_sec = time(0) + 3600;
    utimes("deferred/L2", tv);
    write_queue_file("defer", "L1", "stale", r, 0, 0, 0);
    qmgr_scan_request(QMGR_SCAN_DEFERRED);
    CHECK_INT(qmgr_scan_feed(10), 1);
    CHECK(file_exists("active/L1"));
    CHECK(!file_exists("defer/L1"));    /* stale defer log removed */
    CHECK(file_exists("deferred/L2"));
    /* a flush ignores the retry time */
    qmgr_scan_request(QMGR_SCAN_DEFERRED | QMGR_SCAN_ALL);
    CHECK_INT(qmgr_scan_feed(10), 1);
    CHECK(file_exists("active/L2"));
}

UNIT_TEST(scan_corrupt_moved)
{
    int     fd;

    setup();
    fd = open("incoming/C1", O_WRONLY | O_CREAT, 0700);
    CHECK(write(fd, "garbage\n", 8) == 8);
    close(fd);
    qmgr_scan_request(QMGR_SCAN_INCOMING);
    qmgr_scan_feed(10);
    CHECK(file_exists("corrupt/C1"));
    CHECK_INT(qmgr_message_count, 0);
}

UNIT_TEST(message_limit)
{
    const char *r[] = {"a@example.com"};

    setup();
    qmgr_message_resolve_fn = fake_resolve;
    var_qmgr_active_limit = 2;
    write_queue_file("incoming", "A1", "s@x.test", r, 1, time(0), 0);
    write_queue_file("incoming", "A2", "s@x.test", r, 1, time(0), 0);
    write_queue_file("incoming", "A3", "s@x.test", r, 1, time(0), 0);
    qmgr_scan_request(QMGR_SCAN_INCOMING);
    CHECK_INT(qmgr_scan_feed(10), 2);
    CHECK(qmgr_scan_pending());
    complete_all(DELIVER_SENT, "2.0.0", "ok");
    CHECK_INT(qmgr_scan_feed(10), 1);
}

/*
 * New mail first: while messages from incoming/ are in active/, a feed
 * round takes one deferred message at most; once they are done, a full
 * batch. (Before, a flush of a large deferred queue filled every round
 * and new mail waited behind it.)
 */
UNIT_TEST(scan_new_mail_first)
{
    const char *r[] = {"a@example.com"};
    char    id[32];

    setup();
    qmgr_message_resolve_fn = fake_resolve;
    for (int i = 0; i < 30; i++) {
        snprintf(id, sizeof(id), "D%d", i);
        write_queue_file("deferred", id, "s@x.test", r, 1, time(0), 0);
    }
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof(id), "N%d", i);
        write_queue_file("incoming", id, "s@x.test", r, 1, time(0), 0);
    }
    qmgr_scan_request(QMGR_SCAN_INCOMING | QMGR_SCAN_DEFERRED | QMGR_SCAN_ALL);
    CHECK_INT(qmgr_scan_feed(10), 4);       /* 3 new + 1 deferred */
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof(id), "active/N%d", i);
        CHECK(file_exists(id));
    }
    CHECK_INT(qmgr_scan_feed(10), 1);       /* the new mail is still there */
    CHECK_INT(qmgr_message_count, 5);
    complete_all(DELIVER_SENT, "2.0.0", "ok");
    CHECK_INT(qmgr_message_count, 0);
    CHECK_INT(qmgr_scan_feed(10), 10);      /* no new mail: a full round */
    write_queue_file("incoming", "N9", "s@x.test", r, 1, time(0), 0);
    qmgr_scan_request(QMGR_SCAN_INCOMING);
    CHECK_INT(qmgr_scan_feed(10), 2);       /* it comes first again */
    CHECK(file_exists("active/N9"));
    complete_all(DELIVER_SENT, "2.0.0", "ok");
}

/* A flush retries each deferred file once, although it reads the
 * directory as it goes: files changed after its first move are left. */
UNIT_TEST(flush_takes_each_file_once)
{
    const char *r[] = {"a@example.com"};
    struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};

    setup();
    qmgr_message_resolve_fn = fake_resolve;
    write_queue_file("deferred", "F1", "s@x.test", r, 1, time(0), 0);
    write_queue_file("deferred", "F2", "s@x.test", r, 1, time(0), 0);
    qmgr_scan_request(QMGR_SCAN_DEFERRED | QMGR_SCAN_ALL);
    CHECK_INT(qmgr_scan_feed(1), 1);
    /* the other one is deferred again meanwhile (a new ctime) */
    CHECK_INT(utimensat(AT_FDCWD, file_exists("active/F1") ? "deferred/F2" : "deferred/F1",
                        ts, 0), 0);
    CHECK_INT(qmgr_scan_feed(10), 0);
    CHECK(!qmgr_scan_pending());
    complete_all(DELIVER_DEFER, "4.4.1", "connect: refused");
    /* the next flush takes both */
    qmgr_scan_request(QMGR_SCAN_DEFERRED | QMGR_SCAN_ALL);
    CHECK_INT(qmgr_scan_feed(10), 2);
    complete_all(DELIVER_SENT, "2.0.0", "ok");
}

/*
 * A file deferred just before a flush can carry the same ctime as the
 * flush's first move (one tick of the kernel's coarse clock): it was
 * there before the pass and is taken. The old file is written a tick
 * earlier; both orders of the two names, as the scan meets them in the
 * directory's own order.
 */
static void
flush_after_a_late_deferral(const char *old, const char *late)
{
    const char *r[] = {"a@example.com"};
    struct timeval tv[2] = {{1, 0}, {2, 0}};
    struct timespec tick = {0, 30 * 1000 * 1000};
    VSTRING *in = vstring_alloc(32), *out = vstring_alloc(32);

    write_queue_file("deferred", old, "s@x.test", r, 1, time(0), 0);
    nanosleep(&tick, 0);
    write_queue_file("incoming", late, "s@x.test", r, 1, time(0), 0);
    vstring_sprintf(in, "incoming/%s", late);
    vstring_sprintf(out, "deferred/%s", late);
    CHECK_INT(utimes(STR(in), tv), 0);          /* qmgr's own steps */
    CHECK_INT(rename(STR(in), STR(out)), 0);
    qmgr_scan_request(QMGR_SCAN_DEFERRED | QMGR_SCAN_ALL);
    CHECK_INT(qmgr_scan_feed(10), 2);
    complete_all(DELIVER_SENT, "2.0.0", "ok");
    vstring_free(in);
    vstring_free(out);
}

UNIT_TEST(flush_takes_file_deferred_in_the_same_tick)
{
    setup();
    qmgr_message_resolve_fn = fake_resolve;
    for (int i = 0; i < 5; i++) {
        flush_after_a_late_deferral("G1", "G2");
        flush_after_a_late_deferral("G2", "G1");
    }
}

/* qmgr_message_recipient_limit: messages are taken while the active
 * recipients are below it. */
UNIT_TEST(recipient_limit)
{
    const char *r[] = {"a@example.com", "b@example.com"};
    char    id[32];

    qmgr_test_setup("qmgr_message_recipient_limit = 5\n");
    qmgr_message_resolve_fn = fake_resolve;
    for (int i = 0; i < 4; i++) {
        snprintf(id, sizeof(id), "R%d", i);
        write_queue_file("incoming", id, "s@x.test", r, 2, time(0), 0);
    }
    qmgr_scan_request(QMGR_SCAN_INCOMING);
    CHECK_INT(qmgr_scan_feed(10), 3);       /* 2, 4, then 6 >= 5 */
    CHECK_INT(qmgr_message_count, 3);
    complete_all(DELIVER_SENT, "2.0.0", "ok");
    CHECK_INT(qmgr_message_count, 0);
    CHECK_INT(qmgr_scan_feed(10), 1);
    complete_all(DELIVER_SENT, "2.0.0", "ok");
}

UNIT_TEST(recover_active)
{
    const char *r[] = {"a@example.com"};

    setup();
    write_queue_file("active", "V1", "s@x.test", r, 1, time(0), 0);
    qmgr_scan_recover();
    CHECK(!file_exists("active/V1"));
    CHECK(file_exists("incoming/V1"));
}

UNIT_TEST(transport_unavailable)
{
    const char *r[] = {"a@example.com", "b@other.org"};

    setup();
    write_queue_file("active", "U1", "s@x.test", r, 2, time(0), 0);
    CHECK(activate("U1") != 0);
    qmgr_sched_run();                   /* no private/smtp: defer both */
    CHECK(qmgr_transport_find("smtp", 0)->dead_until > 0);
    CHECK(file_exists("deferred/U1"));
    CHECK(file_exists("defer/U1"));
    CHECK_INT(qmgr_message_count, 0);
}

UNIT_TESTS {
    {"read_envelope", read_envelope},
    {"read_skips_done", read_skips_done},
    {"mark_done", mark_done},
    {"read_corrupt", read_corrupt},
    {"group_recipient_limit", group_recipient_limit},
    {"group_bad_and_failed", group_bad_and_failed},
    {"finish_all_sent_removes", finish_all_sent_removes},
    {"finish_deferred_backoff", finish_deferred_backoff},
    {"finish_expired", finish_expired},
    {"scan_incoming_ready_only", scan_incoming_ready_only},
    {"scan_deferred_due_only", scan_deferred_due_only},
    {"scan_corrupt_moved", scan_corrupt_moved},
    {"message_limit", message_limit},
    {"scan_new_mail_first", scan_new_mail_first},
    {"recipient_limit", recipient_limit},
    {"flush_takes_each_file_once", flush_takes_each_file_once},
    {"flush_takes_file_deferred_in_the_same_tick", flush_takes_file_deferred_in_the_same_tick},
    {"recover_active", recover_active},
    {"transport_unavailable", transport_unavailable},
    UNIT_END
};
