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
#include "unit.h"
#include "qmgr_fixture.h"

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

/* active/id with n recipients, filter (if any) in the extracted section,
 * loaded and grouped as the scan does (null, a failed CHECK, if not). */
static QMGR_MESSAGE *
filtered(const char *id, const char **rcpts, int n, const char *filter)
{
    QMGR_MESSAGE *msg;

    qmgr_test_write("active", id, "s@x.test", rcpts, n, time(0), 0, filter);
    msg = qmgr_test_activate(id, fake_resolve);
    CHECK(msg != 0);
    return msg;
}

UNIT_TEST(filter_overrides_resolver)
{
    const char *r[] = {"a@example.com", "b@other.org", "c@local.test", "bad"};
    QMGR_MESSAGE *msg;
    QMGR_TRANSPORT *tr;
    QMGR_QUEUE *q;

    qmgr_test_setup("smtp-amavis_destination_recipient_limit = 2\n");
    msg = filtered("F1", r, 4, "smtp-amavis:[127.0.0.1]:10024");
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
    CHECK_INT(qmgr_test_entries(q), 2);       /* 3 recipients, 2 per request */
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

    qmgr_test_setup("");
    filtered("F2", r, 2, "scan:");
    tr = qmgr_transport_find("scan", 0);
    CHECK(tr != 0);
    if (tr == 0)
        return;
    CHECK(qmgr_queue_find(tr, "example.com", "", 0) != 0);     /* recipient domain */
    CHECK(qmgr_queue_find(tr, "other.org", "", 0) != 0);

    qmgr_test_setup("default_filter_nexthop = [192.0.2.9]:10024\n");
    filtered("F3", r, 2, "scan2:");
    tr = qmgr_transport_find("scan2", 0);
    CHECK(tr != 0);
    if (tr)
        CHECK_INT(qmgr_test_entries(qmgr_queue_find(tr, "[192.0.2.9]:10024", "", 0)), 1);
}

UNIT_TEST(filter_invalid_ignored)
{
    const char *r[] = {"a@example.com"};
    QMGR_MESSAGE *msg;

    qmgr_test_setup("");
    msg = filtered("F4", r, 1, "nocolon");
    if (msg == 0)
        return;
    CHECK(msg->filter == 0);
    CHECK(qmgr_transport_find("nocolon", 0) == 0);
    CHECK(qmgr_queue_find(qmgr_transport_find("smtp", 1), "example.com", "", 0) != 0);
}

/* A queue file of an earlier posthorn: its content filter in an 'f'
 * record (Postfix's flags letter, which never holds a colon). */
UNIT_TEST(filter_of_earlier_posthorn_kept)
{
    const char *r[] = {"a@example.com"};
    QMGR_MESSAGE *msg;

    qmgr_test_setup("");
    qmgr_test_filter_type = REC_TYPE_FLGS;
    msg = filtered("F5", r, 1, "smtp-amavis:[127.0.0.1]:10024");
    qmgr_test_filter_type = REC_TYPE_CONTENT_FILTER;
    if (msg == 0)
        return;
    CHECK_STR(msg->filter, "smtp-amavis:[127.0.0.1]:10024");
}

UNIT_TESTS {
    {"filter_overrides_resolver", filter_overrides_resolver},
    {"filter_empty_nexthop", filter_empty_nexthop},
    {"filter_invalid_ignored", filter_invalid_ignored},
    {"filter_of_earlier_posthorn_kept", filter_of_earlier_posthorn_kept},
    UNIT_END
};
