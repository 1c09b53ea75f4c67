/*
 * test_dsn_util.c - unit tests for lib/global/dsn_util.c: the status code
 * at the start of an error/discard next hop.
 */
#include <string.h>

#include "dsn_util.h"
#include "unit.h"

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

UNIT_TESTS {
    {"test_split_with_code", test_split_with_code},
    {"test_split_without_code", test_split_without_code},
    UNIT_END
};
