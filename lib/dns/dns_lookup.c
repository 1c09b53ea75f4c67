/*
 * dns_lookup.c - DNS queries with parsed answers (res_query, ns_initparse,
 * ns_parserr), statuses and reasons in Postfix's wording.
 *
 * Interface: dns.h (dns_lookup, dns_parse, dns_status, dns_answer_*,
 * dns_strtype).
 *
 * The status of a query: res_query's h_errno when it fails
 * (HOST_NOT_FOUND: DNS_NOTFOUND with nxdomain set; NO_DATA: DNS_NOTFOUND;
 * NO_RECOVERY: DNS_FAIL; TRY_AGAIN and anything else: DNS_RETRY), else
 * the reply's rcode and records: an answer without an IN record of the
 * type asked (only a CNAME, say) is DNS_NOTFOUND, a reply that does not
 * parse is DNS_RETRY, as Postfix. After dns_dnssec_request() queries
 * carry the DO bit, and an answer is dnssec_valid when the reply's AD
 * bit is set (glibc clears it unless resolv.conf has "options trust-ad").
 *
 * SECURITY: the reply is untrusted. It is read into a buffer of
 * DNS_ANSWER_MAX bytes (the largest DNS message) and parsed only with the
 * resolver's bounds-checked ns_* functions; names are uncompressed with
 * ns_name_uncompress() into DNS_NAME_MAX bytes (it escapes unusual
 * characters); record data with a length that does not fit its type is
 * skipped; at most DNS_RR_MAX records are kept; TXT text is bounded by
 * the record's own length and DNS_TEXT_MAX and made printable; TLSA data
 * is copied only when it fits DNS_TLSA_DATA_MAX (the record is skipped
 * otherwise) and is never treated as text.
 *
 * DIAGNOSTICS: none; a failed query or a malformed answer is a DNS_*
 * status with the reason text; nothing here logs.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "dns_impl.h"
#include "mem.h"
#include "printable.h"

/* ---- answers --------------------------------------------------------------- */

void
dns_answer_init(DNS_ANSWER *ans)
{
    memset(ans, 0, sizeof(*ans));
}

void
dns_answer_free(DNS_ANSWER *ans)
{
    mem_free(ans->rr);
    memset(ans, 0, sizeof(*ans));
}

static void
dns_answer_reset(DNS_ANSWER *ans)
{
    ans->count = 0;
    ans->nxdomain = 0;
    ans->dnssec_valid = 0;
}

/* A new record slot, or NULL when DNS_RR_MAX are kept already. */
static DNS_RR *
dns_answer_slot(DNS_ANSWER *ans)
{
    if (ans->count >= DNS_RR_MAX)
        return NULL;
    ans->rr = mem_grow(ans->rr, ans->count, &ans->cap, sizeof(DNS_RR), 4);
    return &ans->rr[ans->count];
}

/* Insertion sort: at most DNS_RR_MAX records, and equal ones keep their order. */
void
dns_answer_sort_mx(DNS_ANSWER *ans)
{
    for (int i = 1; i < ans->count; i++) {
        DNS_RR  tmp = ans->rr[i];
        int     j = i;

        for (; j > 0 && ans->rr[j - 1].pref > tmp.pref; j--)
            ans->rr[j] = ans->rr[j - 1];
        ans->rr[j] = tmp;
    }
}

const char *
dns_strtype(unsigned type)
{
    static char buf[32];

    switch (type) {
    case DNS_T_A: return "A";
    case DNS_T_CNAME: return "CNAME";
    case DNS_T_PTR: return "PTR";
    case DNS_T_MX: return "MX";
    case DNS_T_TXT: return "TXT";
    case DNS_T_AAAA: return "AAAA";
    case DNS_T_TLSA: return "TLSA";
    }
    snprintf(buf, sizeof(buf), "Unknown type %u", type);
    return buf;
}

/* ---- statuses and reasons ------------------------------------------------- */

int
dns_why_set(VSTRING *why, int status, const char *name, const char *type, const char *text)
{
    if (why != NULL)
        vstring_sprintf(why, "Host or domain name not found. "
                        "Name service error for name=%s type=%s: %s", name, type, text);
    return status;
}

int
dns_status(int herrno, const char *name, unsigned type, DNS_ANSWER *ans, VSTRING *why)
{
    const char *t = dns_strtype(type);

    dns_answer_reset(ans);
    switch (herrno) {
    case HOST_NOT_FOUND:
        ans->nxdomain = 1;
        return dns_why_set(why, DNS_NOTFOUND, name, t, DNS_TEXT_NOTFOUND);
    case NO_DATA:
        return dns_why_set(why, DNS_NOTFOUND, name, t, DNS_TEXT_NODATA);
    case NO_RECOVERY:
        return dns_why_set(why, DNS_FAIL, name, t, DNS_TEXT_FAIL);
    default:
        return dns_why_set(why, DNS_RETRY, name, t, DNS_TEXT_RETRY);
    }
}

/* ---- one record -------------------------------------------------------------- */

/* An uncompressed name without its trailing dot (the root is ""); 0 or -1. */
static int
dns_parse_name(const ns_msg *msg, const unsigned char *at, char *buf, size_t size)
{
    size_t  len;

    if (ns_name_uncompress(ns_msg_base(*msg), ns_msg_end(*msg), at, buf, size) < 0)
        return -1;
    len = strlen(buf);
    if (len > 0 && buf[len - 1] == '.')
        buf[len - 1] = 0;
    return 0;
}

