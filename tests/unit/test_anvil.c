/*
 * test_anvil.c - anvil's counters (anvil/anvil_table.c) and protocol
 * (anvil/anvil_service.c), both compiled in directly, and the client's
 * fail-open behaviour (lib/anvil_clnt.c) when there is no anvil.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail_params.h"
#include "unit.h"
#include "anvil_clnt.h"
#include "attr.h"
#include "config.h"
#include "../../anvil/anvil_table.c"
#include "../../anvil/anvil_service.c"

#define T0 1000000000                   /* Sep 2001: any fixed time will do */

UNIT_TEST(connect_counts_and_rates)
{
    ANVIL_TABLE *t = anvil_table_create(60, 100);
    ANVIL_ENTRY *e;

    e = anvil_table_connect(t, "smtp:192.0.2.1", T0);
    CHECK(e != NULL);
    CHECK_INT(e->count, 1);
    CHECK_INT(e->rate[ANVIL_RATE_CONN], 1);
    e = anvil_table_connect(t, "smtp:192.0.2.1", T0 + 10);
    CHECK_INT(e->count, 2);
    CHECK_INT(e->rate[ANVIL_RATE_CONN], 2);
    /* another client and another service are counted apart */
    CHECK_INT(anvil_table_connect(t, "smtp:192.0.2.2", T0)->count, 1);
    CHECK_INT(anvil_table_connect(t, "submission:192.0.2.1", T0)->count, 1);
    CHECK_INT(anvil_table_disconnect(t, "smtp:192.0.2.1", T0 + 20), 0);
    CHECK_INT(anvil_table_find(t, "smtp:192.0.2.1", T0 + 20)->count, 1);
    CHECK_INT(anvil_table_disconnect(t, "smtp:192.0.2.1", T0 + 20), 0);
    /* never below zero; unknown idents are an error */
    CHECK_INT(anvil_table_disconnect(t, "smtp:192.0.2.1", T0 + 20), -1);
    CHECK_INT(anvil_table_disconnect(t, "smtp:198.51.100.1", T0 + 20), -1);
    CHECK_INT(anvil_table_find(t, "smtp:192.0.2.1", T0 + 20)->count, 0);
    anvil_table_free(t);
}

UNIT_TEST(rate_window_resets)
{
    ANVIL_TABLE *t = anvil_table_create(60, 100);
    ANVIL_ENTRY *e;

    for (int i = 1; i <= 5; i++)
        CHECK_INT(anvil_table_event(t, "smtp:192.0.2.1", ANVIL_RATE_MAIL, T0 + i)
                  ->rate[ANVIL_RATE_MAIL], i);
    CHECK_INT(anvil_table_event(t, "smtp:192.0.2.1", ANVIL_RATE_RCPT, T0 + 59)
              ->rate[ANVIL_RATE_RCPT], 1);
    /* the window started at T0+1: at T0+61 all rates start again */
    e = anvil_table_event(t, "smtp:192.0.2.1", ANVIL_RATE_RCPT, T0 + 61);
    CHECK_INT(e->rate[ANVIL_RATE_RCPT], 1);
    CHECK_INT(e->rate[ANVIL_RATE_MAIL], 0);
    /* a lookup after the window reads zero rates */
    e = anvil_table_find(t, "smtp:192.0.2.1", T0 + 200);
    CHECK_INT(e->rate[ANVIL_RATE_RCPT], 0);
    /* a clock that went back starts a new window too */
    e = anvil_table_event(t, "smtp:192.0.2.1", ANVIL_RATE_MAIL, T0);
    CHECK_INT(e->rate[ANVIL_RATE_MAIL], 1);
    /* connect is not an "event" kind; out of range kinds are refused */
    CHECK(anvil_table_event(t, "smtp:192.0.2.1", ANVIL_RATE_CONN, T0) == NULL);
    CHECK(anvil_table_event(t, "smtp:192.0.2.1", ANVIL_RATE_COUNT, T0) == NULL);
    CHECK(anvil_table_event(t, "smtp:192.0.2.1", -1, T0) == NULL);
    anvil_table_free(t);
}

