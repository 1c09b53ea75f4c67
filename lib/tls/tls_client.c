/*
 * tls_client.c - the client TLS context and the server certificate check.
 *
 * Interface: tls.h (tls_client_init, tls_client_start, tls_sess_trust).
 * tls_client_init() runs once at program start, as root and before any
 * chroot: the CA file and every certificate file in the CA directory
 * are read into the context's store then (OpenSSL would otherwise read
 * the hashed directory lazily, during a handshake, where a chroot jail
 * hides it). The system's default CAs are not added (Postfix's
 * tls_append_default_CA = no).
 *
 * The handshake never fails because of the server's certificate: the
 * verify callback records the first chain error and lets it go on; the
 * caller then decides by tls_sess_trust() (Postfix's "Untrusted",
 * "Trusted" and "Verified"). When names must match and none does, the
 * session counts as untrusted, as Postfix logs it. Names are matched with X509_check_host()
 * (subjectAltName DNS names, else the CN; wildcards only as a whole
 * left-most label); a name that starts with "." matches any subdomain.
 * With TLSA records (start->dane, tls_dane.c) OpenSSL's DANE code decides
 * instead: the session is "Verified" only when a record matched.
 *
 * With a session cache (TLS_CLIENT_INIT.cache_type, tls_scache.c) the
 * session kept by tlsmgr for this server and policy is offered; a
 * resumed session keeps the certificate and verification result it was
 * made with, so its trust is judged the same way.
 *
 * SECURITY: everything in the server's certificate is untrusted; only
 * OpenSSL parses it, and the texts logged from it are OpenSSL's one-line
 * names, bounded. Renegotiation is refused.
 *
 * DIAGNOSTICS: "certificate verification failed for host[addr]:port:
 * untrusted issuer /CN=...", "... self-signed certificate", "...
 * certificate has expired", "server certificate verification failed for
 * ...: num=62:hostname mismatch" when start->log_verify is set; "SSL_connect
 * error to ..." (tls_sess.c); start-up warnings for CA data that cannot
 * be read.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mem.h"
#include "msg.h"
#include "tls.h"
#include "tls_impl.h"

TLS_CLIENT_CTX *
tls_client_init(const TLS_CLIENT_INIT *init)
{
    SSL_CTX *ssl_ctx = SSL_CTX_new(TLS_client_method());
    TLS_CLIENT_CTX *ctx;

    if (ssl_ctx == NULL) {
        tls_print_errors();
        return NULL;
    }
    if (*init->CAfile && !SSL_CTX_load_verify_locations(ssl_ctx, init->CAfile, NULL)) {
        msg_info("cannot load Certificate Authority data: disabling TLS support");
        tls_print_errors();
        SSL_CTX_free(ssl_ctx);
        return NULL;
    }
    if (*init->CApath)
        tls_load_ca_dir(SSL_CTX_get_cert_store(ssl_ctx), init->CApath);
    SSL_CTX_set_options(ssl_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, tls_verify_callback);
    if (!tls_dane_enable(ssl_ctx)) {
        msg_warn("cannot enable DANE TLSA support in the TLS library");
        tls_print_errors();
    }
    if (init->loglevel >= 2)
        SSL_CTX_set_info_callback(ssl_ctx, tls_info_callback);
    ctx = mem_alloc(sizeof(*ctx));
    ctx->ssl_ctx = ssl_ctx;
    ctx->loglevel = init->loglevel;
    tls_scache_client_init(ctx, init);
    return ctx;
}

/* SNI, protocols and ciphers for one connection; NULL after a warning. */
static SSL *
tls_client_ssl(TLS_CLIENT_CTX *ctx, const TLS_CLIENT_START *start)
{
    int     mask = tls_protocol_mask(start->protocols);
    SSL    *ssl;

    if (mask < 0) {
        msg_warn("Invalid TLS protocol list \"%s\": aborting TLS session", start->protocols);
        return NULL;
    }
    if ((ssl = SSL_new(ctx->ssl_ctx)) == NULL)
        return NULL;
    SSL_set_options(ssl, tls_protocol_options(mask));
    if (!SSL_set_cipher_list(ssl, start->cipherlist)) {
        msg_warn("invalid cipher list \"%s\": aborting TLS session", start->cipherlist);
        SSL_free(ssl);
        return NULL;
    }
    if (start->sni && *start->sni && !SSL_set_tlsext_host_name(ssl, start->sni)) {
        msg_warn("%s: could not set TLS SNI name to \"%s\"", start->peer, start->sni);
        ERR_clear_error();
    }
    if (start->dane && tls_dane_apply(ssl, start->dane) < 0) {
        msg_warn("%s: cannot use the TLSA records: aborting TLS session", start->peer);
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

/* Does the certificate carry one of the names? */
static int
tls_cert_matches(X509 *cert, const ARGV *match)
{
    for (size_t i = 0; match && i < match->argc; i++)
        if (X509_check_host(cert, match->argv[i], 0,
                            X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1)
            return 1;
    return 0;
}

/* With TLSA records: matched, or untrusted (logged when asked). */
static void
tls_client_dane_trust(TLS_SESS *sess, const TLS_CLIENT_START *start)
{
    if (sess->chain_error == 0 && tls_dane_matched(sess->ssl)) {
        sess->trust = TLS_CERT_MATCHED;
        return;
    }
    sess->trust = TLS_CERT_UNTRUSTED;
    if (start->log_verify)
        msg_info("certificate verification failed for %s: %s", start->peer,
                 sess->verify_why[0] ? sess->verify_why : "num=65:No matching DANE TLSA records");
}

TLS_SESS *
tls_client_start(TLS_CLIENT_CTX *ctx, STREAM *stream, const TLS_CLIENT_START *start)
{
    SSL    *ssl = tls_client_ssl(ctx, start);
    TLS_SESS *sess;
    X509   *cert;

    if (ssl == NULL) {
        tls_print_errors();
        return NULL;
    }
    TLS_SESS_OPTS opts = {start->peer, 1, -1, ctx->loglevel, start->digest, NULL};

    opts.cache_id = tls_scache_client_prepare(ctx, ssl, start);
    if ((sess = tls_sess_start(ssl, stream, &opts)) == NULL)
        return NULL;
    tls_sess_log_reuse(sess);
    cert = SSL_get0_peer_certificate(sess->ssl);
    if (cert == NULL) {
        sess->trust = TLS_CERT_UNTRUSTED;
    } else if (start->dane != NULL) {
        tls_client_dane_trust(sess, start);
    } else if (start->fprints != NULL) {
        /* the fingerprint level: only the fingerprints count */
        sess->trust = tls_fprint_match(&sess->peer, start->fprints)
            ? TLS_CERT_MATCHED : TLS_CERT_UNTRUSTED;
        /* Postfix's words (its fingerprints are DANE-style TLSA records) */
        if (sess->trust == TLS_CERT_UNTRUSTED && start->log_verify)
            msg_info("server certificate verification failed for %s: num=%d:%s", start->peer,
                     X509_V_ERR_DANE_NO_MATCH,
                     X509_verify_cert_error_string(X509_V_ERR_DANE_NO_MATCH));
    } else if (sess->chain_error || SSL_get_verify_result(sess->ssl) != X509_V_OK) {
        sess->trust = TLS_CERT_UNTRUSTED;
        if (start->log_verify)
            msg_info("certificate verification failed for %s: %s", start->peer,
                     sess->verify_why[0] ? sess->verify_why : "untrusted");
    } else if (start->match == NULL) {
        sess->trust = TLS_CERT_TRUSTED;
    } else if (tls_cert_matches(cert, start->match)) {
        sess->trust = TLS_CERT_MATCHED;
    } else {
        /* as Postfix: a required name that does not match is a failed check */
        sess->trust = TLS_CERT_UNTRUSTED;
        if (start->log_verify)
            msg_info("server certificate verification failed for %s: num=%d:%s", start->peer,
                     X509_V_ERR_HOSTNAME_MISMATCH,
                     X509_verify_cert_error_string(X509_V_ERR_HOSTNAME_MISMATCH));
    }
    return sess;
}

int
tls_sess_trust(const TLS_SESS *sess)
{
    return sess->trust;
}
