/*
 * test_cidr_match.c - unit tests for lib/util/cidr_match.c: every form
 * mynetworks and cidr: tables accept, Debian's mynetworks among them.
 */
#include <arpa/inet.h>
#include <string.h>

#include "cidr_match.h"
#include "unit.h"

/* 1 when addr is in pattern, 0 when not, -1 when pattern is bad. */
static long
in(void *unused, const char *pattern, const char *addr)
{
    CIDR_MATCH c;
    unsigned char a[16];
    char    why[256];

    if (cidr_match_parse(&c, pattern, why, sizeof(why)) != CIDR_OK)
        return -1;
    return cidr_match_execute(&c, cidr_match_addr(addr, a), a);
}

UNIT_TEST(test_debian_mynetworks)
{
    /* 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128 */
    static const UNIT_PAIR rows[] = {
        {"127.0.0.0/8", "127.1.2.3", 1},
        {"[::ffff:127.0.0.0]/104", "127.0.0.9", 1},
        {"[::ffff:127.0.0.0]/104", "::ffff:127.0.0.9", 1},
        {"[::ffff:127.0.0.0]/104", "128.0.0.1", 0},
        {"[::1]/128", "::1", 1},
        {"[::1]/128", "[::1]", 1},
        {"[::1]/128", "127.0.0.1", 0},
    };

    UNIT_CHECK_PAIRS(in, 0, rows);
}

UNIT_TEST(test_forms)
{
    static const UNIT_PAIR rows[] = {
        {"192.0.2.0/24", "192.0.2.200", 1},
        {"192.0.2.7", "192.0.2.7", 1},
        {"192.0.2.7", "192.0.2.8", 0},
        {"2001:db8::/32", "2001:db8:1::5", 1},
        {"[2001:db8::]/32", "2001:db8:1::5", 1},
        {"[2001:db8::/32]", "2001:db8:1::5", 1},
        {"2001:db8::/32", "2001:db9::5", 0},
        {"0.0.0.0/0", "203.0.113.1", 1},
        {"::/0", "203.0.113.1", 0},    /* families never mix */
        {"10.0.0.0/9", "10.127.255.255", 1},
        {"10.0.0.0/9", "10.128.0.0", 0},
    };

    UNIT_CHECK_PAIRS(in, 0, rows);
}

UNIT_TEST(test_bad_and_hostbits)
{
    CIDR_MATCH c;
    char    why[256];
    char    text[INET6_ADDRSTRLEN];

    CHECK_INT(cidr_match_parse(&c, "192.0.2.0/33", why, sizeof(why)), CIDR_BAD);
    CHECK_INT(cidr_match_parse(&c, "192.0.2.0/", why, sizeof(why)), CIDR_BAD);
    CHECK_INT(cidr_match_parse(&c, "example.com", why, sizeof(why)), CIDR_BAD);
    CHECK_INT(cidr_match_parse(&c, "hash:/etc/postfix/net", why, sizeof(why)), CIDR_BAD);
    CHECK_INT(cidr_match_parse(&c, "[::ffff:127.0.0.0]/64", why, sizeof(why)), CIDR_BAD);
    CHECK_INT(cidr_match_parse(&c, "192.0.2.0/24]", why, sizeof(why)), CIDR_BAD);
    CHECK_INT(cidr_match_parse(&c, "192.0.2.1/24", why, sizeof(why)), CIDR_HOSTBITS);
    CHECK(strstr(why, "perhaps you should use \"192.0.2.0/24\" instead") != NULL);
    inet_ntop(c.family, c.net, text, sizeof(text));
    CHECK_STR(text, "192.0.2.0");                       /* usable network */
    CHECK_INT(cidr_match_addr("not-an-address", (unsigned char[16]) {0}), 0);
}

UNIT_TESTS {
    {"test_debian_mynetworks", test_debian_mynetworks},
    {"test_forms", test_forms},
    {"test_bad_and_hostbits", test_bad_and_hostbits},
    UNIT_END
};
