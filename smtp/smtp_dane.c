/*
 * smtp_dane.c - the "dane" and "dane-only" TLS security levels of the
 * SMTP client (RFC 7672): per MX host, DNSSEC-validated TLSA records
 * decide whether TLS is required and how the certificate is checked.
 *
 * Interface (smtp.h): smtp_dane_init(lmtp), smtp_dane_policy(dest,
 * conf, addr, eff, why), smtp_dane_policy_free(eff).
 *
 * smtp_dane_policy() runs before each connection when the next hop's
 * level (smtp_tls_security_level or smtp_tls_policy_maps) is dane or
 * dane-only, and gives the level for that host, as Postfix:
 *   - smtp_dns_support_level is not "dnssec", or smtp_host_lookup lacks
 *     "dns": a warning "DEST: dane configured with dnssec lookups
 *     disabled"; dane acts as "may", dane-only defers the mail;
 *   - the MX answer that named the host was not validated (no AD bit):
 *     dane-only defers ("non DNSSEC destination"); dane follows
 *     smtp_tls_dane_insecure_mx_policy: may, encrypt (when TLSA records
 *     are found), or dane (TLSA records used, a match is logged as
 *     "Trusted", not "Verified": the MX name could be forged);
 *   - the host's address records (A or AAAA, by the family of the
 *     address) were not validated: no TLSA lookup, as none is found;
 *   - the TLSA lookup at _PORT._tcp.HOST fails (SERVFAIL, timeout):
 *     defer, "TLSA lookup error for HOST:PORT";
 *   - no validated TLSA records: dane is "may", dane-only defers ("no
 *     TLSA records found");
 *   - records, none usable (only PKIX-TA/PKIX-EE, unknown selectors or
 *     matching types, wrong digest lengths): dane is "encrypt",
 *     dane-only defers ("TLSA records unusable");
 *   - usable records: TLS is mandatory (the mandatory protocols and
 *     ciphers) and the certificate must match one record (lib/tls,
 *     OpenSSL's DANE code; DANE-TA chains must name the host or the next
 *     hop), else "Server certificate not trusted" (smtp_tls.c).
 * A deferral is also logged as "warning: TLS policy lookup for DEST/HOST:
 * REASON", and the next MX host is tried.
 *
 * SECURITY: TLSA records are used only from answers the local validating
 * resolver marked as validated (AD bit, lib/dns); an unvalidated answer
 * counts as no answer, so a forged one cannot lower nor replace the
 * requirement. The resolver path must be trusted (a name server on
 * loopback, "options trust-ad" in resolv.conf), as Postfix documents.
 *
 * DIAGNOSTICS: the warnings above; the recipients' deferral reasons.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dns.h"
#include "mem.h"
#include "msg.h"
#include "smtp.h"

static const char *dane_mx_policy_name = "may";
static int dane_mx_policy = SMTP_TLS_MAY;     /* for insecure MX answers */

static const CONFIG_VAR smtp_dane_vars[] = {
    CONFIG_VAR_STR("smtp_tls_dane_insecure_mx_policy", &dane_mx_policy_name),
    CONFIG_VAR_END,
};

void
smtp_dane_init(int lmtp)
{
    config_read_vars(smtp_dane_vars);  /* LMTP has no MX lookups: no lmtp_ one */
    if (strcasecmp(dane_mx_policy_name, "may") == 0)
        dane_mx_policy = SMTP_TLS_MAY;
    else if (strcasecmp(dane_mx_policy_name, "encrypt") == 0)
        dane_mx_policy = SMTP_TLS_ENCRYPT;
    else if (strcasecmp(dane_mx_policy_name, "dane") == 0)
        dane_mx_policy = SMTP_TLS_DANE;
    else
        msg_fatal("invalid smtp_tls_dane_insecure_mx_policy value: \"%s\"",
                  dane_mx_policy_name);
}

/* Why DANE does not apply */
#define DANE_CONFIG    0            /* our configuration */
#define DANE_NONE      1            /* no (validated) TLSA records */
#define DANE_UNUSABLE  2            /* records, none usable */

/* dane: a weaker level (0); dane-only: defer (-1, why set). */
static int
smtp_dane_incompat(const char *dest, const SMTP_ADDR *a, SMTP_TLS_POLICY *eff, int kind,
                   SMTP_WHY *why, const char *reason)
{
    if (kind == DANE_CONFIG)
        msg_warn("%s: %s configured with dnssec lookups disabled", dest,
                 eff->level == SMTP_TLS_DANE ? "dane" : "dane-only");
    if (eff->level == SMTP_TLS_DANE) {
        eff->level = kind == DANE_UNUSABLE ? SMTP_TLS_ENCRYPT : SMTP_TLS_MAY;
        return 0;
    }
    if (kind == DANE_CONFIG)
        smtp_why_set(why, DELIVER_DEFER, "4.7.5", "client TLS configuration problem");
    else
        smtp_why_set(why, DELIVER_DEFER, "4.7.5", "%s", reason);
    msg_warn("TLS policy lookup for %s/%s: %s", dest, a->host, STR(why->text));
    snprintf(why->relay, sizeof(why->relay), "none");
    return -1;
}

