/*
 * test_dns_lookup.c - lib/dns/dns_lookup.c without a network: the
 * resolver statuses and reasons (dns_status), and hand-made answer
 * packets (dns_parse): MX with preference and null MX, A/AAAA, TXT,
 * PTR, CNAME-only answers, rcodes, truncated and malformed replies,
 * the record limit, TLSA records and the AD bit (dnssec_valid).
 */
#include <arpa/nameser.h>
#include <netdb.h>
#include <string.h>

#include "dns.h"
#include "unit.h"

/* ---- a tiny DNS message builder ------------------------------------------ */

typedef struct PKT {
    unsigned char buf[DNS_ANSWER_MAX];
    int     len;
    int     ancount;
} PKT;

static void
put8(PKT *p, unsigned v)
{
    p->buf[p->len++] = (unsigned char) v;
}

static void
put16(PKT *p, unsigned v)
{
    put8(p, v >> 8);
    put8(p, v & 0xff);
}

static void
put_name(PKT *p, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t  n = dot ? (size_t) (dot - name) : strlen(name);

        put8(p, (unsigned) n);
        memcpy(p->buf + p->len, name, n);
        p->len += (int) n;
        name += n + (dot ? 1 : 0);
    }
    put8(p, 0);
}

/* Header and question; rcode in the flags. */
static void
pkt_start(PKT *p, const char *qname, unsigned qtype, unsigned rcode)
{
    memset(p, 0, sizeof(*p));
    put16(p, 0x1234);
    put16(p, 0x8180 | rcode);               /* QR, RD, RA */
    put16(p, 1);
    put16(p, 0);                            /* ancount: set by pkt_rr */
    put16(p, 0);
    put16(p, 0);
    put_name(p, qname);
    put16(p, qtype);
    put16(p, ns_c_in);
}

/* An answer record owned by the question name (pointer 0xc00c). */
static void
pkt_rr(PKT *p, unsigned type, unsigned class, const unsigned char *rdata, int rdlen)
{
    put16(p, 0xc00c);
    put16(p, type);
    put16(p, class);
    put16(p, 0);
    put16(p, 300);                          /* ttl */
    put16(p, (unsigned) rdlen);
    memcpy(p->buf + p->len, rdata, (size_t) rdlen);
    p->len += rdlen;
    p->ancount++;
    p->buf[6] = (unsigned char) (p->ancount >> 8);
    p->buf[7] = (unsigned char) (p->ancount & 0xff);
}

static int
name_rdata(unsigned char *out, const char *name)
{
    PKT     tmp;

    memset(&tmp, 0, sizeof(tmp));
    put_name(&tmp, name);
    memcpy(out, tmp.buf, (size_t) tmp.len);
    return tmp.len;
}

static void
pkt_mx(PKT *p, unsigned pref, const char *host)
{
    unsigned char rd[300];
    int     n;

    rd[0] = (unsigned char) (pref >> 8);
    rd[1] = (unsigned char) (pref & 0xff);
    n = name_rdata(rd + 2, host);
    pkt_rr(p, DNS_T_MX, ns_c_in, rd, n + 2);
}

static int
parse(PKT *p, const char *name, unsigned type, DNS_ANSWER *ans, VSTRING *why)
{
    return dns_parse(p->buf, p->len, name, type, ans, why);
}

/* ---- statuses ------------------------------------------------------------- */

UNIT_TEST(test_status_mapping)
{
    DNS_ANSWER ans;
    VSTRING *why = vstring_alloc(1000);

    dns_answer_init(&ans);
    CHECK_INT(dns_status(HOST_NOT_FOUND, "nx.example", DNS_T_MX, &ans, why), DNS_NOTFOUND);
    CHECK_INT(ans.nxdomain, 1);
    CHECK_STR(STR(why), "Host or domain name not found. Name service error for "
              "name=nx.example type=MX: Host not found");
    CHECK_INT(dns_status(NO_DATA, "a.example", DNS_T_A, &ans, why), DNS_NOTFOUND);
    CHECK_INT(ans.nxdomain, 0);
    CHECK_STR(STR(why), "Host or domain name not found. Name service error for "
              "name=a.example type=A: Host found but no data record of requested type");
    CHECK_INT(dns_status(TRY_AGAIN, "t.example", DNS_T_AAAA, &ans, why), DNS_RETRY);
    CHECK_STR(STR(why), "Host or domain name not found. Name service error for "
              "name=t.example type=AAAA: Host not found, try again");
    CHECK_INT(dns_status(NO_RECOVERY, "f.example", DNS_T_TXT, &ans, why), DNS_FAIL);
    CHECK_STR(STR(why), "Host or domain name not found. Name service error for "
              "name=f.example type=TXT: Non-recoverable error");
    CHECK_INT(dns_status(0, "z.example", DNS_T_PTR, &ans, NULL), DNS_RETRY);
    CHECK_STR(dns_strtype(99), "Unknown type 99");
    dns_answer_free(&ans);
    vstring_free(why);
}

