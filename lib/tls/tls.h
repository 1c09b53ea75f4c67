/*
 * tls.h - TLS with OpenSSL 3, as a layer under STREAM: server and client.
 *
 * The generic TLS code: no mail knowledge and no main.cf. A program
 * (smtpd) reads its parameters, fills a TLS_SERVER_INIT and calls
 * tls_server_init() once at start-up, as root (so that a key file
 * readable only by root or group ssl-cert can be read before the
 * privilege drop). Per connection, tls_server_start() runs the handshake
 * on a STREAM and switches the stream's I/O to TLS (stream_set_io), so
 * protocol code keeps reading and writing the same STREAM.
 *
 *   tls_server_init()     certificates and keys (RSA, ECDSA, DSA, or
 *                         "chain files"), CA data, protocols, ciphers;
 *                         NULL after logging warnings when TLS cannot work
 *   tls_server_start()    discard input buffered before the handshake,
 *                         handshake with a time limit; NULL on failure
 *                         (logged as "SSL_accept error from ...")
 *   tls_client_init()     client context: CA file and CA directory (read
 *                         in full at start-up, so that a chroot jail does
 *                         not hide them); NULL after warnings
 *   tls_client_start()    SNI, protocols, ciphers; handshake (failures
 *                         logged as "SSL_connect error to ..."), then the
 *                         server certificate's trust: untrusted, trusted
 *                         (chain to a CA), matched (and a name matches)
 *   tls_dane_*()          DANE: a server's TLSA records (tls_dane.c); a
 *                         client session given them is trusted only when
 *                         OpenSSL matched the certificate to one
 *   Session resumption across processes goes through the tlsmgr
 *   service: its session caches, and the session ticket keys it hands
 *   out (tls_scache.c, tls_mgr.h), when the program names its socket.
 *   tls_sess_summary()    "TLSv1.3 with cipher X (256/256 bits)"
 *   tls_sess_details()    "key-exchange X25519 server-signature RSA-PSS
 *                         (2048 bits) server-digest SHA256" (then
 *                         "client-signature ... client-digest ..." after a
 *                         client certificate), or "" when
 *                         the library does not report it (TLS 1.2)
 *   tls_sess_peer()       the peer certificate: present, trusted, subject
 *                         and issuer CN, certificate and public-key
 *                         fingerprints (smtpd_tls_ask_ccert, the smtp
 *                         client's fingerprint level)
 *   tls_fprint_parse(), tls_fprint_match()  expected fingerprints
 *   tls_sess_stop()       close_notify, restore plain I/O, free
 *   tls_protocol_mask()   parse a Postfix-style protocol list
 *                         (">=TLSv1", "!SSLv2, !SSLv3", "TLSv1.2 TLSv1.3")
 *
 * SECURITY: the handshake reads network bytes through OpenSSL only. Bytes
 * the client sent before the handshake (pipelined after STARTTLS) are
 * discarded, never read as commands inside the TLS session (RFC 3207,
 * the STARTTLS command-injection class). The handshake and every TLS
 * read or write wait through stream_poll(), so the stream's timeouts and
 * deadline bound them; the descriptor is put in non-blocking mode.
 *
 * DIAGNOSTICS: warnings "cannot get RSA certificate from file ...",
 * "No server certs available. TLS won't be enabled", "Invalid TLS
 * protocol list ...", and "TLS library problem: ..." for each queued
 * OpenSSL error, as Postfix logs them.
 */
#ifndef POSTHORN_TLS_H
#define POSTHORN_TLS_H

#include "argv.h"
#include "stream.h"
#include "vstring.h"

typedef struct TLS_SERVER_INIT {
    const char *cert_file;      /* RSA (or any) certificate, with its chain */
    const char *key_file;
    const char *eccert_file;    /* ECDSA */
    const char *eckey_file;
    const char *dcert_file;     /* DSA */
    const char *dkey_file;
    const char *chain_files;    /* when set, replaces the six above */
    const char *CAfile;
    const char *CApath;
    const char *protocols;      /* Postfix syntax, see tls_protocol_mask() */
    const char *cipherlist;     /* an OpenSSL cipher string */
    int     loglevel;           /* 2: log handshake states */
    /* Resumption (tls_scache.c); all zero: per-process tickets and cache */
    const char *mgr_path;       /* tlsmgr's socket ("private/tlsmgr"), or NULL */
    const char *cache_type;     /* "smtpd": tlsmgr's cache of that name */
    long    cache_timeout;      /* session lifetime, seconds; <= 0: no resumption */
    const char *ticket_cipher;  /* tls_session_ticket_cipher; "": no tickets */
    const char *cache_context;  /* sessions resume only under the same text */
    int     ask_ccert;          /* request a client certificate */
    int     verify_depth;       /* client certificate chain limit */
    const char *digest;         /* fingerprint digest ("sha256"), or NULL */
} TLS_SERVER_INIT;

typedef struct TLS_SERVER_CTX TLS_SERVER_CTX;
typedef struct TLS_SESS TLS_SESS;

/* The peer's certificate, after the handshake (tls_verify.c). */
typedef struct TLS_PEER {
    int     present;            /* the peer sent a certificate */
    int     trusted;            /* ... that chains to a trusted CA */
    char   *CN;                 /* subject CN, printable ASCII ("" if none) */
    char   *issuer_CN;          /* issuer CN (else O), printable ASCII */
    char   *fprint;             /* "AB:CD:..." certificate digest ("": none) */
    char   *pkey_fprint;        /* ... of the public key */
} TLS_PEER;

