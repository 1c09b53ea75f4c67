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

/* SSL_OP_NO_* options that leave only the protocols in mask. */
long    tls_protocol_options(int mask);
/* Info callback at loglevel 2: "SSL_accept:..." / "SSL_connect:...", alerts. */
void    tls_info_callback(const SSL *ssl, int where, int ret);
/* Handshake ssl (set up, fd attached) on stream; the session, or NULL. */
TLS_SESS *tls_sess_start(SSL *ssl, STREAM *stream, const char *peer, int is_client);

#endif
