/*
 * test_qmgr_sched.c - the queue manager's per-destination concurrency
 * window: initial value, positive and negative feedback (all three
 * parameter forms), the failed pseudo-cohort limit that marks a
 * destination dead, how a dead destination defers waiting and new
 * recipients ("delivery temporarily suspended: ..."), and how it comes
 * back (good result, dead time over, flush), plus the verdict a finished
 * entry gives.
 *
 * The qmgr sources are compiled in directly, in a private temporary
 * queue directory; the resolver is a stand-in (every domain -> smtp).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "mail_params.h"
#include "unit.h"
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

static void
setup(const char *maincf)
{
    char    tmpl[] = "/tmp/test_qmgr_sched.XXXXXX";
    const char *dirs[] = {"incoming", "active", "deferred", "corrupt", "bounce",
                          "defer", "private", 0};

    msg_init("qmgr", MSG_STDERR | MSG_NOSYSLOG);
    if (mkdtemp(tmpl) == 0 || chdir(tmpl) < 0)
        abort();
    for (int i = 0; dirs[i]; i++)
        mkdir(dirs[i], 0700);
    config_reset();
    config_load_text("hash_queue_names =\n", "test");    /* flat queues here */
    config_load_text(maincf, "test");
    mail_params_init();
    qmgr_params_init();
    qmgr_transport_list = 0;        /* forget earlier setups (leaked: a test) */
}

static int
fake_resolve(const char *sender, const char *addr, VSTRING *transport,
             VSTRING *nexthop, VSTRING *recipient, int *flags)
{
    const char *at = strrchr(addr, '@');

    *flags = RESOLVE_CLASS_DEFAULT;
    vstring_strcpy(recipient, addr);
    vstring_strcpy(transport, "smtp");
    vstring_strcpy(nexthop, at ? at + 1 : "none");
    return 0;
}

static QMGR_QUEUE *
new_queue(const char *transport, const char *dest)
{
    return qmgr_queue_find(qmgr_transport_find(transport, 1), dest, dest, 1);
}

/* Write active/id with n recipients and load it into the active list. */
static QMGR_MESSAGE *
activate(const char *id, const char **rcpts, int n)
{
    VSTRING *path = vstring_alloc(256);
    STREAM *s = stream_open(queue_path(path, "active", id), O_RDWR | O_CREAT | O_TRUNC, 0700);
    long    data_off, xtra_off;
    const char *why;
    QMGR_MESSAGE *msg;

    CHECK(s != 0);
    rec_size_put(s, 0L, 0L, 0L, 0L);
    rec_printf(s, REC_TYPE_TIME, "%ld 0", (long) time((time_t *) 0));
    rec_puts(s, REC_TYPE_FROM, "sender@example.org");
    for (int i = 0; i < n; i++)
        rec_puts(s, REC_TYPE_RCPT, rcpts[i]);
    rec_puts(s, REC_TYPE_MESG, "");
    data_off = (long) stream_tell(s);
    rec_puts(s, REC_TYPE_NORM, "hello");
    xtra_off = (long) stream_tell(s);
    rec_puts(s, REC_TYPE_XTRA, "");
    rec_puts(s, REC_TYPE_END, "");
    stream_seek(s, 0);
    rec_size_put(s, data_off, xtra_off, (long) n, 0L);
    CHECK(stream_close(s) == 0);
    vstring_free(path);
    msg = qmgr_message_read(QUEUE_ACTIVE, id, &why);
    CHECK(msg != 0);
    if (msg == 0)
        abort();
    msg->next = qmgr_message_list;
    if (qmgr_message_list)
        qmgr_message_list->prev = msg;
    qmgr_message_list = msg;
    qmgr_message_count++;
    qmgr_message_resolve_fn = fake_resolve;
    qmgr_message_group(msg);
    return msg;
}

