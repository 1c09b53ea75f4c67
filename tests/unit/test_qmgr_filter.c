/*
 * test_qmgr_filter.c - content_filter routing in the queue manager: a
 * CONTENT_FILTER record ("transport:nexthop") read from a queue file
 * sends every recipient to the filter instead of the resolver's answer,
 * batched under <transport>_destination_recipient_limit (a transport
 * name with a hyphen); an empty nexthop falls back to
 * default_filter_nexthop, then the recipient's domain; an invalid
 * record is ignored; bad addresses still bounce.
 *
 * The qmgr sources are compiled in directly (everything but main()), in
 * a private temporary queue directory; the resolver is a stand-in.
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

/* A temporary queue directory as cwd, main.cf text as given. */
static void
setup(const char *main_cf)
{
    char    tmpl[] = "/tmp/test_qmgr_filter.XXXXXX";
    const char *dirs[] = {"incoming", "active", "deferred", "corrupt", "bounce",
                          "defer", "private", 0};

    msg_init("qmgr", MSG_STDERR | MSG_NOSYSLOG);
    if (mkdtemp(tmpl) == 0 || chdir(tmpl) < 0)
        abort();
    for (int i = 0; dirs[i]; i++)
        mkdir(dirs[i], 0700);
    config_reset();
    config_load_text(main_cf, "test");
    mail_params_init();
    qmgr_params_init();
    qmgr_transport_list = 0;    /* limits are read when a transport is created */
}

/* active/id with n recipients; filter (if any) in the extracted section. */
static void
write_filtered(const char *id, const char **rcpts, int n, const char *filter)
{
    VSTRING *path = vstring_alloc(256);
    STREAM *s;
    long    data_off, xtra_off;

    s = stream_open(queue_path(path, "active", id), O_RDWR | O_CREAT | O_TRUNC, 0700);
    CHECK(s != 0);
    rec_size_put(s, 0L, 0L, 0L, 0L);
    rec_printf(s, REC_TYPE_TIME, "%ld 0", (long) time(0));
    rec_puts(s, REC_TYPE_FROM, "s@x.test");
    for (int i = 0; i < n; i++)
        rec_puts(s, REC_TYPE_RCPT, rcpts[i]);
    rec_puts(s, REC_TYPE_MESG, "");
    data_off = (long) stream_tell(s);
    rec_puts(s, REC_TYPE_NORM, "Subject: t");
    xtra_off = (long) stream_tell(s);
    rec_puts(s, REC_TYPE_XTRA, "");
    if (filter)
        rec_puts(s, REC_TYPE_CONTENT_FILTER, filter);
    rec_puts(s, REC_TYPE_END, "");
    stream_seek(s, 0);
    rec_size_put(s, data_off, xtra_off, (long) n, 0L);
    CHECK(stream_close(s) == 0);
    vstring_free(path);
}

/* Stand-in resolver: @local.test -> local, no '@' -> syntax error,
 * else smtp:domain. */
static int
fake_resolve(const char *sender, const char *addr, VSTRING *transport,
             VSTRING *nexthop, VSTRING *recipient, int *flags)
{
    const char *at = strrchr(addr, '@');

    vstring_strcpy(recipient, addr);
    *flags = at ? 0 : RESOLVE_FLAG_ERROR;
    vstring_strcpy(transport, at && strcmp(at, "@local.test") == 0 ? "local"
                   : at ? "smtp" : "error");
    vstring_strcpy(nexthop, at ? at + 1 : "bad");
    return 0;
}

static QMGR_MESSAGE *
activate(const char *id)
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
    qmgr_message_resolve_fn = fake_resolve;
    qmgr_message_group(msg);
    return msg;
}

static int
entry_count(QMGR_QUEUE *q)
{
    int     n = 0;

    for (QMGR_ENTRY *e = q ? q->todo_head : 0; e; e = e->next)
        n++;
    return n;
}

UNIT_TEST(filter_overrides_resolver)
{
    const char *r[] = {"a@example.com", "b@other.org", "c@local.test", "bad"};
    QMGR_MESSAGE *msg;
    QMGR_TRANSPORT *tr;
    QMGR_QUEUE *q;

    setup("smtp-amavis_destination_recipient_limit = 2\n");
    write_filtered("F1", r, 4, "smtp-amavis:[127.0.0.1]:10024");
    msg = activate("F1");
    CHECK(msg != 0);
    if (msg == 0)
        return;
    CHECK_STR(msg->filter, "smtp-amavis:[127.0.0.1]:10024");
    tr = qmgr_transport_find("smtp-amavis", 0);
    CHECK(tr != 0);
    if (tr == 0)
        return;
    CHECK_INT(tr->rcpt_limit, 2);
    q = qmgr_queue_find(tr, "[127.0.0.1]:10024", "", 0);
    CHECK(q != 0);
    CHECK_INT(entry_count(q), 2);       /* 3 recipients, 2 per request */
    if (q) {
        CHECK_STR(q->nexthop, "[127.0.0.1]:10024");
        CHECK_INT(q->todo_head->rcpt_count, 2);
    }
    CHECK(qmgr_transport_find("smtp", 0) == 0 || qmgr_transport_find("smtp", 0)->queues == 0);
    CHECK(qmgr_transport_find("local", 0) == 0 || qmgr_transport_find("local", 0)->queues == 0);
    CHECK_INT(msg->rcpt[3].state, QMGR_RCPT_BOUNCED);   /* syntax errors still bounce */
    CHECK_INT(msg->rcpt[2].state, QMGR_RCPT_BUSY);
}

UNIT_TEST(filter_empty_nexthop)
{
    const char *r[] = {"a@example.com", "b@other.org"};
    QMGR_TRANSPORT *tr;

    setup("");
    write_filtered("F2", r, 2, "scan:");
    CHECK(activate("F2") != 0);
    tr = qmgr_transport_find("scan", 0);
    CHECK(tr != 0);
    if (tr == 0)
        return;
    CHECK(qmgr_queue_find(tr, "example.com", "", 0) != 0);     /* recipient domain */
    CHECK(qmgr_queue_find(tr, "other.org", "", 0) != 0);

    setup("default_filter_nexthop = [192.0.2.9]:10024\n");
    write_filtered("F3", r, 2, "scan2:");
    CHECK(activate("F3") != 0);
    tr = qmgr_transport_find("scan2", 0);
    CHECK(tr != 0);
    if (tr)
        CHECK_INT(entry_count(qmgr_queue_find(tr, "[192.0.2.9]:10024", "", 0)), 1);
}

UNIT_TEST(filter_invalid_ignored)
{
    const char *r[] = {"a@example.com"};
    QMGR_MESSAGE *msg;

    setup("");
    write_filtered("F4", r, 1, "nocolon");
    msg = activate("F4");
    CHECK(msg != 0);
    if (msg == 0)
        return;
    CHECK(msg->filter == 0);
    CHECK(qmgr_transport_find("nocolon", 0) == 0);
    CHECK(qmgr_queue_find(qmgr_transport_find("smtp", 1), "example.com", "", 0) != 0);
}

UNIT_TESTS {
    {"filter_overrides_resolver", filter_overrides_resolver},
    {"filter_empty_nexthop", filter_empty_nexthop},
    {"filter_invalid_ignored", filter_invalid_ignored},
    UNIT_END
};