UNIT_TEST(test_rcodes)
{
    static PKT p;
    DNS_ANSWER ans;
    VSTRING *why = vstring_alloc(1000);

    dns_answer_init(&ans);
    pkt_start(&p, "nx.example", DNS_T_MX, ns_r_nxdomain);
    CHECK_INT(parse(&p, "nx.example", DNS_T_MX, &ans, why), DNS_NOTFOUND);
    CHECK_INT(ans.nxdomain, 1);
    pkt_start(&p, "sf.example", DNS_T_MX, ns_r_servfail);
    CHECK_INT(parse(&p, "sf.example", DNS_T_MX, &ans, why), DNS_RETRY);
    CHECK_INT(ans.nxdomain, 0);
    pkt_start(&p, "ref.example", DNS_T_MX, ns_r_refused);
    CHECK_INT(parse(&p, "ref.example", DNS_T_MX, &ans, why), DNS_FAIL);
    pkt_start(&p, "empty.example", DNS_T_MX, ns_r_noerror);       /* NODATA */
    CHECK_INT(parse(&p, "empty.example", DNS_T_MX, &ans, why), DNS_NOTFOUND);
    CHECK_INT(ans.nxdomain, 0);
    CHECK(strstr(STR(why), "Host found but no data record of requested type") != NULL);
    dns_answer_free(&ans);
    vstring_free(why);
}

/* ---- records ---------------------------------------------------------------- */

UNIT_TEST(test_mx_sorted)
{
    static PKT p;
    DNS_ANSWER ans;

    dns_answer_init(&ans);
    pkt_start(&p, "example.test", DNS_T_MX, 0);
    pkt_mx(&p, 20, "mx2.example.test");
    pkt_mx(&p, 10, "mx1.example.test");
    pkt_mx(&p, 20, "mx3.example.test");
    CHECK_INT(parse(&p, "example.test", DNS_T_MX, &ans, NULL), DNS_OK);
    CHECK_INT(ans.count, 3);
    dns_answer_sort_mx(&ans);
    CHECK_INT(ans.rr[0].pref, 10);
    CHECK_STR(ans.rr[0].data, "mx1.example.test");
    CHECK_STR(ans.rr[1].data, "mx2.example.test");     /* equal preferences keep order */
    CHECK_STR(ans.rr[2].data, "mx3.example.test");
    CHECK_INT(ans.rr[2].type, DNS_T_MX);
    dns_answer_free(&ans);
}

UNIT_TEST(test_null_mx)
{
    static PKT p;
    DNS_ANSWER ans;
    static const unsigned char rd[] = {0, 0, 0};        /* preference 0, root */

    dns_answer_init(&ans);
    pkt_start(&p, "nomail.test", DNS_T_MX, 0);
    pkt_rr(&p, DNS_T_MX, ns_c_in, rd, sizeof(rd));
    CHECK_INT(parse(&p, "nomail.test", DNS_T_MX, &ans, NULL), DNS_OK);
    CHECK_INT(ans.count, 1);
    CHECK_STR(ans.rr[0].data, "");
    dns_answer_free(&ans);
}

