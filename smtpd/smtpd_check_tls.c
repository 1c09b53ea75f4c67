/*
 * smtpd_check_tls.c - the restrictions on TLS client certificates.
 *
 * Interface: smtpd_check_impl.h (check_tls_preopen, check_tls_clientcerts,
 * check_ccert_access); smtpd_check.c dispatches to them.
 *
 *   permit_tls_all_clientcerts   permit a client whose certificate chains
 *                                to a trusted CA (smtpd_tls_CAfile/CApath)
 *   permit_tls_clientcerts       permit a client whose certificate
 *                                fingerprint, else public-key fingerprint,
 *                                is a key in relay_clientcerts (the chain
 *                                need not be trusted: the fingerprint is
 *                                the check)
 *   check_ccert_access type:table  the access(5) table, looked up with the
 *                                certificate fingerprint, then the
 *                                public-key fingerprint; replies name the
 *                                fingerprint as "Client certificate"
 *
 * All three need a client certificate, so smtpd_tls_ask_ccert (or
 * smtpd_tls_req_ccert); without TLS or a certificate they do nothing. The
 * fingerprints are lib/tls's (tls_sess_peer()), digest
 * smtpd_tls_fingerprint_digest.
 *
 * SECURITY: the fingerprints are computed by smtpd from the certificate
 * the client proved it holds the key of (the TLS handshake); a client
 * chooses nothing in the lookup key. A table failure is a 4xx, never a
 * permit.
 *
 * DIAGNOSTICS: "relay_clientcerts: lookup error for fingerprint ..." as
 * Postfix; "451 4.3.0 ... Temporary lookup failure" to the client.
 */
#include <string.h>

#include "config.h"
#include "maps.h"
#include "msg.h"
#include "smtpd.h"
#include "tls.h"

#include "smtpd_check_impl.h"

static const char *var_relay_ccerts;
static MAPS *check_relay_ccerts;        /* relay_clientcerts, or NULL */

static const CONFIG_VAR check_tls_vars[] = {
    CONFIG_VAR_STR("relay_clientcerts", &var_relay_ccerts),
    CONFIG_VAR_END,
};

/* pre_init, as root before any chroot: open relay_clientcerts. */
void
check_tls_preopen(void)
{
    config_read_vars(check_tls_vars);
    if (*var_relay_ccerts)
        check_relay_ccerts = maps_create("relay_clientcerts", var_relay_ccerts, 0);
}

/* The client's certificate, or NULL: no TLS, or no certificate. */
static const TLS_PEER *
check_tls_peer(CHECK_CTX *ctx)
{
    const TLS_PEER *peer;

    if (ctx->state->tls == NULL)
        return NULL;
    peer = tls_sess_peer(ctx->state->tls);
    return peer->present ? peer : NULL;
}

int
check_tls_clientcerts(CHECK_CTX *ctx, int all)
{
    const TLS_PEER *peer = check_tls_peer(ctx);
    const char *keys[2], *value;
    int     st;

    if (peer == NULL)
        return CHECK_DUNNO;
    if (all)
        return peer->trusted ? CHECK_OK : CHECK_DUNNO;
    if (check_relay_ccerts == NULL)
        return CHECK_DUNNO;
    keys[0] = peer->fprint;
    keys[1] = peer->pkey_fprint;
    for (int i = 0; i < 2; i++) {
        if (keys[i] == NULL || *keys[i] == 0)
            continue;
        if ((st = maps_find(check_relay_ccerts, keys[i], &value)) == MAP_FOUND)
            return CHECK_OK;
        if (st == MAP_FAIL) {
            msg_warn("relay_clientcerts: lookup error for fingerprint '%s', "
                     "pkey fingerprint %s", peer->fprint, peer->pkey_fprint);
            return check_lookup_failed(ctx, ctx->state->namaddr);
        }
    }
    return CHECK_DUNNO;
}

int
check_ccert_access(CHECK_CTX *ctx, MAPS *table, int depth)
{
    const TLS_PEER *peer = check_tls_peer(ctx);
    const char *keys[2], *value;
    int     st = CHECK_DUNNO, found;

    if (peer == NULL)
        return CHECK_DUNNO;
    keys[0] = peer->fprint;
    keys[1] = peer->pkey_fprint;
    for (int i = 0; st == CHECK_DUNNO && i < 2; i++) {
        if (keys[i] == NULL || *keys[i] == 0)
            continue;
        if ((found = maps_find(table, keys[i], &value)) == MAP_FAIL)
            return check_lookup_failed(ctx, keys[i]);
        if (found == MAP_FOUND) {
            ctx->reply_name = keys[i];
            ctx->reply_class = "Client certificate";
            st = check_access_value(ctx, value, depth);
        }
    }
    return st;
}
