/*
 * test_netmatch.c - unit tests for lib/netmatch.c: CIDR blocks, single
 * addresses, IPv6 in brackets, negation, names, /file entries and tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "netmatch.h"
#include "unit.h"

static long
addr(void *unused, const char *pattern, const char *address)
{
    return netmatch_addr(pattern, address);
}

/* ctx: the NETMATCH list; a: the client name, b: its address */
static long
match(void *ctx, const char *name, const char *address)
{
    return netmatch_match(ctx, name, address);
}

UNIT_TEST(test_addr)
{
    static const UNIT_PAIR rows[] = {
        {"127.0.0.0/8", "127.1.2.3", 1},
        {"127.0.0.0/8", "128.0.0.1", 0},
        {"10.1.2.3", "10.1.2.3", 1},
        {"10.1.2.3", "10.1.2.4", 0},
        {"[::1]/128", "::1", 1},
        {"[::1]/128", "::2", 0},
        {"[2001:db8::]/32", "2001:db8:1::5", 1},
        {"[2001:db8::]/32", "2001:db9::5", 0},
        {"[fe80::1]", "fe80::1", 1},
        {"192.168.1.0/24", "::ffff:192.168.1.77", 1},
        {"10.0.0.0/7", "11.255.0.1", 1},
        {"0.0.0.0/0", "8.8.8.8", 1},
        {"10.0.0.0/33", "10.0.0.1", -1},
        {"example.com", "10.0.0.1", -1},
        {"127.0.0.0/8", "::1", 0},
    };

    UNIT_CHECK_PAIRS(addr, 0, rows);
}

UNIT_TEST(test_list)
{
    NETMATCH *nm = netmatch_create("mynetworks", "127.0.0.0/8, [::1]/128 192.168.0.0/16");

    static const UNIT_PAIR rows[] = {
        {"localhost", "127.0.0.1", 1},
        {NULL, "::1", 1},
        {"unknown", "192.168.44.1", 1},
        {"unknown", "10.0.0.1", 0},
    };

    UNIT_CHECK_PAIRS(match, nm, rows);
    netmatch_free(nm);
}

UNIT_TEST(test_negate_and_names)
{
    NETMATCH *nm = netmatch_create("t", "!10.0.0.5 10.0.0.0/8 example.com .sub.example.org");

    static const UNIT_PAIR rows[] = {
        {"unknown", "10.0.0.5", 0},
        {"unknown", "10.0.0.6", 1},
        {"mail.example.com", "1.2.3.4", 1},
        {"example.com", "1.2.3.4", 1},
        {"badexample.com", "1.2.3.4", 0},
        {"a.sub.example.org", "1.2.3.4", 1},
        {"sub.example.org", "1.2.3.4", 0},
        {"unknown", "1.2.3.4", 0},
    };

    UNIT_CHECK_PAIRS(match, nm, rows);
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
    static const UNIT_PAIR rows[] = {
        {NULL, "172.20.1.1", 1},
        {NULL, "2001:db8::9", 1},
        {NULL, "127.0.0.1", 1},
        {NULL, "8.8.8.8", 0},
    };

    UNIT_CHECK_PAIRS(match, nm, rows);
    netmatch_free(nm);
    unlink(path);
}

UNIT_TEST(test_table)
{
    NETMATCH *nm = netmatch_create("t", "inline:{ 10.9.8.7=ok, host.example=ok }");

    static const UNIT_PAIR rows[] = {
        {"unknown", "10.9.8.7", 1},
        {"host.example", "1.1.1.1", 1},
        {"other.example", "1.1.1.1", 0},
    };

    UNIT_CHECK_PAIRS(match, nm, rows);
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
