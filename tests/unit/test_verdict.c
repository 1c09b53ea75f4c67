/*
 * test_verdict.c - unit tests for lib/global/verdict.c and dsn_util.c:
 * the error, retry and discard agents' verdict, and the status code at
 * the start of their next hop.
 */
#include <string.h>

#include "dsn_util.h"
#include "mem.h"
#include "msg.h"
#include "mail_params.h"
#include "unit.h"
#include "verdict.h"

UNIT_TEST(test_split_with_code)
{
    char    dsn[16];

    CHECK_STR(dsn_split("5.1.1 no such user", '5', dsn, sizeof(dsn)), "no such user");
    CHECK_STR(dsn, "5.1.1");
    /* the class is the verdict's: retry defers, discard delivers */
    CHECK_STR(dsn_split("  5.7.1\tnot here", '4', dsn, sizeof(dsn)), "not here");
    CHECK_STR(dsn, "4.7.1");
    CHECK_STR(dsn_split("4.123.45", '2', dsn, sizeof(dsn)), "");
    CHECK_STR(dsn, "2.123.45");
}

UNIT_TEST(test_split_without_code)
{
    char    dsn[16];

    CHECK_STR(dsn_split("mail for this domain is not accepted", '5', dsn, sizeof(dsn)),
              "mail for this domain is not accepted");
    CHECK_STR(dsn, "5.0.0");
    CHECK_STR(dsn_split("5.1.1234 too long a part", '5', dsn, sizeof(dsn)),
              "5.1.1234 too long a part");
    CHECK_STR(dsn, "5.0.0");
    CHECK_STR(dsn_split("3.1.1 bad class", '4', dsn, sizeof(dsn)), "3.1.1 bad class");
    CHECK_STR(dsn, "4.0.0");
    CHECK_STR(dsn_split("5.1.1x", '5', dsn, sizeof(dsn)), "5.1.1x");
    CHECK_STR(dsn_split(NULL, '2', dsn, sizeof(dsn)), "");
    CHECK_STR(dsn, "2.0.0");
    CHECK_STR(dsn_split("5.1.1 fits not", '5', dsn, 5), "5.1.1 fits not");
    CHECK_STR(dsn, "5.0.");                                 /* cut to dsnlen */
}

/* A request of two recipients for nexthop; the verdict of recipient i. */
static void
verdict_check(const char *nexthop, int status, const char *dsn, const char *reason)
{
    DELIVER_RCPT rcpt[2];
    DELIVER_REQUEST req;

    memset(&req, 0, sizeof(req));
    memset(rcpt, 0, sizeof(rcpt));
    req.queue_id = "3F2A81C0B7";
    req.nexthop = (char *) nexthop;
    req.rcpt_count = 2;
    req.rcpt = rcpt;
    rcpt[0].address = rcpt[0].orig_rcpt = "a@x.example";
    rcpt[1].address = rcpt[1].orig_rcpt = "b@x.example";
    rcpt[0].status = rcpt[1].status = -1;
    verdict_deliver(&req, status, "the default");
    for (int i = 0; i < 2; i++) {
        CHECK_INT(rcpt[i].status, status);
        CHECK_STR(rcpt[i].dsn, dsn);
        CHECK_STR(rcpt[i].reason, reason);
        mem_free(rcpt[i].reason);
    }
}

UNIT_TEST(test_verdict_deliver)
{
    msg_init("error", MSG_NOSYSLOG);
    mail_params_init();                 /* the to= line's delay resolution */
    verdict_check("5.1.1 no such user", DELIVER_BOUNCE, "5.1.1", "no such user");
    verdict_check("5.1.1 no such user", DELIVER_DEFER, "4.1.1", "no such user");
    verdict_check("mail for this domain is not accepted", DELIVER_BOUNCE, "5.0.0",
                  "mail for this domain is not accepted");
    verdict_check("", DELIVER_SENT, "2.0.0", "the default");
    verdict_check("4.7.1 ", DELIVER_SENT, "2.7.1", "the default");
}

UNIT_TESTS {
    {"test_split_with_code", test_split_with_code},
    {"test_split_without_code", test_split_without_code},
    {"test_verdict_deliver", test_verdict_deliver},
    UNIT_END
};