UNIT_TEST(expire_keeps_busy_and_recent)
{
    ANVIL_TABLE *t = anvil_table_create(60, 100);

    (void) anvil_table_connect(t, "smtp:192.0.2.1", T0);       /* stays open */
    (void) anvil_table_connect(t, "smtp:192.0.2.2", T0);
    (void) anvil_table_disconnect(t, "smtp:192.0.2.2", T0);
    (void) anvil_table_event(t, "smtp:192.0.2.3", ANVIL_RATE_MAIL, T0 + 30);
    CHECK_INT(t->used, 3);
    CHECK_INT(anvil_table_expire(t, T0 + 59), 0);
    CHECK_INT(anvil_table_expire(t, T0 + 60), 1);               /* .2: idle, window over */
    CHECK(anvil_table_find(t, "smtp:192.0.2.2", T0 + 60) == NULL);
    CHECK_INT(anvil_table_expire(t, T0 + 90), 1);               /* .3 */
    CHECK_INT(anvil_table_expire(t, T0 + 100000), 0);           /* .1 still connected */
    CHECK_INT(t->used, 1);
    anvil_table_free(t);
}

UNIT_TEST(table_is_bounded)
{
    ANVIL_TABLE *t = anvil_table_create(60, 3);
    char    ident[64];

    for (int i = 0; i < 3; i++) {
        snprintf(ident, sizeof(ident), "smtp:10.0.0.%d", i);
        CHECK(anvil_table_connect(t, ident, T0) != NULL);
    }
    CHECK(anvil_table_connect(t, "smtp:10.0.0.99", T0) == NULL);
    CHECK(anvil_table_event(t, "smtp:10.0.0.99", ANVIL_RATE_MAIL, T0) == NULL);
    /* existing entries still count */
    CHECK_INT(anvil_table_connect(t, "smtp:10.0.0.1", T0)->count, 2);
    /* once one is idle and its window over, there is room again */
    (void) anvil_table_disconnect(t, "smtp:10.0.0.0", T0);
    CHECK(anvil_table_connect(t, "smtp:10.0.0.99", T0 + 60) != NULL);
    CHECK_INT(t->used, 3);
    anvil_table_free(t);
}

UNIT_TEST(many_entries_grow)
{
    ANVIL_TABLE *t = anvil_table_create(60, 10000);
    char    ident[64];

    for (int i = 0; i < 5000; i++) {
        snprintf(ident, sizeof(ident), "smtp:10.%d.%d.1", i / 256, i % 256);
        (void) anvil_table_event(t, ident, ANVIL_RATE_RCPT, T0);
    }
    CHECK_INT(t->used, 5000);
    CHECK(t->size > ANVIL_TABLE_MIN_BUCKETS);
    CHECK_INT(anvil_table_find(t, "smtp:10.3.3.1", T0)->rate[ANVIL_RATE_RCPT], 1);
    CHECK_INT(anvil_table_expire(t, T0 + 60), 5000);
    anvil_table_free(t);
}

UNIT_TEST(statistics_lines)
{
    ANVIL_TABLE *t = anvil_table_create(60, 100);
    ARGV   *lines = argv_alloc();
    struct tm tm = {.tm_year = 126, .tm_mon = 10, .tm_mday = 22, .tm_hour = 8, .tm_isdst = -1};
    time_t  when = mktime(&tm);        /* Nov 22 08:00:00 local time */

    anvil_table_stats(t, lines);
    CHECK_INT(lines->argc, 0);          /* no activity, no lines */
    (void) anvil_table_connect(t, "smtp:127.0.0.1", when);
    (void) anvil_table_connect(t, "smtp:127.0.0.2", when);
    (void) anvil_table_connect(t, "smtp:127.0.0.2", when + 1);
    (void) anvil_table_event(t, "smtp:127.0.0.1", ANVIL_RATE_MAIL, when + 2);
    (void) anvil_table_event(t, "smtp:127.0.0.1", ANVIL_RATE_RCPT, when + 3);
    (void) anvil_table_event(t, "smtp:127.0.0.1", ANVIL_RATE_RCPT, when + 3);
    anvil_table_stats(t, lines);
    CHECK_INT(lines->argc, 5);
    CHECK_STR(lines->argv[0],
              "statistics: max connection rate 2/60s for (smtp:127.0.0.2) at Nov 22 08:00:01");
    CHECK_STR(lines->argv[1],
              "statistics: max connection count 2 for (smtp:127.0.0.2) at Nov 22 08:00:01");
    CHECK_STR(lines->argv[2],
              "statistics: max message rate 1/60s for (smtp:127.0.0.1) at Nov 22 08:00:02");
    CHECK_STR(lines->argv[3],
              "statistics: max recipient rate 2/60s for (smtp:127.0.0.1) at Nov 22 08:00:03");
    CHECK_STR(lines->argv[4], "statistics: max cache size 2 at Nov 22 08:00:00");
    /* reset after each report */
    argv_free(lines);
    lines = argv_alloc();
    anvil_table_stats(t, lines);
    CHECK_INT(lines->argc, 0);
    argv_free(lines);
    anvil_table_free(t);
}

