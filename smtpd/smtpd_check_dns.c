/*
 * smtpd_check_dns.c - the syntax and DNS-based restrictions of
 * smtpd_check.c: reject_non_fqdn_{sender,recipient,helo_hostname},
 * reject_invalid_helo_hostname, reject_unknown_{sender,recipient}_domain,
 * reject_rbl_client, reject_rhsbl_{client,sender,helo},
 * reject_unknown_client_hostname, reject_unknown_reverse_client_hostname.
 *
 * SECURITY: the names come from the client; they are checked for syntax
 * before they become DNS query names (bounded by DNS_NAME_MAX) and are
 * escaped in replies by the msg_* and chat layers. A resolver failure is
 * a 450 (try again), never an accept or a 5xx.
 *
 * DIAGNOSTICS: an RBL lookup error is logged as a warning and the list
 * is skipped, as Postfix does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "dns.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "smtpd_check_impl.h"
#include "valid_hostname.h"

/* ---- syntax checks -------------------------------------------------------- */

int
check_non_fqdn(CHECK_CTX *ctx, const char *addr, const char *what)
{
    const char *domain;
    long    code = var_non_fqdn_code;

    if (addr == NULL || *addr == 0)
        return CHECK_DUNNO;
    domain = address_domain(addr);
    if (domain && strchr(domain, '.') && domain[strlen(domain) - 1] != '.')
        return CHECK_DUNNO;
    return check_reject(ctx, code, "5.5.2", "<%s>: %s rejected: need fully-qualified address",
                        addr, what);
}

/*
 * A HELO name (reject_invalid_helo_hostname, reject_rhsbl_helo): the one
 * rule of valid_hostname(), plus a root dot ("host.example.", then
 * refused by reject_non_fqdn_helo_hostname) and '-' anywhere, as before.
 */
static int
check_valid_hostname(const char *name)
{
    return valid_hostname(name, VALID_HOSTNAME_ROOT_DOT | VALID_HOSTNAME_ANY_HYPHEN);
}

/* "[1.2.3.4]" or "[IPv6:...]" */
static int
check_addr_literal(const char *name)
{
    size_t  len = strlen(name);
    char    buf[64];
    unsigned char bin[16];

    if (len < 3 || len >= sizeof(buf) || name[0] != '[' || name[len - 1] != ']')
        return 0;
    memcpy(buf, name + 1, len - 2);
    buf[len - 2] = 0;
    if (strncasecmp(buf, "IPv6:", 5) == 0)
        return inet_pton(AF_INET6, buf + 5, bin) == 1;
    return inet_pton(AF_INET, buf, bin) == 1;
}

int
check_helo_syntax(CHECK_CTX *ctx, int fqdn)
{
    const char *helo = ctx->state->helo_name;
    long    code;

    if (helo == NULL || check_addr_literal(helo))
        return CHECK_DUNNO;
    if (!check_valid_hostname(helo)) {
        code = var_bad_name_code;
        return check_reject(ctx, code, "5.5.2", "<%s>: Helo command rejected: Invalid name", helo);
    }
    if (fqdn && (strchr(helo, '.') == NULL || helo[strlen(helo) - 1] == '.')) {
        code = var_non_fqdn_code;
        return check_reject(ctx, code, "5.5.2",
                            "<%s>: Helo command rejected: need fully-qualified hostname", helo);
    }
    return CHECK_DUNNO;
}

/* ---- DNS-based checks ------------------------------------------------------ */

/* 1 when name has records of type, 0 none (NXDOMAIN/NODATA), -1 try again
 * (why, when not NULL: the reason in Postfix's wording).
 * The records are left in ans when it is not NULL. */
static int
check_dns_exists_why(const char *name, unsigned type, DNS_ANSWER *ans, VSTRING *why)
{
    DNS_ANSWER tmp;
    int     st;

    if (ans == NULL) {
        dns_answer_init(&tmp);
        ans = &tmp;
    }
    switch (dns_lookup(name, type, ans, why)) {
    case DNS_OK:
        st = 1;
        break;
    case DNS_NOTFOUND:
        st = 0;
        break;
    default:
        st = -1;
        break;
    }
    if (ans == &tmp)
        dns_answer_free(&tmp);
    return st;
}

static int
check_dns_exists(const char *name, unsigned type, DNS_ANSWER *ans)
{
    return check_dns_exists_why(name, type, ans, NULL);
}