UNIT_TEST(test_addresses)
{
    static PKT p;
    DNS_ANSWER ans;
    static const unsigned char a[] = {192, 0, 2, 7};
    static const unsigned char bad[] = {192, 0, 2};
    static const unsigned char aaaa[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

    dns_answer_init(&ans);
    pkt_start(&p, "h.test", DNS_T_A, 0);
    pkt_rr(&p, DNS_T_A, ns_c_in, bad, sizeof(bad));    /* wrong length: skipped */
    pkt_rr(&p, DNS_T_A, ns_c_in, a, sizeof(a));
    pkt_rr(&p, DNS_T_A, ns_c_chaos, a, sizeof(a));     /* not IN: skipped */
    CHECK_INT(parse(&p, "h.test", DNS_T_A, &ans, NULL), DNS_OK);
    CHECK_INT(ans.count, 1);
    CHECK_STR(ans.rr[0].data, "192.0.2.7");
    CHECK_INT(ans.rr[0].addr_len, 4);
    CHECK(memcmp(ans.rr[0].addr, a, 4) == 0);
    pkt_start(&p, "h.test", DNS_T_AAAA, 0);
    pkt_rr(&p, DNS_T_AAAA, ns_c_in, aaaa, sizeof(aaaa));
    CHECK_INT(parse(&p, "h.test", DNS_T_AAAA, &ans, NULL), DNS_OK);
    CHECK_STR(ans.rr[0].data, "2001:db8::1");
    CHECK_INT(ans.rr[0].addr_len, 16);
    dns_answer_free(&ans);
}

UNIT_TEST(test_cname_only_is_nodata)
{
    static PKT p;
    DNS_ANSWER ans;
    unsigned char rd[300];
    int     n = name_rdata(rd, "target.test");

    dns_answer_init(&ans);
    pkt_start(&p, "alias.test", DNS_T_MX, 0);
    pkt_rr(&p, DNS_T_CNAME, ns_c_in, rd, n);
    CHECK_INT(parse(&p, "alias.test", DNS_T_MX, &ans, NULL), DNS_NOTFOUND);
    CHECK_INT(ans.nxdomain, 0);
    pkt_start(&p, "alias.test", DNS_T_CNAME, 0);
    pkt_rr(&p, DNS_T_CNAME, ns_c_in, rd, n);
    CHECK_INT(parse(&p, "alias.test", DNS_T_CNAME, &ans, NULL), DNS_OK);
    CHECK_STR(ans.rr[0].data, "target.test");
    dns_answer_free(&ans);
}

UNIT_TEST(test_txt_and_ptr)
{
    static PKT p;
    DNS_ANSWER ans;
    static const unsigned char txt[] = "\x05" "Go aw" "\x07" "ay\r\nnow";
    static const unsigned char bad[] = "\x09" "short";
    unsigned char rd[300];
    int     n = name_rdata(rd, "host.example.test");

    dns_answer_init(&ans);
    pkt_start(&p, "2.0.0.127.rbl.test", DNS_T_TXT, 0);
    pkt_rr(&p, DNS_T_TXT, ns_c_in, bad, sizeof(bad) - 1);      /* overruns: skipped */
    pkt_rr(&p, DNS_T_TXT, ns_c_in, txt, sizeof(txt) - 1);
    CHECK_INT(parse(&p, "2.0.0.127.rbl.test", DNS_T_TXT, &ans, NULL), DNS_OK);
    CHECK_INT(ans.count, 1);
    CHECK_STR(ans.rr[0].data, "Go away??now");         /* joined; no CR/LF */
    pkt_start(&p, "7.2.0.192.in-addr.arpa", DNS_T_PTR, 0);
    pkt_rr(&p, DNS_T_PTR, ns_c_in, rd, n);
    CHECK_INT(parse(&p, "7.2.0.192.in-addr.arpa", DNS_T_PTR, &ans, NULL), DNS_OK);
    CHECK_STR(ans.rr[0].data, "host.example.test");
    dns_answer_free(&ans);
}

UNIT_TEST(test_txt_bounded)
{
    static PKT p;
    DNS_ANSWER ans;
    unsigned char rd[4 * 256];
    int     n = 0;

    for (int s = 0; s < 4; s++) {
        rd[n++] = 255;
        memset(rd + n, 'x', 255);
        n += 255;
    }
    dns_answer_init(&ans);
    pkt_start(&p, "t.test", DNS_T_TXT, 0);
    pkt_rr(&p, DNS_T_TXT, ns_c_in, rd, n);
    CHECK_INT(parse(&p, "t.test", DNS_T_TXT, &ans, NULL), DNS_OK);
    CHECK_INT(strlen(ans.rr[0].data), DNS_TEXT_MAX - 1);
    dns_answer_free(&ans);
}

UNIT_TEST(test_malformed)
{
    static PKT p;
    DNS_ANSWER ans;
    VSTRING *why = vstring_alloc(1000);

    dns_answer_init(&ans);
    pkt_start(&p, "m.test", DNS_T_MX, 0);
    pkt_mx(&p, 10, "mx.m.test");
    CHECK_INT(dns_parse(p.buf, 5, "m.test", DNS_T_MX, &ans, why), DNS_RETRY);
    CHECK_STR(STR(why), "Host or domain name not found. Name service error for "
              "name=m.test type=MX: Malformed or unexpected name server reply");
    CHECK_INT(parse(&p, "m.test", DNS_T_MX, &ans, why), DNS_OK);
    p.len -= 4;                                 /* the record is cut short */
    CHECK_INT(parse(&p, "m.test", DNS_T_MX, &ans, why), DNS_RETRY);
    CHECK_INT(ans.count, 0);
    CHECK_INT(dns_parse(p.buf, -1, "m.test", DNS_T_MX, &ans, why), DNS_RETRY);
    CHECK_INT(dns_parse(p.buf, DNS_ANSWER_MAX + 1, "m.test", DNS_T_MX, &ans, why), DNS_RETRY);
    dns_answer_free(&ans);
    vstring_free(why);
}

UNIT_TEST(test_record_limit)
{
    static PKT p;
    DNS_ANSWER ans;
    char    host[64];

    dns_answer_init(&ans);
    pkt_start(&p, "many.test", DNS_T_MX, 0);
    for (int i = 0; i < DNS_RR_MAX + 20; i++) {
        snprintf(host, sizeof(host), "mx%d.many.test", i);
        pkt_mx(&p, (unsigned) i, host);
    }
    CHECK_INT(parse(&p, "many.test", DNS_T_MX, &ans, NULL), DNS_OK);
    CHECK_INT(ans.count, DNS_RR_MAX);
    CHECK_STR(ans.rr[DNS_RR_MAX - 1].data, "mx99.many.test");
    dns_answer_free(&ans);
}

UNIT_TEST(test_tlsa_and_ad_bit)
{
    static PKT p;
    static unsigned char big[DNS_TLSA_DATA_MAX + 4];
    unsigned char rd[] = {3, 1, 1, 0xde, 0xad, 0xbe, 0xef};
    DNS_ANSWER ans;

    dns_answer_init(&ans);
    pkt_start(&p, "_25._tcp.mx.example", DNS_T_TLSA, 0);
    pkt_rr(&p, DNS_T_TLSA, ns_c_in, rd, sizeof(rd));
    pkt_rr(&p, DNS_T_TLSA, ns_c_in, rd, 3);                 /* no data: skipped */
    pkt_rr(&p, DNS_T_TLSA, ns_c_in, big, sizeof(big));      /* too long: skipped */
    CHECK_INT(parse(&p, "_25._tcp.mx.example", DNS_T_TLSA, &ans, NULL), DNS_OK);
    CHECK_INT(ans.count, 1);
    CHECK_INT(ans.rr[0].tlsa_usage, 3);
    CHECK_INT(ans.rr[0].tlsa_selector, 1);
    CHECK_INT(ans.rr[0].tlsa_mtype, 1);
    CHECK_INT((int) ans.rr[0].data_len, 4);
    CHECK(memcmp(ans.rr[0].data, rd + 3, 4) == 0);
    CHECK_INT(ans.dnssec_valid, 0);
    p.buf[3] |= 0x20;                                       /* AD */
    CHECK_INT(parse(&p, "_25._tcp.mx.example", DNS_T_TLSA, &ans, NULL), DNS_OK);
    CHECK_INT(ans.dnssec_valid, 1);
    CHECK_STR(dns_strtype(DNS_T_TLSA), "TLSA");
    dns_answer_free(&ans);
}

UNIT_TEST(test_overlong_name)
{
    DNS_ANSWER ans;
    char    name[DNS_NAME_MAX + 10];

    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = 0;
    dns_answer_init(&ans);
    CHECK_INT(dns_lookup(name, DNS_T_A, &ans, NULL), DNS_NOTFOUND);   /* no query sent */
    dns_answer_free(&ans);
}

UNIT_TESTS {
    {"test_status_mapping", test_status_mapping},
    {"test_rcodes", test_rcodes},
    {"test_mx_sorted", test_mx_sorted},
    {"test_null_mx", test_null_mx},
    {"test_addresses", test_addresses},
    {"test_cname_only_is_nodata", test_cname_only_is_nodata},
    {"test_txt_and_ptr", test_txt_and_ptr},
    {"test_txt_bounded", test_txt_bounded},
    {"test_malformed", test_malformed},
    {"test_record_limit", test_record_limit},
    {"test_tlsa_and_ad_bit", test_tlsa_and_ad_bit},
    {"test_overlong_name", test_overlong_name},
    UNIT_END
};