/* ---- the protocol, over a socketpair ---------------------------------- */

static STREAM *proto_server, *proto_client;

static void
proto_open(void)
{
    int     sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    proto_server = stream_fdopen(sv[0]);
    proto_client = stream_fdopen(sv[1]);
    stream_set_timeout(proto_server, 5);
    stream_set_timeout(proto_client, 5);
    CHECK_INT(anvil_greet(proto_server), 0);
    CHECK_INT(attr_expect_protocol(proto_client, PROTO_ANVIL), 0);
}

/* Send {request, ident}, serve it, return the reply's value of name. */
static long
proto_call(const char *request, const char *ident, const char *name)
{
    ATTR_LIST *req = attr_list_alloc();
    ATTR_LIST *rep = attr_list_alloc();
    long    value = -99, status = -99;

    attr_add(req, ATTR_REQUEST, request);
    if (ident)
        attr_add(req, ATTR_IDENT, ident);
    CHECK_INT(attr_write(proto_client, req), 0);
    CHECK_INT(anvil_service(proto_server), 0);
    CHECK_INT(attr_read(proto_client, rep), 1);
    CHECK_INT(attr_get_long(rep, ATTR_STATUS, &status), 0);
    if (strcmp(name, ATTR_STATUS) == 0)
        value = status;
    else
        (void) attr_get_long(rep, name, &value);
    attr_list_free(req);
    attr_list_free(rep);
    return value;
}

UNIT_TEST(protocol_requests)
{
    config_reset();
    anvil_init();
    proto_open();
    CHECK_INT(proto_call(ANVIL_REQ_CONN, "smtp:192.0.2.1", ATTR_COUNT), 1);
    CHECK_INT(proto_call(ANVIL_REQ_CONN, "smtp:192.0.2.1", ATTR_COUNT), 2);
    CHECK_INT(proto_call(ANVIL_REQ_CONN, "smtp:192.0.2.1", ATTR_RATE), 3);
    CHECK_INT(proto_call(ANVIL_REQ_DISC, "smtp:192.0.2.1", ATTR_STATUS), ANVIL_STAT_OK);
    CHECK_INT(proto_call(ANVIL_REQ_MAIL, "smtp:192.0.2.1", ATTR_RATE), 1);
    CHECK_INT(proto_call(ANVIL_REQ_MAIL, "smtp:192.0.2.1", ATTR_RATE), 2);
    CHECK_INT(proto_call(ANVIL_REQ_RCPT, "smtp:192.0.2.1", ATTR_RATE), 1);
    CHECK_INT(proto_call(ANVIL_REQ_NTLS, "smtp:192.0.2.1", ATTR_RATE), 1);
    CHECK_INT(proto_call(ANVIL_REQ_NTLS_STAT, "smtp:192.0.2.1", ATTR_RATE), 1);
    CHECK_INT(proto_call(ANVIL_REQ_AUTH, "smtp:192.0.2.1", ATTR_RATE), 1);
    CHECK_INT(proto_call(ANVIL_REQ_LOOKUP, "smtp:192.0.2.1", ATTR_COUNT), 2);
    CHECK_INT(proto_call(ANVIL_REQ_LOOKUP, "smtp:192.0.2.1", ATTR_ANVIL_MAIL), 2);
    CHECK_INT(proto_call(ANVIL_REQ_LOOKUP, "smtp:192.0.2.9", ATTR_COUNT), 0);
    /* bad requests: status -1, the connection stays usable */
    CHECK_INT(proto_call("bogus", "smtp:192.0.2.1", ATTR_STATUS), ANVIL_STAT_FAIL);
    CHECK_INT(proto_call(ANVIL_REQ_CONN, NULL, ATTR_STATUS), ANVIL_STAT_FAIL);
    CHECK_INT(proto_call(ANVIL_REQ_CONN, "", ATTR_STATUS), ANVIL_STAT_FAIL);
    /* a disconnect for an ident this client never connected is ignored */
    CHECK_INT(proto_call(ANVIL_REQ_DISC, "smtp:192.0.2.7", ATTR_STATUS), ANVIL_STAT_OK);
    CHECK_INT(proto_call(ANVIL_REQ_LOOKUP, "smtp:192.0.2.1", ATTR_COUNT), 2);
}

