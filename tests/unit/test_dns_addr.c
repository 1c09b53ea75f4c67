/*
 * test_dns_addr.c - lib/dns/dns_addr.c with numeric addresses only (no
 * network): host to socket addresses with the port set, numeric text,
 * forward confirmation, reversed DNSBL query names, service ports, and
 * the reason texts of failed lookups.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

#include "dns.h"
#include "unit.h"

UNIT_TEST(test_host_addrs_numeric)
{
    DNS_ADDR_LIST list;
    VSTRING *why = vstring_alloc(1000);
    char    addr[NI_MAXHOST], port[NI_MAXSERV];

    dns_addr_list_init(&list);
    CHECK_INT(dns_host_addrs("192.0.2.9", AF_UNSPEC, 2525, &list, why), DNS_OK);
    CHECK_INT(list.count, 1);
    CHECK_INT(list.addr[0].sa.ss_family, AF_INET);
    CHECK_INT(dns_addr_text((struct sockaddr *) &list.addr[0].sa, list.addr[0].len,
                            addr, sizeof(addr), port, sizeof(port)), 0);
    CHECK_STR(addr, "192.0.2.9");
    CHECK_STR(port, "2525");
    CHECK_INT(dns_host_addrs("2001:db8::5", AF_UNSPEC, 25, &list, why), DNS_OK);
    CHECK_INT(list.count, 1);
    CHECK_INT(list.addr[0].sa.ss_family, AF_INET6);
    CHECK_INT(dns_addr_text((struct sockaddr *) &list.addr[0].sa, list.addr[0].len,
                            addr, sizeof(addr), NULL, 0), 0);
    CHECK_STR(addr, "2001:db8::5");
    CHECK_INT(ntohs(((struct sockaddr_in6 *) &list.addr[0].sa)->sin6_port), 25);
    /* an IPv6 address when only IPv4 is wanted */
    CHECK(dns_host_addrs("2001:db8::5", AF_INET, 25, &list, why) != DNS_OK);
    CHECK_INT(list.count, 0);
    CHECK(strstr(STR(why), "Name service error for name=2001:db8::5 type=A: ") != NULL);
    dns_addr_list_free(&list);
    vstring_free(why);
}

UNIT_TEST(test_host_confirm)
{
    VSTRING *why = vstring_alloc(1000);

    CHECK_INT(dns_host_confirm("192.0.2.1", "192.0.2.1", why), DNS_OK);
    CHECK_INT(dns_host_confirm("192.0.2.1", "192.0.2.2", why), DNS_NOTFOUND);
    CHECK_INT(LEN(why), 0);                     /* resolves, but elsewhere */
    CHECK_INT(dns_host_confirm("2001:DB8::1", "2001:db8::1", why), DNS_OK);
    vstring_free(why);
}

UNIT_TEST(test_addr_text)
{
    struct sockaddr_in sin;
    char    addr[NI_MAXHOST], port[NI_MAXSERV];

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(587);
    inet_pton(AF_INET, "198.51.100.3", &sin.sin_addr);
    CHECK_INT(dns_addr_text((struct sockaddr *) &sin, sizeof(sin), addr, sizeof(addr),
                            port, sizeof(port)), 0);
    CHECK_STR(addr, "198.51.100.3");
    CHECK_STR(port, "587");
    CHECK_INT(dns_addr_text((struct sockaddr *) &sin, 3, addr, sizeof(addr),
                            port, sizeof(port)), -1);
    CHECK_STR(addr, "");
}

UNIT_TEST(test_reverse)
{
    VSTRING *out = vstring_alloc(100);

    CHECK_INT(dns_addr_reverse("127.0.0.2", out), 0);
    CHECK_STR(STR(out), "2.0.0.127");
    CHECK_INT(dns_addr_reverse("2001:db8::1", out), 0);
    CHECK_STR(STR(out), "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
    CHECK_INT(dns_addr_reverse("host.example", out), -1);
    CHECK_INT(LEN(out), 0);
    vstring_free(out);
}

UNIT_TEST(test_service_port)
{
    unsigned port = 0;

    CHECK_INT(dns_service_port("2525", &port), 0);
    CHECK_INT(port, 2525);
    CHECK_INT(dns_service_port("65536", &port), -1);
    CHECK_INT(dns_service_port("25x", &port), -1);
    CHECK_INT(dns_service_port("", &port), -1);
    CHECK_INT(dns_service_port("no-such-service-posthorn", &port), -1);
}

UNIT_TESTS {
    {"test_host_addrs_numeric", test_host_addrs_numeric},
    {"test_host_confirm", test_host_confirm},
    {"test_addr_text", test_addr_text},
    {"test_reverse", test_reverse},
    {"test_service_port", test_service_port},
    UNIT_END
};