/* TXT: the character-strings joined, cut at DNS_TEXT_MAX, printable; 0 or -1. */
static int
dns_parse_txt(const unsigned char *rd, size_t rdlen, char *buf)
{
    size_t  pos = 0, used = 0;

    while (pos < rdlen) {
        size_t  n = rd[pos++];

        if (n > rdlen - pos)
            return -1;
        for (size_t i = 0; i < n && used < DNS_TEXT_MAX - 1; i++)
            buf[used++] = rd[pos + i] ? (char) rd[pos + i] : '?';
        pos += n;
    }
    buf[used] = 0;
    printable_fix(buf, 0);
    return 0;
}

/* TLSA: three octets, then the association data; 0 or -1. */
static int
dns_parse_tlsa(const unsigned char *rd, size_t rdlen, DNS_RR *r)
{
    if (rdlen < 4 || rdlen - 3 > DNS_TLSA_DATA_MAX || rdlen - 3 > sizeof(r->data))
        return -1;
    r->tlsa_usage = rd[0];
    r->tlsa_selector = rd[1];
    r->tlsa_mtype = rd[2];
    r->data_len = rdlen - 3;
    memcpy(r->data, rd + 3, r->data_len);
    return 0;
}

/* Decode one record of the type asked into r; 0, or -1 to skip it. */
static int
dns_parse_rr(const ns_msg *msg, const ns_rr *rr, DNS_RR *r)
{
    const unsigned char *rd = ns_rr_rdata(*rr);
    size_t  rdlen = ns_rr_rdlen(*rr);

    memset(r, 0, sizeof(*r));
    r->type = ns_rr_type(*rr);
    switch (r->type) {
    case DNS_T_MX:
        if (rdlen < 3)
            return -1;
        r->pref = ns_get16(rd);
        return dns_parse_name(msg, rd + 2, r->data, sizeof(r->data));
    case DNS_T_PTR:
    case DNS_T_CNAME:
        return dns_parse_name(msg, rd, r->data, sizeof(r->data));
    case DNS_T_A:
    case DNS_T_AAAA:
        if (rdlen != (r->type == DNS_T_A ? 4 : 16))
            return -1;
        memcpy(r->addr, rd, rdlen);
        r->addr_len = rdlen;
        return inet_ntop(r->type == DNS_T_A ? AF_INET : AF_INET6, rd, r->data,
                         sizeof(r->data)) ? 0 : -1;
    case DNS_T_TXT:
        return dns_parse_txt(rd, rdlen, r->data);
    case DNS_T_TLSA:
        return dns_parse_tlsa(rd, rdlen, r);
    default:
        return -1;
    }
}

/* ---- a whole reply ------------------------------------------------------------ */

int
dns_parse(const unsigned char *msg, int len, const char *name, unsigned type,
          DNS_ANSWER *ans, VSTRING *why)
{
    const char *t = dns_strtype(type);
    ns_msg  handle;
    ns_rr   rr;
    DNS_RR *slot;
    int     total, rcode;

    dns_answer_reset(ans);
    if (len < 0 || len > DNS_ANSWER_MAX || ns_initparse(msg, len, &handle) < 0)
        return dns_why_set(why, DNS_RETRY, name, t, DNS_TEXT_MALFORMED);
    rcode = ns_msg_getflag(handle, ns_f_rcode);
    if (rcode != ns_r_noerror)                  /* as the resolver's h_errno */
        return dns_status(rcode == ns_r_nxdomain ? HOST_NOT_FOUND : rcode == ns_r_servfail
                          ? TRY_AGAIN : NO_RECOVERY, name, type, ans, why);
    total = ns_msg_count(handle, ns_s_an);
    for (int i = 0; i < total; i++) {
        if (ns_parserr(&handle, ns_s_an, i, &rr) < 0) {
            ans->count = 0;
            return dns_why_set(why, DNS_RETRY, name, t, DNS_TEXT_MALFORMED);
        }
        if (ns_rr_class(rr) != ns_c_in || ns_rr_type(rr) != type
            || (slot = dns_answer_slot(ans)) == NULL)
            continue;
        if (dns_parse_rr(&handle, &rr, slot) == 0)
            ans->count++;
    }
    if (ans->count == 0)
        return dns_why_set(why, DNS_NOTFOUND, name, t, DNS_TEXT_NODATA);
    ans->dnssec_valid = ns_msg_getflag(handle, ns_f_ad) != 0;
    return DNS_OK;
}

static int dns_want_dnssec;

void
dns_dnssec_request(void)
{
    dns_want_dnssec = 1;
}

int
dns_lookup(const char *name, unsigned type, DNS_ANSWER *ans, VSTRING *why)
{
    static int inited;
    unsigned char *msg;
    int     len, status;

    if (strlen(name) > DNS_NAME_MAX - 2)
        return dns_status(HOST_NOT_FOUND, name, type, ans, why);
    if (!inited) {
        (void) res_init();
        if (dns_want_dnssec)
            _res.options |= RES_USE_DNSSEC | RES_USE_EDNS0;
        inited = 1;
    }
    msg = mem_alloc(DNS_ANSWER_MAX);
    h_errno = 0;
    len = res_query(name, ns_c_in, (int) type, msg, DNS_ANSWER_MAX);
    if (len < 0)
        status = dns_status(h_errno, name, type, ans, why);
    else
        status = dns_parse(msg, len, name, type, ans, why);
    mem_free(msg);
    return status;
}
