/*
 * smtp_dns.c - where to connect: MX lookup, host address lookup, and
 * mail loop detection.
 *
 * Interface (smtp.h):
 *   smtp_dns_lookup(nh, list, why)
 *       [host] / IP / LMTP next hops: the host's addresses.
 *       Otherwise: MX records of the domain (res_query, glibc resolver),
 *       sorted by preference, equal preferences shuffled
 *       (smtp_randomize_addresses), each MX host's addresses in turn;
 *       no MX records: the domain's own addresses. Hosts that are this
 *       machine (name = $myhostname, or an address of $inet_interfaces /
 *       $proxy_interfaces) and every host at or above their preference
 *       are dropped; nothing left is "mail for X loops back to myself".
 *       A null MX (RFC 7505) bounces. The list is cut at
 *       smtp_mx_address_limit. smtp_host_lookup without "dns" skips MX.
 *   smtp_dns_is_self(a), smtp_addr_list_*(), smtp_why_*().
 *
 * Errors use Postfix's wording: "Host or domain name not found. Name
 * service error for name=N type=T: Host not found[, try again]";
 * NXDOMAIN bounces (5.4.4), a temporary failure defers (4.4.3).
 *
 * SECURITY: DNS answers are untrusted. They are parsed with the
 * resolver's own bounds-checked ns_* functions into fixed-size buffers;
 * record counts are bounded (SMTP_DNS_MAX_MX) and every name is copied
 * with a length check.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "mem.h"
#include "msg.h"
#include "resolve.h"
#include "smtp.h"

#define SMTP_DNS_MAX_MX   100
#define SMTP_DNS_ANSWER   65536

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
    vstring_reset(why->text);
    va_start(ap, fmt);
    vstring_vsprintf_append(why->text, fmt, ap);
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
    if (list->count == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 8;
        list->addr = mem_realloc_array(list->addr, (size_t) list->cap, sizeof(SMTP_ADDR));
    }
    a = &list->addr[list->count++];
    memset(a, 0, sizeof(*a));
    snprintf(a->host, sizeof(a->host), "%s", host);
    memcpy(&a->sa, sa, salen);
    a->salen = salen;
    a->pref = pref;
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
smtp_dns_family(const char **type)
{
    const char *p = smtp_params.inet_protocols ? smtp_params.inet_protocols : "all";
    int     v4 = strcasestr(p, "ipv4") != NULL, v6 = strcasestr(p, "ipv6") != NULL;

    *type = "A";
    if (strcasestr(p, "all") || (v4 && v6) || (!v4 && !v6))
        return AF_UNSPEC;
    if (v6) {
        *type = "AAAA";
        return AF_INET6;
    }
    return AF_INET;
}

/* Add host's addresses with preference pref; 0, or -1 with why set. */
static int
smtp_dns_host(const char *host, const char *port, int pref,
              SMTP_ADDR_LIST *list, SMTP_WHY *why)
{
    struct addrinfo hints, *res, *ai;
    const char *type;
    int     err;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = smtp_dns_family(&type);
    hints.ai_socktype = SOCK_STREAM;
    err = getaddrinfo(host, port, &hints, &res);
    if (err == 0) {
        for (ai = res; ai; ai = ai->ai_next)
            smtp_addr_list_add(list, host, ai->ai_addr, ai->ai_addrlen, pref);
        freeaddrinfo(res);
        return 0;
    }
    switch (err) {
    case EAI_NONAME:
        smtp_why_set(why, DELIVER_BOUNCE, "5.4.4", "Host or domain name not found. "
                     "Name service error for name=%s type=%s: Host not found", host, type);
        break;
#ifdef EAI_NODATA
    case EAI_NODATA:
        smtp_why_set(why, DELIVER_BOUNCE, "5.4.4", "Host or domain name not found. "
                     "Name service error for name=%s type=%s: "
                     "Host found but no data record of requested type", host, type);
        break;
#endif
    case EAI_AGAIN:
        smtp_why_set(why, DELIVER_DEFER, "4.4.3", "Host or domain name not found. "
                     "Name service error for name=%s type=%s: Host not found, try again",
                     host, type);
        break;
    case EAI_SERVICE:
        smtp_why_set(why, DELIVER_DEFER, "4.3.5",
                     "unknown TCP service name or port: %s", port);
        break;
    default:
        smtp_why_set(why, DELIVER_DEFER, "4.4.3", "Host or domain name not found. "
                     "Name service error for name=%s type=%s: %s", host, type,
                     gai_strerror(err));
        break;
    }
    return -1;
}

/* ---- MX records -------------------------------------------------------------- */

typedef struct SMTP_MX {
    int     pref;
    char    name[NS_MAXDNAME];
} SMTP_MX;

static int
smtp_mx_compare(const void *a, const void *b)
{
    return ((const SMTP_MX *) a)->pref - ((const SMTP_MX *) b)->pref;
}

/*
 * Query MX records. Returns the count (0 = the name exists without MX
 * records), or -1 with why set (NXDOMAIN, temporary failure).
 */
