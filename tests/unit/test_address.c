/*
 * test_address.c - unit tests for lib/address.c: SMTP address parsing
 * (brackets, no brackets, <>, quoted local parts, source routes, overlong
 * input), quoting, and header address lists.
 */
#include <string.h>

#include "address.h"
#include "argv.h"
#include "mem.h"
#include "unit.h"
#include "vstring.h"

static int
parse(const char *arg, VSTRING *out, const char **rest)
{
    return address_parse_smtp(arg, out, rest);
}

UNIT_TEST(test_brackets)
{
    VSTRING *out = vstring_alloc(ADDRESS_MAX);
    const char *rest;

    CHECK_INT(parse("<user@example.com>", out, &rest), 0);
    CHECK_STR(STR(out), "user@example.com");
    CHECK_STR(rest, "");
    CHECK_INT(parse("<a@b> SIZE=100 BODY=8BITMIME", out, &rest), 0);
    CHECK_STR(STR(out), "a@b");
    CHECK_STR(rest, "SIZE=100 BODY=8BITMIME");
    CHECK_INT(parse(" <a@b>", out, &rest), 0);
    CHECK_STR(STR(out), "a@b");
    CHECK_INT(parse("<>", out, &rest), 0);
    CHECK_STR(STR(out), "");
    vstring_free(out);
}

UNIT_TEST(test_no_brackets)
{
    VSTRING *out = vstring_alloc(ADDRESS_MAX);
    const char *rest;

    CHECK_INT(parse("jonas", out, &rest), 0);
    CHECK_STR(STR(out), "jonas");
    CHECK_INT(parse(" jonas@example.com SIZE=5", out, &rest), 0);
    CHECK_STR(STR(out), "jonas@example.com");
    CHECK_STR(rest, "SIZE=5");
    CHECK_INT(parse("", out, &rest), -1);
    vstring_free(out);
}

UNIT_TEST(test_quoted)
{
    VSTRING *out = vstring_alloc(ADDRESS_MAX);
    VSTRING *q = vstring_alloc(ADDRESS_MAX * 2);
    const char *rest;

    CHECK_INT(parse("<\"john doe\"@example.com>", out, &rest), 0);
    CHECK_STR(STR(out), "john doe@example.com");
    CHECK_STR(address_quote(q, STR(out)), "\"john doe\"@example.com");
    CHECK_INT(parse("<\"a\\\"b\"@x>", out, &rest), 0);
    CHECK_STR(STR(out), "a\"b@x");
    CHECK_STR(address_quote(q, STR(out)), "\"a\\\"b\"@x");
    CHECK_INT(parse("<\"a>b\"@x>", out, &rest), 0);
    CHECK_STR(STR(out), "a>b@x");
    CHECK_INT(parse("<\"unterminated@x>", out, &rest), -1);
    CHECK_STR(address_quote(q, "plain.user@x"), "plain.user@x");
    CHECK_STR(address_quote(q, "a..b@x"), "\"a..b\"@x");
    CHECK_STR(address_quote(q, ""), "");
    CHECK_STR(address_unquote(q, "\"john doe\"@x"), "john doe@x");
    vstring_free(out);
    vstring_free(q);
}

UNIT_TEST(test_source_route)
{
    VSTRING *out = vstring_alloc(ADDRESS_MAX);
    const char *rest;

    CHECK_INT(parse("<@a.example,@b.example:user@c.example>", out, &rest), 0);
    CHECK_STR(STR(out), "user@c.example");
    CHECK_INT(parse("<@a.example>", out, &rest), -1);
    vstring_free(out);
}

UNIT_TEST(test_bad)
{
    VSTRING *out = vstring_alloc(ADDRESS_MAX);
    const char *rest;

    CHECK_INT(parse("<a@b", out, &rest), -1);
    CHECK_INT(parse("<a<b>>", out, &rest), -1);
    CHECK_INT(parse("<a@b>junk", out, &rest), -1);
    CHECK_INT(parse("<a\001b@x>", out, &rest), -1);
    CHECK_INT(parse("a@b>", out, &rest), -1);
    vstring_free(out);
}

