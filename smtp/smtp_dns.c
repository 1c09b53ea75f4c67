/*
 * smtp_dns.c - where to connect: MX lookup, host address lookup, and
 * mail loop detection.
 *
 * Interface (smtp.h):
 *   smtp_dns_lookup(nh, list, why)
 *       [host] / IP / LMTP next hops: the host's addresses.
 *       Otherwise: MX records of the domain (dns_lookup, lib/dns),
 *       sorted by preference, equal preferences shuffled
 *       (smtp_randomize_addresses), each MX host's addresses in turn;
 *       no MX records: the domain's own addresses. Hosts that are this
 *       machine (name = $myhostname, or an address of $inet_interfaces /
 *       $proxy_interfaces) and every host at or above their preference
 *       are dropped (list->self_mx is then set: smtp_service.c uses no
 *       fallback relay); nothing left is "mail for X loops back to
 *       myself".
 *       A null MX (RFC 7505) bounces. The list is cut at
 *       smtp_mx_address_limit. smtp_host_lookup without "dns" skips MX.
 *       Each address notes whether the MX answer that named its host
 *       was DNSSEC-validated (mx_insecure, for smtp_dane.c).
 *   smtp_dns_is_self(a), smtp_addr_list_*(), smtp_why_*().
 *
 * Errors use Postfix's wording: "Host or domain name not found. Name
 * service error for name=N type=T: Host not found[, try again]";
 * NXDOMAIN bounces (5.4.4), a temporary failure defers (4.4.3).
 *
 * SECURITY: DNS answers are untrusted. lib/dns parses them with the
 * resolver's bounds-checked ns_* functions and bounds record counts
 * (DNS_RR_MAX, DNS_ADDR_MAX) and name lengths; an MX host name longer
 * than SMTP_HOST_MAX is skipped here.
 *
 * DIAGNOSTICS: none; lookup failures and mail loops become the reason and
 * status of the recipients (Postfix's wording, see above).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "argv.h"
#include "dns.h"
#include "mem.h"
#include "msg.h"
#include "resolve.h"
#include "smtp.h"

/* ---- failure reasons ------------------------------------------------------ */

void
smtp_why_init(SMTP_WHY *why)
{
    memset(why, 0, sizeof(*why));
    why->status = DELIVER_DEFER;
    snprintf(why->dsn, sizeof(why->dsn), "4.4.0");
    snprintf(why->relay, sizeof(why->relay), "none");
    why->text = vstring_alloc(2000);
}

void
smtp_why_free(SMTP_WHY *why)
{
    vstring_free(why->text);
    why->text = NULL;
}

void
smtp_why_set(SMTP_WHY *why, int status, const char *dsn, const char *fmt, ...)
{
    va_list ap;

    why->status = status;
    snprintf(why->dsn, sizeof(why->dsn), "%s", dsn);
    va_start(ap, fmt);
    vstring_vsprintf(why->text, fmt, ap);
    va_end(ap);
}

/* ---- address lists ----------------------------------------------------------- */

void
smtp_addr_list_init(SMTP_ADDR_LIST *list)
{
    memset(list, 0, sizeof(*list));
}

void
smtp_addr_list_free(SMTP_ADDR_LIST *list)
{
    mem_free(list->addr);
    memset(list, 0, sizeof(*list));
}

