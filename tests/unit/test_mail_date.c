/*
 * test_mail_date.c - unit tests for lib/mail_date.c: Postfix's header
 * date, with the day of the month padded by a space.
 */
#include <stdlib.h>

#include "mail_date.h"
#include "unit.h"

static void
check_date(const char *tz, time_t when, const char *want)
{
    VSTRING *out = vstring_alloc(200);

    setenv("TZ", tz, 1);
    tzset();
    mail_date(out, when);
    CHECK_STR(STR(out), want);
    vstring_free(out);
}

UNIT_TEST(one_digit_day)
{
    check_date("UTC", 1796126400, "Tue,  1 Dec 2026 12:00:00 +0000 (UTC)");
    check_date("UTC", 1796126400 + 8 * 86400, "Wed,  9 Dec 2026 12:00:00 +0000 (UTC)");
}

UNIT_TEST(two_digit_day)
{
    check_date("UTC", 1796126400 + 9 * 86400, "Thu, 10 Dec 2026 12:00:00 +0000 (UTC)");
    check_date("UTC", 1700000000, "Tue, 14 Nov 2023 22:13:20 +0000 (UTC)");
}

UNIT_TEST(zone_offsets)
{
    check_date("CET-1CEST,M3.5.0,M10.5.0/3", 1796126400, "Tue,  1 Dec 2026 13:00:00 +0100 (CET)");
    check_date("EST5EDT,M3.2.0,M11.1.0", 1796126400, "Tue,  1 Dec 2026 07:00:00 -0500 (EST)");
    check_date("IST-5:30", 1796126400, "Tue,  1 Dec 2026 17:30:00 +0530 (IST)");
}

UNIT_TESTS {
    {"one_digit_day", one_digit_day},
    {"two_digit_day", two_digit_day},
    {"zone_offsets", zone_offsets},
    UNIT_END
};