/* A domain that can receive mail: MX, or A/AAAA. 1 / 0 / -1 */
static int
check_domain_exists(const char *domain)
{
    int     st, st2;

    if ((st = check_dns_exists(domain, DNS_T_MX, NULL)) != 0)
        return st;
    if ((st = check_dns_exists(domain, DNS_T_A, NULL)) == 1)
        return 1;
    st2 = check_dns_exists(domain, DNS_T_AAAA, NULL);
    return st2 == 1 ? 1 : (st < 0 || st2 < 0) ? -1 : 0;
}

int
check_unknown_domain(CHECK_CTX *ctx, const char *addr, const char *class, int is_sender)
{
    const char *domain;
    int     st;
    long    code;

    if (addr == NULL || *addr == 0 || (domain = address_domain(addr)) == NULL
        || *domain == '[' || resolve_local(domain))
        return CHECK_DUNNO;
    if ((st = check_domain_exists(domain)) == 1)
        return CHECK_DUNNO;
    code = st < 0 ? 450 : var_unk_addr_code;
    return check_reject(ctx, code, is_sender ? "5.1.8" : "5.1.2",
                        "<%s>: %s rejected: Domain not found", addr, class);
}

/* "zone[=filter]": look up query in zone; 1 listed (reason in txt), 0, -1. */
static int
check_dnsbl(const char *query, const char *zone, VSTRING *txt)
{
    char   *copy = mem_strdup(zone), *eq = strchr(copy, '=');
    char   *name;
    DNS_ANSWER ans;
    VSTRING *why = vstring_alloc(DNS_TEXT_MAX);
    int     st, listed = 0;

    if (eq)
        *eq++ = 0;
    name = mem_printf("%s.%s", query, copy);
    dns_answer_init(&ans);
    if ((st = check_dns_exists_why(name, DNS_T_A, &ans, why)) < 0)     /* skipped, */
        msg_warn("%s: RBL lookup error: %s", name, STR(why));        /* as Postfix logs it */
    for (int i = 0; st == 1 && i < ans.count; i++)
        if (eq == NULL || strcmp(eq, ans.rr[i].data) == 0)
            listed = 1;
    vstring_reset(txt);
    if (listed && check_dns_exists(name, DNS_T_TXT, &ans) == 1)
        vstring_strcpy(txt, ans.rr[0].data);
    dns_answer_free(&ans);
    vstring_free(why);
    mem_free(name);
    mem_free(copy);
    return st < 0 ? -1 : listed;
}

int
check_rbl(CHECK_CTX *ctx, const char *name, const char *zone)
{
    SMTPD_STATE *state = ctx->state;
    VSTRING *query = vstring_alloc(DNS_NAME_MAX);
    VSTRING *txt = vstring_alloc(DNS_TEXT_MAX);
    const char *what = NULL, *class = NULL;
    int     st = 0;

    if (strcasecmp(name, "reject_rbl_client") == 0) {
        what = state->addr, class = "Client host";
        (void) dns_addr_reverse(state->addr, query);
    } else if (strcasecmp(name, "reject_rhsbl_client") == 0) {
        if (strcmp(state->name, "unknown") != 0)
            what = state->name, class = "Client host";
    } else if (strcasecmp(name, "reject_rhsbl_sender") == 0) {
        if (state->sender && address_domain(state->sender))
            what = address_domain(state->sender), class = "Sender address";
    } else if (strcasecmp(name, "reject_rhsbl_helo") == 0) {
        if (state->helo_name && check_valid_hostname(state->helo_name))
            what = state->helo_name, class = "Helo command";
    }
    if (what && LEN(query) == 0)
        vstring_strcpy(query, what);
    if (what && LEN(query) > 0)
        st = check_dnsbl(STR(query), zone, txt);
    if (st > 0) {
        char   *z = mem_strndup(zone, strcspn(zone, "="));
        st = check_reject(ctx, var_maps_rbl_code, "5.7.1",
                          "Service unavailable; %s [%s] blocked using %s%s%s",
                          class, what, z, LEN(txt) ? "; " : "", STR(txt));
        mem_free(z);
    } else {
        st = CHECK_DUNNO;
    }
    vstring_free(query);
    vstring_free(txt);
    return st;
}

int
check_unknown_client(CHECK_CTX *ctx, int reverse)
{
    SMTPD_STATE *state = ctx->state;
    const char *name = reverse ? state->reverse_name : state->name;

    if (name && strcmp(name, "unknown") != 0)
        return CHECK_DUNNO;
    return check_reject(ctx, var_unk_client_code, "5.7.25",
                        "Client host rejected: cannot find your %shostname, [%s]",
                        reverse ? "reverse " : "", state->addr);
}
