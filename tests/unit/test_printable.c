/*
 * test_printable.c - printable_fix() (lib/printable.c): control and 8-bit
 * bytes become '?', well-formed UTF-8 stays when allowed.
 */
#include <string.h>

#include "printable.h"
#include "unit.h"

static const char *
fix(const char *in, int utf8)
{
    static char buf[256];

    strcpy(buf, in);
    return printable_fix(buf, utf8);
}

UNIT_TEST(test_ascii)
{
    CHECK_STR(fix("host.example", 0), "host.example");
    CHECK_STR(fix("a\x01" "b\x7f" "c\r\n\t", 0), "a?b?c???");
    CHECK_STR(fix("\xc3\xa4", 0), "??");
}

UNIT_TEST(test_utf8)
{
    CHECK_STR(fix("m\xc3\xbcnchen", 1), "m\xc3\xbcnchen");
    CHECK_STR(fix("\xe2\x82\xac \xf0\x9f\x98\x80", 1), "\xe2\x82\xac \xf0\x9f\x98\x80");
    CHECK_STR(fix("\xff\xfe", 1), "??");                   /* never UTF-8 */
    CHECK_STR(fix("\xc0\xaf", 1), "??");                   /* overlong */
    CHECK_STR(fix("\xed\xa0\x80", 1), "???");              /* surrogate */
    CHECK_STR(fix("x\xe2\x82", 1), "x??");                 /* cut short */
    CHECK_STR(fix("\x01\xc3\xa4", 1), "?\xc3\xa4");
}

UNIT_TESTS {
    {"test_ascii", test_ascii},
    {"test_utf8", test_utf8},
    UNIT_END
};
