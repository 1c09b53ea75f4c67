/*
 * test_xtext.c - RFC 3461 xtext (lib/xtext.c): encoding, decoding with
 * control characters refused, ORCPT values and address types.
 */
#include "unit.h"
#include "vstring.h"
#include "xtext.h"

UNIT_TEST(test_encode)
{
    VSTRING *v = vstring_alloc(100);

    xtext_encode(v, "a+b=c d\x01");
    CHECK_STR(STR(v), "a+2Bb+3Dc+20d+01");
    vstring_reset(v);
    xtext_encode_n(v, "\r\n\x7f\xff!~", 6);
    CHECK_STR(STR(v), "+0D+0A+7F+FF!~");
    vstring_free(v);
}

UNIT_TEST(test_decode)
{
    VSTRING *v = vstring_alloc(100);

    CHECK_INT(xtext_decode(v, "a+2Bb+3dc", 9), 0);
    CHECK_STR(STR(v), "a+b=c");
    CHECK_INT(xtext_decode(v, "a+0Db", 5), -1);         /* decoded CR */
    CHECK_INT(xtext_decode(v, "a+7F", 4), -1);          /* decoded DEL */
    CHECK_INT(xtext_decode(v, "a\rb", 3), -1);          /* raw CR */
    CHECK_INT(xtext_decode(v, "a=b", 3), -1);
    CHECK_INT(xtext_decode(v, "a b", 3), -1);
    CHECK_INT(xtext_decode(v, "ab+2", 4), -1);
    CHECK_INT(xtext_decode(v, "ab+2B", 4), -1);         /* cut by len */
    CHECK_INT(xtext_decode(v, "ab+zz", 5), -1);
    vstring_free(v);
}

UNIT_TEST(test_orcpt)
{
    VSTRING *v = vstring_alloc(100);

    xtext_orcpt(v, "rfc822;a+b@x");
    CHECK_STR(STR(v), "rfc822;a+2Bb@x");
    vstring_reset(v);
    xtext_orcpt(v, "rf\rc;a@x");
    CHECK_STR(STR(v), "rf+0Dc;a@x");
    vstring_reset(v);
    xtext_orcpt(v, "a@x");
    CHECK_STR(STR(v), "rfc822;a@x");
    CHECK(xtext_addr_type_ok("rfc822", 6));
    CHECK(xtext_addr_type_ok("utf-8", 5));
    CHECK(!xtext_addr_type_ok("rfc\r822", 7));
    CHECK(!xtext_addr_type_ok("rfc 822", 7));
    CHECK(!xtext_addr_type_ok("a+b", 3));
    CHECK(!xtext_addr_type_ok("", 0));
    vstring_free(v);
}

UNIT_TESTS {
    {"test_encode", test_encode},
    {"test_decode", test_decode},
    {"test_orcpt", test_orcpt},
    UNIT_END
};
