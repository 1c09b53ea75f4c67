/*
 * tls_impl.h - what the lib/tls files share; not for programs.
 *
 * DIAGNOSTICS: none here; see tls_server.c, tls_client.c and tls_sess.c.
 */
#ifndef POSTHORN_TLS_IMPL_H
#define POSTHORN_TLS_IMPL_H

#include <openssl/ssl.h>

#include "stream.h"
#include "tls.h"

struct TLS_SERVER_CTX {
    SSL_CTX *ssl_ctx;
    int     loglevel;
};

struct TLS_CLIENT_CTX {
    SSL_CTX *ssl_ctx;
    int     loglevel;
};

struct TLS_SESS {
    SSL    *ssl;
    STREAM *stream;
    int     is_client;
    int     chain_error;            /* client: first X509_V_ERR_* of the chain */
    int     trust;                  /* client: TLS_CERT_* */
    char    verify_why[256];        /* client: the chain error, as text */
};

/* DANE (tls_dane.c): enable on a client context (1 ok); the records on
 * one connection (0, or -1: none could be added); after the handshake,
 * did a record match? */
int     tls_dane_enable(SSL_CTX *ctx);
int     tls_dane_apply(SSL *ssl, const TLS_DANE *d);
int     tls_dane_matched(SSL *ssl);

/* SSL_OP_NO_* options that leave only the protocols in mask. */
long    tls_protocol_options(int mask);
/* Info callback at loglevel 2: "SSL_accept:..." / "SSL_connect:...", alerts. */
void    tls_info_callback(const SSL *ssl, int where, int ret);
/* Handshake ssl (set up, fd attached) on stream; the session, or NULL. */
TLS_SESS *tls_sess_start(SSL *ssl, STREAM *stream, const char *peer, int is_client);

#endif