TLS_SERVER_CTX *tls_server_init(const TLS_SERVER_INIT *init);

/*
 * Handshake on stream, each wait bounded by the stream's timeout and
 * deadline (the caller sets them, e.g. to smtpd_starttls_timeout). peer
 * names the client in log lines ("host[addr]").
 */
TLS_SESS *tls_server_start(TLS_SERVER_CTX *ctx, STREAM *stream, const char *peer);
void    tls_sess_summary(const TLS_SESS *sess, VSTRING *out);
/* Protocol ("TLSv1.3") and cipher name of a session; the cipher's bits. */
int     tls_sess_cipher(const TLS_SESS *sess, const char **protocol, const char **cipher);
void    tls_sess_details(const TLS_SESS *sess, VSTRING *out);
void    tls_sess_stop(TLS_SESS *sess);

typedef struct TLS_CLIENT_INIT {
    const char *CAfile;
    const char *CApath;
    int     loglevel;           /* 2: log handshake states */
    const char *mgr_path;       /* tlsmgr's socket, or NULL: no session cache */
    const char *cache_type;     /* "smtp" or "lmtp": tlsmgr's cache of that name */
} TLS_CLIENT_INIT;

/* DANE: the usable TLSA records of one server (tls_dane.c). */
typedef struct TLS_DANE TLS_DANE;

TLS_DANE *tls_dane_alloc(const char *base);
/* 1: usable (DANE-TA/DANE-EE, known selector and matching type), kept;
 * 0: ignored. */
int     tls_dane_add(TLS_DANE *d, unsigned usage, unsigned selector, unsigned mtype,
                     const unsigned char *data, size_t len);
void    tls_dane_add_name(TLS_DANE *d, const char *name);
int     tls_dane_count(const TLS_DANE *d);
void    tls_dane_free(TLS_DANE *d);

typedef struct TLS_CLIENT_START {
    const char *peer;           /* "host[addr]:port" for log lines */
    const char *sni;            /* server name to send, or NULL */
    const char *protocols;      /* Postfix syntax */
    const char *cipherlist;     /* an OpenSSL cipher string */
    ARGV   *match;              /* names the certificate must match, or NULL;
                                 * ".domain" matches any subdomain */
    int     log_verify;         /* log why the certificate is not trusted */
    const TLS_DANE *dane;       /* TLSA records: trusted only when one
                                 * matches (match is then ignored) */
    const char *digest;         /* fingerprint digest, or NULL */
    ARGV   *fprints;            /* fingerprint level: tls_fprint_parse()
                                 * output; a match makes TLS_CERT_MATCHED,
                                 * the chain and names do not count */
} TLS_CLIENT_START;

typedef struct TLS_CLIENT_CTX TLS_CLIENT_CTX;

#define TLS_CERT_UNTRUSTED  0   /* none, no chain to a trusted CA, or
                                 * match given and no name matches */
#define TLS_CERT_TRUSTED    1   /* signed by a trusted CA */
#define TLS_CERT_MATCHED    2   /* trusted, and a name in match matches;
                                 * or dane given and a TLSA record matched */

TLS_CLIENT_CTX *tls_client_init(const TLS_CLIENT_INIT *init);
/* Handshake on a connected stream; NULL on failure (logged). */
TLS_SESS *tls_client_start(TLS_CLIENT_CTX *ctx, STREAM *stream, const TLS_CLIENT_START *start);
/* TLS_CERT_* of a client session. */
int     tls_sess_trust(const TLS_SESS *sess);

/* The peer's certificate: names and fingerprints. */
const TLS_PEER *tls_sess_peer(const TLS_SESS *sess);
/* Why the peer's certificate is not trusted, in Postfix's words. */
const char *tls_sess_verify_why(TLS_SESS *sess);
/* 1 when OpenSSL knows the digest name ("md5", "sha1", "sha256", ...). */
int     tls_digest_ok(const char *name);
/* Expected fingerprints ("AB:CD:..", colons optional) split on delims, in
 * the form tls_fprint_match() compares; malformed ones: a warning. */
ARGV   *tls_fprint_parse(const char *list, const char *delims);
/* 1 when the certificate's or its public key's fingerprint is listed. */
int     tls_fprint_match(const TLS_PEER *peer, const ARGV *fprints);

/* Protocol bits for tls_protocol_mask(). */
#define TLS_PROTO_SSLv2   (1 << 0)
#define TLS_PROTO_SSLv3   (1 << 1)
#define TLS_PROTO_TLSv1   (1 << 2)
#define TLS_PROTO_TLSv1_1 (1 << 3)
#define TLS_PROTO_TLSv1_2 (1 << 4)
#define TLS_PROTO_TLSv1_3 (1 << 5)
#define TLS_PROTO_ALL     ((1 << 6) - 1)

/* The enabled protocols, or -1 for a bad list (an unknown name or none left). */
int     tls_protocol_mask(const char *list);

/* Log the queued OpenSSL errors as "warning: TLS library problem: ...". */
void    tls_print_errors(void);

#endif
