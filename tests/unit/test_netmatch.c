/*
 * test_netmatch.c - unit tests for lib/netmatch.c: CIDR blocks, single
 * addresses, IPv6 in brackets, negation, names, /file entries and tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "netmatch.h"
#include "unit.h"

UNIT_TEST(test_addr)
{
    CHECK_INT(netmatch_addr("127.0.0.0/8", "127.1.2.3"), 1);
    CHECK_INT(netmatch_addr("127.0.0.0/8", "128.0.0.1"), 0);
    CHECK_INT(netmatch_addr("10.1.2.3", "10.1.2.3"), 1);
    CHECK_INT(netmatch_addr("10.1.2.3", "10.1.2.4"), 0);
    CHECK_INT(netmatch_addr("[::1]/128", "::1"), 1);
    CHECK_INT(netmatch_addr("[::1]/128", "::2"), 0);
    CHECK_INT(netmatch_addr("[2001:db8::]/32", "2001:db8:1::5"), 1);
    CHECK_INT(netmatch_addr("[2001:db8::]/32", "2001:db9::5"), 0);
    CHECK_INT(netmatch_addr("[fe80::1]", "fe80::1"), 1);
    CHECK_INT(netmatch_addr("192.168.1.0/24", "::ffff:192.168.1.77"), 1);
    CHECK_INT(netmatch_addr("10.0.0.0/7", "11.255.0.1"), 1);
    CHECK_INT(netmatch_addr("0.0.0.0/0", "8.8.8.8"), 1);
    CHECK_INT(netmatch_addr("10.0.0.0/33", "10.0.0.1"), -1);
    CHECK_INT(netmatch_addr("example.com", "10.0.0.1"), -1);
    CHECK_INT(netmatch_addr("127.0.0.0/8", "::1"), 0);
}

UNIT_TEST(test_list)
{
    NETMATCH *nm = netmatch_create("mynetworks", "127.0.0.0/8, [::1]/128 192.168.0.0/16");

    CHECK_INT(netmatch_match(nm, "localhost", "127.0.0.1"), 1);
    CHECK_INT(netmatch_match(nm, NULL, "::1"), 1);
    CHECK_INT(netmatch_match(nm, "unknown", "192.168.44.1"), 1);
    CHECK_INT(netmatch_match(nm, "unknown", "10.0.0.1"), 0);
    netmatch_free(nm);
}

UNIT_TEST(test_negate_and_names)
{
    NETMATCH *nm = netmatch_create("t", "!10.0.0.5 10.0.0.0/8 example.com .sub.example.org");

    CHECK_INT(netmatch_match(nm, "unknown", "10.0.0.5"), 0);
    CHECK_INT(netmatch_match(nm, "unknown", "10.0.0.6"), 1);
    CHECK_INT(netmatch_match(nm, "mail.example.com", "1.2.3.4"), 1);
    CHECK_INT(netmatch_match(nm, "example.com", "1.2.3.4"), 1);
    CHECK_INT(netmatch_match(nm, "badexample.com", "1.2.3.4"), 0);
    CHECK_INT(netmatch_match(nm, "a.sub.example.org", "1.2.3.4"), 1);
    CHECK_INT(netmatch_match(nm, "sub.example.org", "1.2.3.4"), 0);
    CHECK_INT(netmatch_match(nm, "unknown", "1.2.3.4"), 0);
    netmatch_free(nm);
}

UNIT_TEST(test_file)
{
    char    path[] = "/tmp/netmatch_testXXXXXX";
    int     fd = mkstemp(path);
    FILE   *fp = fdopen(fd, "w");
    char    spec[256];

    fprintf(fp, "# comment\n172.16.0.0/12\n[2001:db8::]/32 # trailing\n");
    fclose(fp);
    snprintf(spec, sizeof(spec), "127.0.0.1 %s", path);
    NETMATCH *nm = netmatch_create("t", spec);
    CHECK_INT(netmatch_match(nm, NULL, "172.20.1.1"), 1);
    CHECK_INT(netmatch_match(nm, NULL, "2001:db8::9"), 1);
    CHECK_INT(netmatch_match(nm, NULL, "127.0.0.1"), 1);
    CHECK_INT(netmatch_match(nm, NULL, "8.8.8.8"), 0);
    netmatch_free(nm);
    unlink(path);
}

UNIT_TEST(test_table)
{
    NETMATCH *nm = netmatch_create("t", "inline:{ 10.9.8.7=ok, host.example=ok }");

    CHECK_INT(netmatch_match(nm, "unknown", "10.9.8.7"), 1);
    CHECK_INT(netmatch_match(nm, "host.example", "1.1.1.1"), 1);
    CHECK_INT(netmatch_match(nm, "other.example", "1.1.1.1"), 0);
    netmatch_free(nm);
}

UNIT_TESTS {
    {"addr", test_addr},
    {"list", test_list},
    {"negate_and_names", test_negate_and_names},
    {"file", test_file},
    {"table", test_table},
    UNIT_END
};