/* Read the whole of a file into buf (NUL-terminated); length or -1. */
static long
slurp(const char *path, char *buf, size_t len)
{
    int     fd = open(path, O_RDONLY);
    long    n;

    if (fd < 0)
        return -1;
    n = (long) read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

UNIT_TEST(window_initial)
{
    setup("");
    CHECK_INT(new_queue("smtp", "a.test")->window, 5);
    CHECK_INT(new_queue("local", "u")->window, 2);         /* limit 2 */
    setup("initial_destination_concurrency = 3\n"
          "relay_initial_destination_concurrency = 7\n"
          "relay_destination_concurrency_limit = 6\n");
    CHECK_INT(new_queue("smtp", "a.test")->window, 3);
    CHECK_INT(new_queue("relay", "a.test")->window, 6);
}

UNIT_TEST(window_positive_feedback)
{
    QMGR_QUEUE *q;

    setup("");
    q = new_queue("smtp", "a.test");
    for (int i = 0; i < 3; i++)
        qmgr_queue_feedback(q, QMGR_FEEDBACK_OK, 0, 0, 0);
    CHECK_INT(q->window, 8);                /* +1 per delivery */
    for (int i = 0; i < 100; i++)
        qmgr_queue_feedback(q, QMGR_FEEDBACK_OK, 0, 0, 0);
    CHECK_INT(q->window, 20);               /* default_destination_concurrency_limit */
    qmgr_queue_feedback(q, QMGR_FEEDBACK_NONE, 0, 0, 0);
    CHECK_INT(q->window, 20);

    setup("smtp_destination_concurrency_positive_feedback = 1/concurrency\n");
    q = new_queue("smtp", "a.test");
    for (int i = 0; i < 4; i++)
        qmgr_queue_feedback(q, QMGR_FEEDBACK_OK, 0, 0, 0);
    CHECK_INT(q->window, 5);                /* 4 x 1/5 */
    qmgr_queue_feedback(q, QMGR_FEEDBACK_OK, 0, 0, 0);
    CHECK_INT(q->window, 6);                /* a whole window of good deliveries */

    setup("default_destination_concurrency_positive_feedback = 1/2\n");
    q = new_queue("smtp", "a.test");
    qmgr_queue_feedback(q, QMGR_FEEDBACK_OK, 0, 0, 0);
    CHECK_INT(q->window, 5);                /* at the end of a run of 2 */
    qmgr_queue_feedback(q, QMGR_FEEDBACK_OK, 0, 0, 0);
    CHECK_INT(q->window, 6);

    setup("default_destination_concurrency_positive_feedback = 2\n");
    q = new_queue("smtp", "a.test");
    CHECK(q->transport->pos_feedback == 1); /* out of range: the default */
}

UNIT_TEST(window_negative_feedback)
{
    QMGR_QUEUE *q;

    setup("default_destination_concurrency_failed_cohort_limit = 0\n");
    q = new_queue("smtp", "a.test");
    qmgr_queue_feedback(q, QMGR_FEEDBACK_FAIL, "4.4.1", "connect to a.test", 100);
    CHECK_INT(q->window, 4);                /* -1 per failure */
    for (int i = 0; i < 10; i++)
        qmgr_queue_feedback(q, QMGR_FEEDBACK_FAIL, "4.4.1", "connect to a.test", 100);
    CHECK_INT(q->window, 1);                /* never below 1 without a cohort limit */
    qmgr_queue_feedback(q, QMGR_FEEDBACK_OK, 0, 0, 100);
    CHECK_INT(q->window, 2);

    setup("default_destination_concurrency_failed_cohort_limit = 0\n"
          "default_destination_concurrency_negative_feedback = 1/4\n");
    q = new_queue("smtp", "a.test");
    qmgr_queue_feedback(q, QMGR_FEEDBACK_FAIL, "4.4.1", "x", 100);
    CHECK_INT(q->window, 4);                /* at the start of a run of 4 */
    for (int i = 0; i < 3; i++)
        qmgr_queue_feedback(q, QMGR_FEEDBACK_FAIL, "4.4.1", "x", 100);
    CHECK_INT(q->window, 4);
    qmgr_queue_feedback(q, QMGR_FEEDBACK_FAIL, "4.4.1", "x", 100);
    CHECK_INT(q->window, 3);
}

UNIT_TEST(dead_after_failed_cohort)
{
    QMGR_QUEUE *q;

    setup("");
    q = new_queue("smtp", "a.test");
    /* 1/5 + 1/4 + 1/3 = 0.78, then + 1/2 >= 1: dead at the 4th failure */
    for (int i = 0; i < 3; i++)
        qmgr_queue_feedback(q, QMGR_FEEDBACK_FAIL, "4.4.1", "connect to a.test", 1000);
    CHECK_INT(q->window, 2);
    qmgr_queue_feedback(q, QMGR_FEEDBACK_OK, 0, 0, 1000);   /* resets the cohort count */
    CHECK(q->fail_cohorts == 0);
    CHECK_INT(q->window, 3);
    for (int i = 0; i < 3; i++)
        qmgr_queue_feedback(q, QMGR_FEEDBACK_FAIL, "4.4.1", "connect to a.test", 1000);
    CHECK_INT(q->window, 0);
    CHECK_INT(q->dead_until, 1000 + 300);   /* minimal_backoff_time */
    CHECK_STR(q->dead_reason, "connect to a.test");
    CHECK(qmgr_queue_dead(q, 1299));
    CHECK(!qmgr_queue_dead(q, 1300));       /* time is up: back at the start */
    CHECK_INT(q->window, 5);

    /* A delivery that was still running when it died revives it. */
    q->window = 0;
    q->dead_until = 5000;
    qmgr_queue_feedback(q, QMGR_FEEDBACK_OK, 0, 0, 1000);
    CHECK_INT(q->window, 5);

    /* 'F' revives dead destinations. */
    q->window = 0;
    q->dead_until = 5000;
    qmgr_sched_flush_dead();
    CHECK_INT(q->window, 5);
}

UNIT_TEST(dead_defers_recipients)
{
    const char *r1[] = {"a@dead.test", "b@dead.test"};
    const char *r2[] = {"c@dead.test", "d@live.test"};
    char    buf[8192];
    QMGR_QUEUE *q;
    QMGR_MESSAGE *m1, *m2;
    QMGR_ENTRY *e;

    setup("default_destination_concurrency_failed_cohort_limit = 1\n"
          "initial_destination_concurrency = 1\n");
    m1 = activate("SCHED1", r1, 2);
    q = qmgr_queue_find(qmgr_transport_find("smtp", 0), "dead.test", "dead.test", 0);
    CHECK(q != 0);
    if (q == 0)
        return;
    CHECK_INT(q->window, 1);
    /* The entry runs and fails with a connection failure. */
    e = qmgr_queue_pop(q);
    e->inflight = 1;
    q->active++;
    q->transport->active++;
    for (int i = 0; i < e->rcpt_count; i++)
        qmgr_log_result(m1, e->rcpt_index[i], DELIVER_DEFER, "4.4.1",
                        "connect to dead.test[192.0.2.9]:25: Connection refused");
    qmgr_entry_done(e);
    CHECK_INT(q->window, 0);
    CHECK(qmgr_queue_dead(q, time((time_t *) 0)));
    /* A new message: its dead.test recipient is deferred at once. */
    m2 = activate("SCHED2", r2, 2);
    CHECK_INT(m2->rcpt[0].state, QMGR_RCPT_DEFER);
    CHECK_STR(m2->rcpt[0].dsn, "4.4.1");
    CHECK_STR(m2->rcpt[0].reason, "delivery temporarily suspended: "
              "connect to dead.test[192.0.2.9]:25: Connection refused");
    CHECK_INT(m2->rcpt[1].state, QMGR_RCPT_BUSY);
    CHECK(slurp("defer/SCHED2", buf, sizeof(buf)) > 0);
    CHECK(strstr(buf, "delivery temporarily suspended") != 0);
    /* The dead queue is kept while it is dead, even when empty. */
    qmgr_queue_gc();
    CHECK(qmgr_queue_find(qmgr_transport_find("smtp", 0), "dead.test", "x", 0) == q);
}

UNIT_TEST(dead_defers_waiting_entries)
{
    const char *r[] = {"a@dead.test"};
    QMGR_QUEUE *q;
    QMGR_MESSAGE *m;

    setup("");
    m = activate("SCHED3", r, 1);
    q = qmgr_queue_find(qmgr_transport_find("smtp", 0), "dead.test", "dead.test", 0);
    CHECK(q != 0 && q->todo_head != 0);
    if (q == 0)
        return;
    q->window = 0;
    q->dead_until = time((time_t *) 0) + 300;
    q->dead_reason = mem_strdup("lost connection with x[192.0.2.1] while receiving "
                                "the initial server greeting");
    snprintf(q->dead_dsn, sizeof(q->dead_dsn), "4.4.2");
    m->refcount++;                          /* keep it from being finished */
    sched_defer_dead(q->transport, time((time_t *) 0));
    CHECK(q->todo_head == 0);
    CHECK_INT(m->rcpt[0].state, QMGR_RCPT_DEFER);
    CHECK_STR(m->rcpt[0].dsn, "4.4.2");
    CHECK(strncmp(m->rcpt[0].reason, "delivery temporarily suspended: lost connection", 47) == 0);
}

UNIT_TEST(entry_verdicts)
{
    const char *r[] = {"a@x.test", "b@x.test"};
    QMGR_MESSAGE *m;
    QMGR_ENTRY *e;
    const char *dsn, *reason;

    setup("");
    m = activate("SCHED4", r, 2);
    e = m->refcount ? qmgr_transport_find("smtp", 0)->queues->todo_head : 0;
    CHECK(e != 0 && e->rcpt_count == 2);
    if (e == 0)
        return;
    qmgr_log_result(m, 0, DELIVER_DEFER, "4.4.1", "connect to x.test[192.0.2.1]:25: refused");
    qmgr_log_result(m, 1, DELIVER_DEFER, "4.4.1", "connect to x.test[192.0.2.1]:25: refused");
    CHECK_INT(qmgr_entry_verdict(e, &dsn, &reason), QMGR_FEEDBACK_FAIL);
    CHECK_STR(dsn, "4.4.1");
    qmgr_log_result(m, 1, DELIVER_SENT, "2.0.0", "250 ok");
    CHECK_INT(qmgr_entry_verdict(e, &dsn, &reason), QMGR_FEEDBACK_OK);
    /* Greylisting: a 4XX reply to RCPT is not the site's fault. */
    qmgr_log_result(m, 0, DELIVER_DEFER, "4.7.1", "host x said: 450 4.7.1 try later "
                    "(in reply to RCPT TO command)");
    qmgr_log_result(m, 1, DELIVER_DEFER, "4.7.1", "host x said: 450 4.7.1 try later "
                    "(in reply to RCPT TO command)");
    CHECK_INT(qmgr_entry_verdict(e, &dsn, &reason), QMGR_FEEDBACK_OK);
    /* A 4XX greeting is a handshake failure, whatever its status code. */
    qmgr_log_result(m, 0, DELIVER_DEFER, "4.3.2", "host x[192.0.2.1] refused to talk to "
                    "me: 421 4.3.2 busy");
    qmgr_log_result(m, 1, DELIVER_DEFER, "4.3.2", "host x[192.0.2.1] refused to talk to "
                    "me: 421 4.3.2 busy");
    CHECK_INT(qmgr_entry_verdict(e, &dsn, &reason), QMGR_FEEDBACK_FAIL);
    /* The agent was lost: no verdict. */
    qmgr_log_result(m, 0, DELIVER_DEFER, "4.3.0", "unknown mail transport error");
    CHECK_INT(qmgr_entry_verdict(e, &dsn, &reason), QMGR_FEEDBACK_NONE);
}

UNIT_TESTS {
    {"window_initial", window_initial},
    {"window_positive_feedback", window_positive_feedback},
    {"window_negative_feedback", window_negative_feedback},
    {"dead_after_failed_cohort", dead_after_failed_cohort},
    {"dead_defers_recipients", dead_defers_recipients},
    {"dead_defers_waiting_entries", dead_defers_waiting_entries},
    {"entry_verdicts", entry_verdicts},
    UNIT_END
};