/* Were the address records of a's family validated? */
static int
smtp_dane_host_secure(const SMTP_ADDR *a)
{
    DNS_ANSWER ans;
    int     ok;

    dns_answer_init(&ans);
    ok = dns_lookup(a->host, a->sa.ss_family == AF_INET6 ? DNS_T_AAAA : DNS_T_A, &ans,
                    NULL) == DNS_OK && ans.dnssec_valid;
    dns_answer_free(&ans);
    return ok;
}

static unsigned
smtp_dane_port(const SMTP_ADDR *a)
{
    return a->sa.ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *) &a->sa)->sin6_port)
        : ntohs(((const struct sockaddr_in *) &a->sa)->sin_port);
}

/* The validated TLSA records: DNS_OK with ans filled, DNS_NOTFOUND (none,
 * or not validated), DNS_RETRY / DNS_FAIL. */
static int
smtp_dane_tlsa(const SMTP_ADDR *a, DNS_ANSWER *ans)
{
    char    qname[SMTP_HOST_MAX + 32];
    int     status;

    snprintf(qname, sizeof(qname), "_%u._tcp.%s", smtp_dane_port(a), a->host);
    status = dns_lookup(qname, DNS_T_TLSA, ans, NULL);
    if (status == DNS_OK && !ans->dnssec_valid)
        return DNS_NOTFOUND;
    return status;
}

/* The usable records of ans, for host a of next hop nexthop; NULL: none. */
static TLS_DANE *
smtp_dane_records(const DNS_ANSWER *ans, const SMTP_ADDR *a, const char *nexthop)
{
    TLS_DANE *d = tls_dane_alloc(a->host);

    for (int i = 0; i < ans->count; i++) {
        const DNS_RR *rr = &ans->rr[i];

        (void) tls_dane_add(d, rr->tlsa_usage, rr->tlsa_selector, rr->tlsa_mtype,
                            (const unsigned char *) rr->data, rr->data_len);
    }
    if (tls_dane_count(d) == 0) {
        tls_dane_free(d);
        return NULL;
    }
    if (*nexthop && strcasecmp(nexthop, a->host) != 0)
        tls_dane_add_name(d, nexthop);
    return d;
}

/* After the checks on configuration and MX: look up and use the records. */
static int
smtp_dane_resolve(const char *dest, const SMTP_ADDR *a, SMTP_TLS_POLICY *eff, SMTP_WHY *why)
{
    DNS_ANSWER ans;
    int     status;

    if (!smtp_dane_host_secure(a))
        return smtp_dane_incompat(dest, a, eff, DANE_NONE, why, "no TLSA records found");
    dns_answer_init(&ans);
    status = smtp_dane_tlsa(a, &ans);
    if (status == DNS_OK)
        eff->dane = smtp_dane_records(&ans, a, eff->nexthop);
    dns_answer_free(&ans);
    if (status == DNS_RETRY || status == DNS_FAIL) {
        smtp_why_set(why, DELIVER_DEFER, "4.7.5", "TLSA lookup error for %s:%u", a->host,
                     smtp_dane_port(a));
        msg_warn("TLS policy lookup for %s/%s: %s", dest, a->host, STR(why->text));
        snprintf(why->relay, sizeof(why->relay), "none");
        return -1;
    }
    if (status != DNS_OK)
        return smtp_dane_incompat(dest, a, eff, DANE_NONE, why, "no TLSA records found");
    if (eff->dane == NULL)
        return smtp_dane_incompat(dest, a, eff, DANE_UNUSABLE, why, "TLSA records unusable");
    if (a->mx_insecure && dane_mx_policy == SMTP_TLS_ENCRYPT) {
        tls_dane_free(eff->dane);
        eff->dane = NULL;
    }
    eff->dane_insecure_mx = a->mx_insecure;
    eff->level = SMTP_TLS_ENCRYPT;  /* with eff->dane: the records must match */
    return 0;
}

static int
smtp_dane_dns_usable(void)
{
    const char *v = smtp_params.host_lookup;

    return smtp_params.dnssec && !smtp_params.disable_dns_lookups
        && (v == NULL || *v == 0 || strcasestr(v, "dns") != NULL);
}

int
smtp_dane_policy(const char *dest, const SMTP_TLS_POLICY *conf, const SMTP_ADDR *a,
                 SMTP_TLS_POLICY *eff, SMTP_WHY *why)
{
    *eff = *conf;
    eff->dane = NULL;
    eff->dane_insecure_mx = 0;
    if (!smtp_dane_dns_usable())
        return smtp_dane_incompat(dest, a, eff, DANE_CONFIG, why, "");
    if (a->mx_insecure && (eff->level == SMTP_TLS_DANE_ONLY || dane_mx_policy == SMTP_TLS_MAY))
        return smtp_dane_incompat(dest, a, eff, DANE_NONE, why, "non DNSSEC destination");
    return smtp_dane_resolve(dest, a, eff, why);
}

void
smtp_dane_policy_free(SMTP_TLS_POLICY *eff)
{
    tls_dane_free(eff->dane);
    eff->dane = NULL;
}