void
smtp_addr_list_add(SMTP_ADDR_LIST *list, const char *host,
                   const struct sockaddr *sa, socklen_t salen, int pref)
{
    SMTP_ADDR *a;
    const void *raw;

    if (salen > sizeof(a->sa) || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return;
    list->addr = mem_grow(list->addr, list->count, &list->cap, sizeof(SMTP_ADDR), 8);
    a = &list->addr[list->count++];
    snprintf(a->host, sizeof(a->host), "%s", host);
    memcpy(&a->sa, sa, salen);
    a->salen = salen;
    a->pref = pref;
    a->mx_insecure = 0;
    raw = sa->sa_family == AF_INET ? (const void *) &((const struct sockaddr_in *) sa)->sin_addr
        : (const void *) &((const struct sockaddr_in6 *) sa)->sin6_addr;
    if (inet_ntop(sa->sa_family, raw, a->addr, sizeof(a->addr)) == NULL)
        snprintf(a->addr, sizeof(a->addr), "?");
}

void
smtp_addr_list_shuffle(SMTP_ADDR_LIST *list)
{
    static int seeded;
    int     i, j, start;

    if (!seeded) {
        struct timeval tv;

        gettimeofday(&tv, NULL);
        srandom((unsigned) (tv.tv_usec ^ tv.tv_sec ^ getpid()));
        seeded = 1;
    }
    for (start = 0; start < list->count; start = i) {
        for (i = start + 1; i < list->count && list->addr[i].pref == list->addr[start].pref; i++)
            ;
        for (j = i - 1; j > start; j--) {       /* Fisher-Yates on [start, i) */
            int     k = start + (int) (random() % (j - start + 1));
            SMTP_ADDR tmp = list->addr[j];

            list->addr[j] = list->addr[k];
            list->addr[k] = tmp;
        }
    }
}

int
smtp_addr_list_prune_self(SMTP_ADDR_LIST *list, int (*is_self)(const SMTP_ADDR *a))
{
    int     i;

    for (i = 0; i < list->count; i++) {
        if (is_self(&list->addr[i])) {
            int     pref = list->addr[i].pref;

            while (i > 0 && list->addr[i - 1].pref >= pref)
                i--;
            list->count = i;
            break;
        }
    }
    return list->count;
}

/* ---- our own addresses ----------------------------------------------------- */

/* $myhostname, or an address of $inet_interfaces / $proxy_interfaces (lib/resolve.h). */
int
smtp_dns_is_self(const SMTP_ADDR *a)
{
    if (a->host[0] && strcasecmp(a->host, smtp_params.myhostname) == 0)
        return 1;
    return resolve_own_addr(&a->sa);
}

/* ---- host addresses ---------------------------------------------------------- */

static int
smtp_dns_family(void)
{
    const char *p = smtp_params.inet_protocols ? smtp_params.inet_protocols : "all";
    int     v4 = strcasestr(p, "ipv4") != NULL, v6 = strcasestr(p, "ipv6") != NULL;

    if (strcasestr(p, "all") || (v4 && v6) || (!v4 && !v6))
        return AF_UNSPEC;
    return v6 ? AF_INET6 : AF_INET;
}

/* A failed lookup (reason already in why->text): NXDOMAIN/NODATA bounce. */
static int
smtp_dns_fail(SMTP_WHY *why, int status)
{
    if (status == DNS_NOTFOUND) {
        why->status = DELIVER_BOUNCE;
        snprintf(why->dsn, sizeof(why->dsn), "5.4.4");
    } else {
        why->status = DELIVER_DEFER;
        snprintf(why->dsn, sizeof(why->dsn), "4.4.3");
    }
    return -1;
}

/* Add host's addresses with preference pref; 0, or -1 with why set. */
static int
smtp_dns_host(const char *host, const char *port, int pref,
              SMTP_ADDR_LIST *list, SMTP_WHY *why)
{
    DNS_ADDR_LIST addrs;
    unsigned portnum;
    int     status;

    if (dns_service_port(port, &portnum) < 0) {
        smtp_why_set(why, DELIVER_DEFER, "4.3.5", "unknown TCP service name or port: %s", port);
        return -1;
    }
    dns_addr_list_init(&addrs);
    status = dns_host_addrs(host, smtp_dns_family(), portnum, &addrs, why->text);
    for (int i = 0; i < addrs.count; i++)
        smtp_addr_list_add(list, host, (struct sockaddr *) &addrs.addr[i].sa,
                           addrs.addr[i].len, pref);
    dns_addr_list_free(&addrs);
    return status == DNS_OK ? 0 : smtp_dns_fail(why, status);
}

/* ---- MX records -------------------------------------------------------------- */

/*
 * Query MX records, sorted by preference. Returns the count (0 = the
 * name exists without MX records), or -1 with why set (NXDOMAIN,
 * temporary failure).
 */
static int
smtp_mx_query(const char *domain, DNS_ANSWER *mx, SMTP_WHY *why)
{
    int     status = dns_lookup(domain, DNS_T_MX, mx, why->text);

    if (status == DNS_OK) {
        dns_answer_sort_mx(mx);
        return mx->count;
    }
    if (status == DNS_NOTFOUND && !mx->nxdomain)
        return 0;
    return smtp_dns_fail(why, status);
}

static int
smtp_dns_use_mx(void)
{
    const char *v = smtp_params.host_lookup;

    if (smtp_params.disable_dns_lookups)
        return 0;
    return v == NULL || *v == 0 || strcasestr(v, "dns") != NULL;
}

/* Finish a list: loop check, limit. */
static int
smtp_dns_finish(const SMTP_NEXTHOP *nh, SMTP_ADDR_LIST *list, int loop_check, SMTP_WHY *why)
{
    int     before = list->count;

    if (loop_check && before > 0 && smtp_addr_list_prune_self(list, smtp_dns_is_self) < before)
        list->self_mx = 1;              /* no fallback relay for this one */
    if (list->self_mx && list->count == 0) {
        smtp_why_set(why, DELIVER_BOUNCE, "5.4.6", "mail for %s loops back to myself", nh->host);
        return -1;
    }
    if (smtp_params.mx_address_limit > 0 && list->count > smtp_params.mx_address_limit)
        list->count = (int) smtp_params.mx_address_limit;
    return list->count > 0 ? 0 : -1;
}

static int
smtp_dns_mx_hosts(const SMTP_NEXTHOP *nh, const DNS_ANSWER *mx,
                  SMTP_ADDR_LIST *list, SMTP_WHY *why)
{
    int     i;

    if (mx->count == 1 && mx->rr[0].data[0] == 0) {
        smtp_why_set(why, DELIVER_BOUNCE, "5.1.0",
                     "Domain %s does not accept mail (nullMX)", nh->host);
        return -1;
    }
    for (i = 0; i < mx->count; i++) {
        int     first = list->count;

        if (mx->rr[i].data[0] == 0 || strlen(mx->rr[i].data) >= SMTP_HOST_MAX)
            continue;
        (void) smtp_dns_host(mx->rr[i].data, nh->port, (int) mx->rr[i].pref, list, why);
        for (int j = first; j < list->count; j++)
            list->addr[j].mx_insecure = !mx->dnssec_valid;     /* for DANE */
    }
    if (smtp_params.randomize_addresses)
        smtp_addr_list_shuffle(list);
    return smtp_dns_finish(nh, list, 1, why);
}

int
smtp_dns_lookup(const SMTP_NEXTHOP *nh, SMTP_ADDR_LIST *list, SMTP_WHY *why)
{
    DNS_ANSWER mx;
    int     count, ret;

    if (nh->no_mx || !smtp_dns_use_mx()) {
        if (smtp_dns_host(nh->host, nh->port, 0, list, why) < 0)
            return -1;
        return smtp_dns_finish(nh, list, !nh->no_mx, why);
    }
    dns_answer_init(&mx);
    count = smtp_mx_query(nh->host, &mx, why);
    if (count < 0)
        ret = -1;
    else if (count == 0)
        ret = smtp_dns_host(nh->host, nh->port, 0, list, why) < 0 ? -1
            : smtp_dns_finish(nh, list, 1, why);
    else
        ret = smtp_dns_mx_hosts(nh, &mx, list, why);
    dns_answer_free(&mx);
    return ret;
}
