/*
 * tls_impl.h - what the lib/tls files share; not for programs.
 *
 * DIAGNOSTICS: none here; see tls_server.c, tls_client.c, tls_sess.c,
 * tls_verify.c, tls_scache.c and tls_mgr.c.
 */
#ifndef POSTHORN_TLS_IMPL_H
#define POSTHORN_TLS_IMPL_H

#include <openssl/ssl.h>

#include "stream.h"
#include "tls.h"
#include "tls_mgr.h"

#define TLS_TICKET_RING 4               /* ticket keys a server process keeps */

struct TLS_SERVER_CTX {
    SSL_CTX *ssl_ctx;
    int     loglevel;
    const char *cache_type;             /* "smtpd" (tls_scache.c) */
    long    cache_timeout;              /* seconds; 0: no resumption */
    int     cachable;                   /* tlsmgr has a cache: 1, 0, -1 unknown */
    EVP_CIPHER *ticket_cipher;          /* NULL: no tickets */
    TLS_TICKET_KEY keys[TLS_TICKET_RING];
    int     verify_depth;           /* client certificates; -1: no limit */
    char   *digest;                 /* fingerprint digest, or NULL */
};

struct TLS_CLIENT_CTX {
    SSL_CTX *ssl_ctx;
    int     loglevel;
    const char *cache_type;             /* "smtp", "lmtp", or NULL: no cache */
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
    char   *cache_id;               /* client: where tlsmgr keeps its session */
    int     ticket_used;            /* server: resumed from a session ticket */
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
/* How tls_sess_start() sets up a session. */
typedef struct TLS_SESS_OPTS {
    const char *peer;               /* "host[addr]" for log lines */
    int     is_client;
    int     verify_depth;           /* longest peer chain accepted; -1: no limit */
    int     loglevel;               /* 2: each chain certificate is logged */
    const char *digest;             /* fingerprint digest, or NULL */
    char   *cache_id;               /* client: tlsmgr's cache id, taken over
                                     * by the session (may be NULL) */
} TLS_SESS_OPTS;

/* Handshake ssl on stream; then the peer certificate's names and
 * fingerprints. The session, or NULL. */
TLS_SESS *tls_sess_start(SSL *ssl, STREAM *stream, const TLS_SESS_OPTS *opts);
/* At loglevel >= 2: "peer: Reusing old session" when it was resumed. */
void    tls_sess_log_reuse(const TLS_SESS *sess);

/* tls_scache.c: session resumption through tlsmgr (see there). */
void    tls_scache_server_init(TLS_SERVER_CTX *ctx, const TLS_SERVER_INIT *init);
void    tls_scache_server_ready(TLS_SERVER_CTX *ctx);
void    tls_scache_client_init(TLS_CLIENT_CTX *ctx, const TLS_CLIENT_INIT *init);
/* The cache id for this peer and policy (NULL: no cache); the cached
 * session, if any, is set on ssl. */
char   *tls_scache_client_prepare(TLS_CLIENT_CTX *ctx, SSL *ssl, const TLS_CLIENT_START *start);

/* tls_verify.c */
void    tls_load_ca_dir(X509_STORE *store, const char *path);
int     tls_verify_callback(int ok, X509_STORE_CTX *store_ctx);
void    tls_peer_collect(TLS_SESS *sess, const char *digest);
void    tls_peer_free(TLS_PEER *peer);

#endif
