/*
 * dns.h - the resolver layer: DNS queries with parsed answers, and host
 * name <-> address lookups, on the glibc resolver.
 *
 * Every lookup returns one of four statuses, as Postfix's dns(3):
 *   DNS_OK        records found
 *   DNS_NOTFOUND  the name does not exist (NXDOMAIN; ans->nxdomain set)
 *                 or has no record of the type (NODATA)
 *   DNS_RETRY     a temporary failure (SERVFAIL, timeout, a malformed
 *                 reply): try again later
 *   DNS_FAIL      a permanent name service failure (FORMERR, NOTIMP, ...)
 * and, when why is not NULL, the reason in Postfix's wording:
 *   "Host or domain name not found. Name service error for name=N
 *    type=T: Host not found[, try again]"
 * ("Host found but no data record of requested type", "Non-recoverable
 * error", "Malformed or unexpected name server reply").
 *
 * dns_lookup.c (queries):
 *   dns_lookup(name, type, ans, why)   res_query + dns_parse
 *   dns_parse(msg, len, name, type, ans, why)   an answer packet: the
 *       answer section's IN records of type (CNAMEs and other types are
 *       skipped); MX: preference and exchange ("" for a null MX),
 *       PTR/CNAME: the name, A/AAAA: numeric text and the raw address,
 *       TXT: the character-strings joined, printable (others become '?'),
 *       TLSA: usage, selector, matching type and the association data
 *       (binary, data_len bytes; longer than DNS_TLSA_DATA_MAX: skipped);
 *       ans->dnssec_valid: the reply had the AD bit (see below)
 *   dns_status(herrno, name, type, ans, why)   a res_query failure
 *   dns_answer_init/free, dns_answer_sort_mx, dns_strtype
 *   dns_dnssec_request()   from now on ask with the DO bit (RES_USE_DNSSEC,
 *       RES_USE_EDNS0), for smtp_dns_support_level = dnssec. An answer
 *       counts as validated (dnssec_valid) only when the reply has the AD
 *       bit: set by the validating recursive name server in
 *       /etc/resolv.conf, and passed on by glibc only with "options
 *       trust-ad" there (posthorn is not a validating resolver itself)
 *
 * dns_addr.c (name service: /etc/hosts and DNS, via nsswitch):
 *   dns_host_addrs(host, family, port, list, why)   a host name or numeric
 *       address to socket addresses (getaddrinfo), port set in each
 *   dns_host_confirm(name, addr, why)   does name resolve to numeric addr?
 *   dns_addr_name(sa, len, buf, size, why)   address to name (PTR)
 *   dns_addr_text(sa, len, addr, asize, port, psize)   numeric text
 *   dns_addr_reverse(addr, out)   "4.3.2.1" / IPv6 nibbles for DNSBLs
 *   dns_service_port(service, port)   "smtp" or "25" to a port number
 *
 * SECURITY: answers are untrusted. They are parsed with the resolver's
 * bounds-checked ns_* functions from a buffer as large as any DNS
 * message (DNS_ANSWER_MAX); at most DNS_RR_MAX records and DNS_ADDR_MAX
 * addresses are kept, names are at most DNS_NAME_MAX bytes, TXT text is
 * cut at DNS_TEXT_MAX and made printable (no CR/LF reaches a reply).
 *
 * DIAGNOSTICS: none; every failure is a DNS_* status with a reason in
 * Postfix's wording for the caller to log or put into a reply.
 */
#ifndef POSTHORN_DNS_H
#define POSTHORN_DNS_H

#include <stddef.h>
#include <sys/socket.h>

#include "vstring.h"

#define DNS_OK        0
#define DNS_NOTFOUND  1
#define DNS_RETRY     2
#define DNS_FAIL      3

/* Record types (the wire values). */
#define DNS_T_A       1
#define DNS_T_CNAME   5
#define DNS_T_PTR     12
#define DNS_T_MX      15
#define DNS_T_TXT     16
#define DNS_T_AAAA    28
#define DNS_T_TLSA    52

#define DNS_NAME_MAX    1025        /* a name as text, with the NUL */
#define DNS_TEXT_MAX    512         /* TXT text kept */
#define DNS_RR_MAX      100         /* records kept per answer */
#define DNS_ADDR_MAX    100         /* addresses kept per host */
#define DNS_ANSWER_MAX  65536       /* the largest DNS message */
#define DNS_TLSA_DATA_MAX 1024      /* TLSA association data kept */

typedef struct DNS_RR {
    unsigned type;                  /* DNS_T_* */
    unsigned pref;                  /* MX preference */
    char    data[DNS_NAME_MAX];     /* name, TXT text or numeric address */
    unsigned char addr[16];         /* A/AAAA: the raw address */
    size_t  addr_len;               /* 4, 16, or 0 */
    unsigned char tlsa_usage;       /* TLSA: certificate usage, */
    unsigned char tlsa_selector;    /* selector, */
    unsigned char tlsa_mtype;       /* matching type; data holds */
    size_t  data_len;               /* data_len bytes (binary) */
} DNS_RR;

typedef struct DNS_ANSWER {
    DNS_RR *rr;                     /* count records */
    int     count;
    int     cap;                    /* (allocated) */
    int     nxdomain;               /* DNS_NOTFOUND: the name does not exist */
    int     dnssec_valid;           /* DNS_OK: the reply had the AD bit */
} DNS_ANSWER;

void    dns_answer_init(DNS_ANSWER *ans);
void    dns_answer_free(DNS_ANSWER *ans);
/* MX records by preference (stable: equal preferences keep their order). */
void    dns_answer_sort_mx(DNS_ANSWER *ans);
const char *dns_strtype(unsigned type);

int     dns_lookup(const char *name, unsigned type, DNS_ANSWER *ans, VSTRING *why);
int     dns_parse(const unsigned char *msg, int len, const char *name, unsigned type,
                  DNS_ANSWER *ans, VSTRING *why);
void    dns_dnssec_request(void);
int     dns_status(int herrno, const char *name, unsigned type, DNS_ANSWER *ans,
                   VSTRING *why);

typedef struct DNS_ADDR {
    struct sockaddr_storage sa;
    socklen_t len;
} DNS_ADDR;

typedef struct DNS_ADDR_LIST {
    DNS_ADDR *addr;
    int     count;
    int     cap;                    /* (allocated) */
} DNS_ADDR_LIST;

void    dns_addr_list_init(DNS_ADDR_LIST *list);
void    dns_addr_list_free(DNS_ADDR_LIST *list);

/* family AF_UNSPEC, AF_INET or AF_INET6 (the reason says type=A or AAAA). */
int     dns_host_addrs(const char *host, int family, unsigned port,
                       DNS_ADDR_LIST *list, VSTRING *why);
/* DNS_OK: name has address addr; DNS_NOTFOUND: it resolves, but not to
 * addr (why empty); otherwise why holds the resolver's own error text. */
int     dns_host_confirm(const char *name, const char *addr, VSTRING *why);
int     dns_addr_name(const struct sockaddr *sa, socklen_t len, char *buf, size_t size,
                      VSTRING *why);
/* 0, or -1 (buffers then hold ""); port may be NULL. */
int     dns_addr_text(const struct sockaddr *sa, socklen_t len, char *addr, size_t asize,
                      char *port, size_t psize);
/* 0 with the reversed query name in out, or -1 (not a numeric address). */
int     dns_addr_reverse(const char *addr, VSTRING *out);
/* 0, or -1 when the service is unknown. */
int     dns_service_port(const char *service, unsigned *port);

#endif