UNIT_TEST(protocol_client_gone_gives_back)
{
    STREAM *first_server, *first_client;

    config_reset();
    anvil_init();
    proto_open();
    first_server = proto_server;
    first_client = proto_client;
    CHECK_INT(proto_call(ANVIL_REQ_CONN, "smtp:192.0.2.1", ATTR_COUNT), 1);
    CHECK_INT(proto_call(ANVIL_REQ_CONN, "smtp:192.0.2.1", ATTR_COUNT), 2);
    CHECK_INT(proto_call(ANVIL_REQ_CONN, "smtp:192.0.2.5", ATTR_COUNT), 1);
    proto_open();                       /* a second smtpd */
    CHECK_INT(proto_call(ANVIL_REQ_CONN, "smtp:192.0.2.1", ATTR_COUNT), 3);
    /* the first one exits: its two connections from .1 and one from .5 go */
    (void) stream_close(first_client);
    CHECK_INT(anvil_service(first_server), -1);
    (void) stream_close(first_server);
    CHECK_INT(proto_call(ANVIL_REQ_LOOKUP, "smtp:192.0.2.1", ATTR_COUNT), 1);
    CHECK_INT(proto_call(ANVIL_REQ_LOOKUP, "smtp:192.0.2.5", ATTR_COUNT), 0);
}

UNIT_TEST(protocol_garbage_closes)
{
    config_reset();
    anvil_init();
    proto_open();
    /* a name longer than ATTR_MAX_NAME is a protocol error: drop the client */
    char    junk[300];

    memset(junk, 'x', sizeof(junk));
    (void) stream_write(proto_client, junk, sizeof(junk));
    (void) stream_flush(proto_client);
    CHECK_INT(anvil_service(proto_server), -1);
}

/* No anvil socket: every call fails at once, and the client backs off. */
UNIT_TEST(client_fails_open)
{
    char    dir[] = "/tmp/test_anvil.XXXXXX";
    int     count = -1, rate = -1;
    time_t  start = time(NULL);

    config_reset();
    mail_params_init();
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(chdir(dir), 0);
    CHECK_INT(anvil_clnt_connect("smtp", "192.0.2.1", &count, &rate), ANVIL_STAT_FAIL);
    CHECK_INT(anvil_clnt_mail("smtp", "192.0.2.1", &rate), ANVIL_STAT_FAIL);
    CHECK_INT(anvil_clnt_disconnect("smtp", "192.0.2.1"), ANVIL_STAT_FAIL);
    CHECK(time(NULL) - start < 3);
    CHECK_INT(count, -1);
    (void) rmdir(dir);
}

UNIT_TESTS {
    {"connect_counts_and_rates", connect_counts_and_rates},
    {"rate_window_resets", rate_window_resets},
    {"expire_keeps_busy_and_recent", expire_keeps_busy_and_recent},
    {"table_is_bounded", table_is_bounded},
    {"many_entries_grow", many_entries_grow},
    {"statistics_lines", statistics_lines},
    {"protocol_requests", protocol_requests},
    {"protocol_client_gone_gives_back", protocol_client_gone_gives_back},
    {"protocol_garbage_closes", protocol_garbage_closes},
    {"client_fails_open", client_fails_open},
    UNIT_END
};
