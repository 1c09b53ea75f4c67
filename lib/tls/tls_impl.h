/*
 * tls_impl.h - what the lib/tls files share; not for programs.
 *
 * DIAGNOSTICS: none here; see tls_server.c, tls_client.c, tls_sess.c and
 * tls_verify.c.
 */
#ifndef POSTHORN_TLS_IMPL_H
#define POSTHORN_TLS_IMPL_H

#include <openssl/ssl.h>

#include "stream.h"
#include "tls.h"

struct TLS_SERVER_CTX {
    SSL_CTX *ssl_ctx;
    int     loglevel;
    int     verify_depth;           /* client certificates; -1: no limit */
    char   *digest;                 /* fingerprint digest, or NULL */
};

struct TLS_CLIENT_CTX {
    SSL_CTX *ssl_ctx;
    int     loglevel;
};

struct TLS_SESS {
    SSL    *ssl;
    STREAM *stream;
    int     is_client;
    int     chain_error;            /* first X509_V_ERR_* of the peer's chain */
    int     verify_depth;           /* longest chain accepted; -1: no limit */
    int     loglevel;
    char    peer_name[256];         /* "host[addr]" for log lines */
    int     trust;                  /* client: TLS_CERT_* */
    char    verify_why[256];        /* the chain error, as text */
    TLS_PEER peer;                  /* the peer's certificate (tls_verify.c) */
};

/* SSL_OP_NO_* options that leave only the protocols in mask. */
long    tls_protocol_options(int mask);
/* Info callback at loglevel 2: "SSL_accept:..." / "SSL_connect:...", alerts. */
void    tls_info_callback(const SSL *ssl, int where, int ret);
/* How tls_sess_start() sets up a session. */
typedef struct TLS_SESS_OPTS {
    const char *peer;               /* "host[addr]" for log lines */
    int     is_client;
    int     verify_depth;           /* longest peer chain accepted; -1: no limit */
    int     loglevel;               /* 2: each chain certificate is logged */
    const char *digest;             /* fingerprint digest, or NULL */
} TLS_SESS_OPTS;

/* Handshake ssl on stream; then the peer certificate's names and
 * fingerprints. The session, or NULL. */
TLS_SESS *tls_sess_start(SSL *ssl, STREAM *stream, const TLS_SESS_OPTS *opts);

/* tls_verify.c */
void    tls_load_ca_dir(X509_STORE *store, const char *path);
int     tls_verify_callback(int ok, X509_STORE_CTX *store_ctx);
void    tls_peer_collect(TLS_SESS *sess, const char *digest);
void    tls_peer_free(TLS_PEER *peer);

#endif
