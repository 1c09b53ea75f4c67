/*
 * tls_dane.c - DANE (RFC 7671, RFC 7672) for the TLS client, on OpenSSL's
 * own DANE support: the TLSA records of a server, and the check that its
 * certificate matches one of them.
 *
 * Interface (tls.h):
 *   tls_dane_alloc(base)      an empty record set for the TLSA base
 *                             domain (the MX host name)
 *   tls_dane_add(d, usage, selector, mtype, data, len)
 *                             one TLSA record; 1 when usable and kept, 0
 *                             when ignored (see below)
 *   tls_dane_add_name(d, name)  another name a DANE-TA(2) chain's leaf
 *                             may carry (the next-hop domain)
 *   tls_dane_count(d)         the usable records kept
 *   tls_dane_free(d)
 * and, for tls_client.c (tls_impl.h), tls_dane_enable(ctx),
 * tls_dane_apply(ssl, d) and tls_dane_matched(ssl).
 *
 * Usable, as in Postfix's SMTP client: certificate usages DANE-TA(2) and
 * DANE-EE(3) (PKIX-TA(0) and PKIX-EE(1) are ignored, RFC 7672 section
 * 3.1.3), selectors Cert(0) and SPKI(1), matching types Full(0),
 * SHA2-256(1) with 32 bytes and SHA2-512(2) with 64. OpenSSL does the
 * matching (SSL_dane_tlsa_add, SSL_get0_dane_authority): DANE-EE needs
 * no name check and no chain (DANE_FLAG_NO_DANE_EE_NAMECHECKS); DANE-TA
 * needs the chain to lead to the record's certificate or key, and the
 * leaf to carry the base domain or an added name. The base domain is
 * also the SNI name unless the caller set one.
 *
 * SECURITY: the records come from DNS answers the caller has found
 * DNSSEC-validated; their data is bounded by the caller (lib/dns keeps at
 * most DNS_TLSA_DATA_MAX bytes) and here by TLS_DANE_MAX records; OpenSSL
 * parses Full(0) data itself and rejects what does not parse.
 *
 * DIAGNOSTICS: none here; a record OpenSSL refuses is dropped after its
 * errors are logged ("TLS library problem: ...").
 */
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mem.h"
#include "tls.h"
#include "tls_impl.h"

#define TLS_DANE_MAX 100            /* records kept per host */

typedef struct TLS_DANE_RR {
    unsigned char usage, selector, mtype;
    unsigned char *data;
    size_t  len;
} TLS_DANE_RR;

struct TLS_DANE {
    char   *base;
    ARGV   *names;
    TLS_DANE_RR rr[TLS_DANE_MAX];
    int     count;
};

TLS_DANE *
tls_dane_alloc(const char *base)
{
    TLS_DANE *d = mem_alloc(sizeof(*d));

    memset(d, 0, sizeof(*d));
    d->base = mem_strdup(base);
    d->names = argv_alloc();
    return d;
}

void
tls_dane_add_name(TLS_DANE *d, const char *name)
{
    argv_add(d->names, name);
}

/* Usage, selector, matching type and data length fit the SMTP profile. */
static int
tls_dane_usable(unsigned usage, unsigned selector, unsigned mtype, size_t len)
{
    if ((usage != 2 && usage != 3) || selector > 1 || len == 0)
        return 0;
    return mtype == 0 || (mtype == 1 && len == 32) || (mtype == 2 && len == 64);
}

int
tls_dane_add(TLS_DANE *d, unsigned usage, unsigned selector, unsigned mtype,
             const unsigned char *data, size_t len)
{
    TLS_DANE_RR *rr;

    if (!tls_dane_usable(usage, selector, mtype, len) || d->count >= TLS_DANE_MAX)
        return 0;
    rr = &d->rr[d->count++];
    rr->usage = (unsigned char) usage;
    rr->selector = (unsigned char) selector;
    rr->mtype = (unsigned char) mtype;
    rr->data = mem_alloc(len);
    memcpy(rr->data, data, len);
    rr->len = len;
    return 1;
}

int
tls_dane_count(const TLS_DANE *d)
{
    return d ? d->count : 0;
}

void
tls_dane_free(TLS_DANE *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < d->count; i++)
        mem_free(d->rr[i].data);
    argv_free(d->names);
    mem_free(d->base);
    mem_free(d);
}

int
tls_dane_enable(SSL_CTX *ctx)
{
    return SSL_CTX_dane_enable(ctx) > 0;
}

int
tls_dane_apply(SSL *ssl, const TLS_DANE *d)
{
    int     added = 0;

    if (SSL_dane_enable(ssl, d->base) <= 0)
        return -1;
    (void) SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    for (size_t i = 0; i < d->names->argc; i++)
        if (strcasecmp(d->names->argv[i], d->base) != 0)
            (void) SSL_add1_host(ssl, d->names->argv[i]);
    for (int i = 0; i < d->count; i++) {
        const TLS_DANE_RR *rr = &d->rr[i];

        if (SSL_dane_tlsa_add(ssl, rr->usage, rr->selector, rr->mtype, rr->data, rr->len) > 0)
            added++;
        else
            tls_print_errors();
    }
    return added > 0 ? 0 : -1;
}

int
tls_dane_matched(SSL *ssl)
{
    return SSL_get_verify_result(ssl) == X509_V_OK
        && SSL_get0_dane_authority(ssl, NULL, NULL) >= 0;
}
