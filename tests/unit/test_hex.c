/*
 * test_hex.c - hexadecimal digits and byte strings (lib/util/hex.c).
 */
#include "unit.h"
#include "hex.h"

UNIT_TEST(digits)
{
    CHECK_INT(hex_digit('0'), 0);
    CHECK_INT(hex_digit('9'), 9);
    CHECK_INT(hex_digit('a'), 10);
    CHECK_INT(hex_digit('F'), 15);
    CHECK_INT(hex_digit('g'), -1);
    CHECK_INT(hex_digit(0), -1);
    CHECK_INT(hex_digit(0xe4), -1);
}

UNIT_TEST(round_trip)
{
    VSTRING *hex = vstring_alloc(100), *bin = vstring_alloc(100), *small = vstring_alloc(1);
    const unsigned char data[] = {0x00, 0x7f, 0x80, 0xff, 0x0a};

    hex_encode(hex, data, sizeof(data));
    CHECK_STR(STR(hex), "007F80FF0A");
    CHECK_INT(hex_decode(bin, STR(hex)), 0);
    CHECK_INT(LEN(bin), sizeof(data));
    CHECK(memcmp(STR(bin), data, sizeof(data)) == 0);
    CHECK_INT(hex_decode(bin, "007f80ff0a"), 0);        /* either case */
    CHECK_INT(hex_decode(bin, ""), 0);
    CHECK_INT(LEN(bin), 0);
    CHECK_INT(hex_decode(bin, "abc"), -1);              /* odd */
    CHECK_INT(hex_decode(bin, "zz"), -1);
    CHECK_INT(hex_decode(small, "0102"), -1);           /* over the maximum */
    vstring_free(hex);
    vstring_free(bin);
    vstring_free(small);
}

UNIT_TESTS {
    {"digits", digits},
    {"round_trip", round_trip},
    UNIT_END
};