UNIT_TEST(test_overlong)
{
    VSTRING *out = vstring_alloc(ADDRESS_MAX);
    char   *big = mem_alloc(ADDRESS_MAX * 3);
    const char *rest;

    big[0] = '<';
    memset(big + 1, 'a', ADDRESS_MAX + 10);
    strcpy(big + 1 + ADDRESS_MAX + 10, "@x>");
    CHECK_INT(parse(big, out, &rest), -1);
    CHECK_INT(parse(big + 1, out, &rest), -1);
    /* exactly at the limit is fine */
    memset(big + 1, 'a', ADDRESS_MAX - 2);
    strcpy(big + 1 + ADDRESS_MAX - 2, "@x>");
    CHECK_INT(parse(big, out, &rest), 0);
    CHECK_INT(LEN(out), ADDRESS_MAX);
    memset(big + 1, 'a', ADDRESS_MAX - 3);
    strcpy(big + 1 + ADDRESS_MAX - 3, "@x>");
    CHECK_INT(parse(big, out, &rest), 0);
    CHECK_INT(LEN(out), ADDRESS_MAX - 1);
    mem_free(big);
    vstring_free(out);
}

UNIT_TEST(test_parts)
{
    VSTRING *lp = vstring_alloc(ADDRESS_MAX);
    char    addr[] = "User@Example.COM";

    CHECK_STR(address_domain("a@b@c"), "c");
    CHECK(address_domain("jonas") == NULL);
    CHECK_STR(address_localpart(lp, "a@b@c"), "a@b");
    address_fold_domain(addr);
    CHECK_STR(addr, "User@example.com");
    vstring_free(lp);
}

UNIT_TEST(test_header_list)
{
    ARGV   *a = argv_alloc();

    CHECK_INT(address_parse_header_list("A <a@x>, b@y (comment), \"q, r\" <c@z>", a, 10), 3);
    CHECK_STR(a->argv[0], "a@x");
    CHECK_STR(a->argv[1], "b@y");
    CHECK_STR(a->argv[2], "c@z");
    argv_free(a);
    a = argv_alloc();
    CHECK_INT(address_parse_header_list("group: d@x, e@y;", a, 10), 2);
    CHECK_STR(a->argv[0], "d@x");
    CHECK_STR(a->argv[1], "e@y");
    argv_free(a);
    a = argv_alloc();
    CHECK_INT(address_parse_header_list("a@x, b@x, c@x", a, 2), 2);
    argv_free(a);

    /* Separators inside comments, escaped quotes and angle brackets do
     * not split; "<" in a comment or a quoted phrase is not an address. */
    a = argv_alloc();
    CHECK_INT(address_parse_header_list("x@y (a, b: <no@no>), \"p\\\" <q,\" <r@s>, "
                                        "(c (nested, <n@n>)) t@u, <v@w (x, y)>", a, 10), 4);
    CHECK_STR(a->argv[0], "x@y");
    CHECK_STR(a->argv[1], "r@s");
    CHECK_STR(a->argv[2], "t@u");
    CHECK_STR(a->argv[3], "v@w");
    argv_free(a);
    /* An unterminated quote or comment ends at the end of the value. */
    a = argv_alloc();
    CHECK_INT(address_parse_header_list("a@b, \"open, c@d", a, 10), 2);
    CHECK_STR(a->argv[0], "a@b");
    argv_free(a);
}

UNIT_TESTS {
    {"brackets", test_brackets},
    {"no_brackets", test_no_brackets},
    {"quoted", test_quoted},
    {"source_route", test_source_route},
    {"bad", test_bad},
    {"overlong", test_overlong},
    {"parts", test_parts},
    {"header_list", test_header_list},
    UNIT_END
};