static int
smtp_mx_query(const char *domain, SMTP_MX *mx, int max, SMTP_WHY *why)
{
    unsigned char *ans = mem_alloc(SMTP_DNS_ANSWER);
    ns_msg  msg;
    ns_rr   rr;
    int     len, i, count = 0, total;
    static int inited;

    if (!inited) {
        res_init();
        inited = 1;
    }
    len = res_query(domain, ns_c_in, ns_t_mx, ans, SMTP_DNS_ANSWER);
    if (len < 0) {
        mem_free(ans);
        if (h_errno == NO_DATA)
            return 0;
        if (h_errno == HOST_NOT_FOUND)
            smtp_why_set(why, DELIVER_BOUNCE, "5.4.4", "Host or domain name not found. "
                         "Name service error for name=%s type=MX: Host not found", domain);
        else if (h_errno == NO_RECOVERY)
            smtp_why_set(why, DELIVER_DEFER, "4.4.3", "Host or domain name not found. "
                         "Name service error for name=%s type=MX: Non-recoverable error", domain);
        else
            smtp_why_set(why, DELIVER_DEFER, "4.4.3", "Host or domain name not found. "
                         "Name service error for name=%s type=MX: Host not found, try again",
                         domain);
        return -1;
    }
    if (len > SMTP_DNS_ANSWER || ns_initparse(ans, len, &msg) < 0) {
        mem_free(ans);
        smtp_why_set(why, DELIVER_DEFER, "4.4.3", "Host or domain name not found. "
                     "Name service error for name=%s type=MX: Malformed or unexpected "
                     "name server reply", domain);
        return -1;
    }
    total = ns_msg_count(msg, ns_s_an);
    for (i = 0; i < total && count < max; i++) {
        const unsigned char *rdata;

        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
            break;
        if (ns_rr_type(rr) != ns_t_mx || ns_rr_class(rr) != ns_c_in || ns_rr_rdlen(rr) < 3)
            continue;
        rdata = ns_rr_rdata(rr);
        mx[count].pref = (int) ns_get16(rdata);
        if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), rdata + 2,
                               mx[count].name, sizeof(mx[count].name)) < 0)
            continue;
        len = (int) strlen(mx[count].name);
        if (len > 0 && mx[count].name[len - 1] == '.')
            mx[count].name[len - 1] = 0;
        count++;
    }
    mem_free(ans);
    qsort(mx, (size_t) count, sizeof(SMTP_MX), smtp_mx_compare);
    return count;
}

static int
smtp_dns_use_mx(void)
{
    const char *v = config_lookup(smtp_params.lmtp ? "lmtp_host_lookup" : "smtp_host_lookup");
    int     off;

    if (config_parse_bool(config_str("disable_dns_lookups"), &off) == 0 && off)
        return 0;
    return v == NULL || *v == 0 || strcasestr(v, "dns") != NULL;
}

/* Finish a list: loop check, limit. */
static int
smtp_dns_finish(const SMTP_NEXTHOP *nh, SMTP_ADDR_LIST *list, int loop_check, SMTP_WHY *why)
{
    if (loop_check && list->count > 0 && smtp_addr_list_prune_self(list, smtp_dns_is_self) == 0) {
        smtp_why_set(why, DELIVER_BOUNCE, "5.4.6", "mail for %s loops back to myself", nh->host);
        return -1;
    }
    if (smtp_params.mx_address_limit > 0 && list->count > smtp_params.mx_address_limit)
        list->count = (int) smtp_params.mx_address_limit;
    return list->count > 0 ? 0 : -1;
}

static int
smtp_dns_mx_hosts(const SMTP_NEXTHOP *nh, SMTP_MX *mx, int count,
                  SMTP_ADDR_LIST *list, SMTP_WHY *why)
{
    int     i;

    if (count == 1 && mx[0].name[0] == 0) {
        smtp_why_set(why, DELIVER_BOUNCE, "5.1.0",
                     "Domain %s does not accept mail (nullMX)", nh->host);
        return -1;
    }
    for (i = 0; i < count; i++) {
        if (mx[i].name[0] == 0 || strlen(mx[i].name) >= SMTP_HOST_MAX)
            continue;
        (void) smtp_dns_host(mx[i].name, nh->port, mx[i].pref, list, why);
    }
    if (smtp_params.randomize_addresses)
        smtp_addr_list_shuffle(list);
    return smtp_dns_finish(nh, list, 1, why);
}

int
smtp_dns_lookup(const SMTP_NEXTHOP *nh, SMTP_ADDR_LIST *list, SMTP_WHY *why)
{
    SMTP_MX *mx;
    int     count, ret;

    if (nh->no_mx || !smtp_dns_use_mx()) {
        if (smtp_dns_host(nh->host, nh->port, 0, list, why) < 0)
            return -1;
        return smtp_dns_finish(nh, list, !nh->no_mx, why);
    }
    mx = mem_array(SMTP_DNS_MAX_MX, sizeof(SMTP_MX));
    count = smtp_mx_query(nh->host, mx, SMTP_DNS_MAX_MX, why);
    if (count < 0)
        ret = -1;
    else if (count == 0)
        ret = smtp_dns_host(nh->host, nh->port, 0, list, why) < 0 ? -1
            : smtp_dns_finish(nh, list, 1, why);
    else
        ret = smtp_dns_mx_hosts(nh, mx, count, list, why);
    mem_free(mx);
    return ret;
}
