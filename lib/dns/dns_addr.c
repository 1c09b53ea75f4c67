/*
 * dns_addr.c - host names to addresses and addresses to names, through
 * the system's name service (getaddrinfo/getnameinfo: /etc/hosts, then
 * DNS, as nsswitch.conf says).
 *
 * Interface: dns.h (dns_host_addrs, dns_host_confirm, dns_addr_name,
 * dns_addr_text, dns_addr_reverse, dns_service_port, dns_addr_list_*).
 *
 * Statuses as dns_lookup(): EAI_NONAME is DNS_NOTFOUND ("Host not
 * found"), EAI_NODATA DNS_NOTFOUND ("Host found but no data record of
 * requested type"), EAI_AGAIN DNS_RETRY ("Host not found, try again"),
 * EAI_FAIL DNS_FAIL ("Non-recoverable error"), anything else DNS_RETRY
 * with the resolver's own text.
 *
 * SECURITY: names from the network (PTR results) are returned as the
 * resolver gives them, at most NI_MAXHOST bytes; callers check their
 * syntax. At most DNS_ADDR_MAX addresses are kept per host, only
 * AF_INET and AF_INET6 ones that fit a sockaddr_storage.
 *
 * DIAGNOSTICS: none; every failure is a DNS_* status with a reason text
 * (see above).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "dns_impl.h"
#include "mem.h"

void
dns_addr_list_init(DNS_ADDR_LIST *list)
{
    memset(list, 0, sizeof(*list));
}

void
dns_addr_list_free(DNS_ADDR_LIST *list)
{
    mem_free(list->addr);
    memset(list, 0, sizeof(*list));
}

static void
dns_addr_list_add(DNS_ADDR_LIST *list, const struct sockaddr *sa, socklen_t len, unsigned port)
{
    DNS_ADDR *a;

    if (list->count >= DNS_ADDR_MAX || len > sizeof(a->sa)
        || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return;
    list->addr = mem_grow(list->addr, list->count, &list->cap, sizeof(DNS_ADDR), 4);
    a = &list->addr[list->count++];
    memcpy(&a->sa, sa, len);
    a->len = len;
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *) &a->sa)->sin_port = htons((unsigned short) port);
    else
        ((struct sockaddr_in6 *) &a->sa)->sin6_port = htons((unsigned short) port);
}

/* A getaddrinfo/getnameinfo error as a status and Postfix's reason. */
static int
dns_gai_status(int err, const char *name, const char *type, VSTRING *why)
{
    switch (err) {
    case EAI_NONAME:
        return dns_why_set(why, DNS_NOTFOUND, name, type, DNS_TEXT_NOTFOUND);
#ifdef EAI_NODATA
    case EAI_NODATA:
        return dns_why_set(why, DNS_NOTFOUND, name, type, DNS_TEXT_NODATA);
#endif
    case EAI_AGAIN:
        return dns_why_set(why, DNS_RETRY, name, type, DNS_TEXT_RETRY);
    case EAI_FAIL:
        return dns_why_set(why, DNS_FAIL, name, type, DNS_TEXT_FAIL);
    default:
        return dns_why_set(why, DNS_RETRY, name, type, gai_strerror(err));
    }
}

static int
dns_getaddrinfo(const char *host, int family, struct addrinfo **res)
{
    struct addrinfo hints;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    return getaddrinfo(host, NULL, &hints, res);
}

int
dns_host_addrs(const char *host, int family, unsigned port, DNS_ADDR_LIST *list, VSTRING *why)
{
    const char *type = family == AF_INET6 ? "AAAA" : "A";
    struct addrinfo *res, *ai;
    int     err;

    list->count = 0;
    if ((err = dns_getaddrinfo(host, family, &res)) != 0)
        return dns_gai_status(err, host, type, why);
    for (ai = res; ai != NULL; ai = ai->ai_next)
        dns_addr_list_add(list, ai->ai_addr, ai->ai_addrlen, port);
    freeaddrinfo(res);
    if (list->count == 0)
        return dns_why_set(why, DNS_NOTFOUND, host, type, DNS_TEXT_NODATA);
    return DNS_OK;
}

int
dns_host_confirm(const char *name, const char *addr, VSTRING *why)
{
    struct addrinfo *res, *ai;
    char    buf[NI_MAXHOST];
    int     err, found = 0;

    vstring_reset(why);
    if ((err = dns_getaddrinfo(name, AF_UNSPEC, &res)) != 0) {
        vstring_strcpy(why, gai_strerror(err));
        return dns_gai_status(err, name, "A", NULL);
    }
    for (ai = res; ai != NULL && !found; ai = ai->ai_next)
        found = dns_addr_text(ai->ai_addr, ai->ai_addrlen, buf, sizeof(buf), NULL, 0) == 0
            && strcasecmp(buf, addr) == 0;
    freeaddrinfo(res);
    return found ? DNS_OK : DNS_NOTFOUND;
}

int
dns_addr_name(const struct sockaddr *sa, socklen_t len, char *buf, size_t size, VSTRING *why)
{
    char    addr[NI_MAXHOST];
    int     err;

    if ((err = getnameinfo(sa, len, buf, size, NULL, 0, NI_NAMEREQD)) == 0)
        return DNS_OK;
    *buf = 0;
    if (dns_addr_text(sa, len, addr, sizeof(addr), NULL, 0) < 0)
        strcpy(addr, "?");
    return dns_gai_status(err, addr, "PTR", why);
}

int
dns_addr_text(const struct sockaddr *sa, socklen_t len, char *addr, size_t asize,
              char *port, size_t psize)
{
    if (getnameinfo(sa, len, addr, asize, port, port ? psize : 0,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        *addr = 0;
        if (port)
            *port = 0;
        return -1;
    }
    return 0;
}

int
dns_addr_reverse(const char *addr, VSTRING *out)
{
    unsigned char bin[16];

    vstring_reset(out);
    if (inet_pton(AF_INET, addr, bin) == 1) {
        vstring_sprintf(out, "%d.%d.%d.%d", bin[3], bin[2], bin[1], bin[0]);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, bin) == 1) {
        for (int i = 15; i >= 0; i--)
            vstring_sprintf_append(out, "%x.%x%s", bin[i] & 15, bin[i] >> 4, i ? "." : "");
        return 0;
    }
    return -1;
}

int
dns_service_port(const char *service, unsigned *port)
{
    struct servent *se;
    char   *end;
    unsigned long n;

    if (*service == 0)
        return -1;
    if (isdigit((unsigned char) *service)) {
        n = strtoul(service, &end, 10);
        if (*end != 0 || n > 65535)
            return -1;
        *port = (unsigned) n;
        return 0;
    }
    if ((se = getservbyname(service, "tcp")) == NULL)
        return -1;
    *port = ntohs((unsigned short) se->s_port);
    return 0;
}
