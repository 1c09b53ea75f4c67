/*
 * tls_scache.c - session resumption across processes: the server and
 * client session caches kept by tlsmgr, and shared session ticket keys.
 *
 * Interface (tls_impl.h):
 *   tls_scache_server_init()  at tls_server_init(): session id context,
 *                             session lifetime, ticket cipher and the
 *                             ticket key callback (or no tickets)
 *   tls_scache_server_ready() before each handshake: the first time
 *                             tlsmgr answers, use its cache when it has a
 *                             database for this cache type
 *   tls_scache_client_init()  at tls_client_init(): external client cache
 *   tls_scache_client_prepare()  before a client handshake: the cache id
 *                             of this peer and policy, and the cached
 *                             session to offer (when there is one)
 *
 * Server: with a cache database ($smtpd_tls_session_cache_database in
 * tlsmgr) OpenSSL's internal cache is off and new sessions go to tlsmgr
 * under their session id (hexadecimal); a client that offers an id (TLS
 * 1.2) or a stateful ticket (TLS 1.3 without tickets) gets it back from
 * tlsmgr, so any smtpd process resumes it. Without a database, each
 * process keeps its own internal cache (as before). Session tickets
 * (RFC 5077, and TLS 1.3 stateless tickets) are encrypted with
 * $tls_session_ticket_cipher and HMAC-SHA256 under keys that tlsmgr hands
 * out, so a ticket issued by one smtpd process is accepted by another;
 * the keys are kept in the process (TLS_TICKET_RING) until they expire.
 * When tlsmgr cannot be reached the process makes a key of its own (its
 * tickets then resume only in this process, as OpenSSL's built-in keys
 * would). A session timeout <= 0 turns resumption off (no cache, no
 * tickets); an empty or unsuitable ticket cipher turns tickets off.
 *
 * Client: with $smtp_tls_session_cache_database set in tlsmgr, sessions
 * (with their tickets) are stored under "peer&digest", the digest
 * covering the SNI name, protocols, ciphers and names to match, so a
 * session is only offered again to the same server under the same
 * policy. The trust of a resumed session comes from the certificate and
 * verification result stored in it.
 *
 * SECURITY: cached sessions are DER parsed by OpenSSL; a session that
 * does not parse, is not resumable or belongs to another session id
 * context is not used. Ticket keys never leave the private tlsmgr socket
 * and this process; OpenSSL checks the HMAC before decrypting a ticket.
 *
 * DIAGNOSTICS: "invalid tls_session_ticket_cipher ...: session tickets
 * are off". At loglevel >= 2, in Postfix's words: server "host[addr]:
 * save session ID to smtpd cache", "...: looking up session ID in smtpd
 * cache", "...: reloaded session ID from smtpd cache", "...: Issuing
 * session ticket, key expiration: T", "...: Decrypting session ticket,
 * key expiration: T"; client "looking for session ID in smtp cache",
 * "reloaded session ID from smtp cache", "save session ID to smtp
 * cache" ("Reusing old session": tls_sess.c). tlsmgr problems are
 * tls_mgr.c's.
 */
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "mem.h"
#include "msg.h"
#include "tls.h"
#include "tls_impl.h"
#include "tls_mgr.h"

#define TLS_SCACHE_MIN_TIMEOUT  120             /* Postfix's lower bound, seconds */
#define TLS_SCACHE_MAX_TIMEOUT  (100 * 86400)   /* and upper bound */

/* ---- server: the cache through tlsmgr ---------------------------------- */

static TLS_SERVER_CTX *
tls_scache_server_ctx(SSL_CTX *ssl_ctx)
{
    return SSL_CTX_get_app_data(ssl_ctx);
}

/* "host[addr]" of the session on ssl, for log lines. */
static const char *
tls_scache_peer(SSL *ssl)
{
    TLS_SESS *sess = SSL_get_app_data(ssl);

    return sess && *sess->peer_name ? sess->peer_name : "unknown";
}

static char *
tls_scache_server_id(const unsigned char *id, unsigned int len)
{
    VSTRING *hex = vstring_alloc(2 * SSL_MAX_SSL_SESSION_ID_LENGTH + 2);

    hex_encode(hex, id, len);
    return vstring_export(hex);
}

/* Store a new session in tlsmgr's cache (OpenSSL keeps its reference). */
static int
tls_scache_server_new(SSL *ssl, SSL_SESSION *session)
{
    TLS_SERVER_CTX *ctx = tls_scache_server_ctx(SSL_get_SSL_CTX(ssl));
    unsigned int len;
    const unsigned char *sid = SSL_SESSION_get_id(session, &len);
    int     der_len = i2d_SSL_SESSION(session, NULL);
    unsigned char *der, *p;
    char   *id;

    if (len == 0 || der_len <= 0 || der_len > TLS_MGR_SESSION_MAX)
        return 0;
    p = der = mem_alloc((size_t) der_len);
    if (i2d_SSL_SESSION(session, &p) == der_len) {
        id = tls_scache_server_id(sid, len);
        if (ctx->loglevel >= 2)
            msg_info("%s: save session %s to %s cache", tls_scache_peer(ssl), id, ctx->cache_type);
        (void) tls_mgr_update(ctx->cache_type, id, der, (size_t) der_len);
        mem_free(id);
    }
    OPENSSL_cleanse(der, (size_t) der_len);
    mem_free(der);
    return 0;
}

static SSL_SESSION *
tls_scache_server_get(SSL *ssl, const unsigned char *sid, int len, int *copy)
{
    TLS_SERVER_CTX *ctx = tls_scache_server_ctx(SSL_get_SSL_CTX(ssl));
    VSTRING *der = vstring_alloc(TLS_MGR_SESSION_MAX);
    char   *id = tls_scache_server_id(sid, (unsigned int) len);
    SSL_SESSION *session = NULL;
    const unsigned char *p;

    *copy = 0;
    if (ctx->loglevel >= 2)
        msg_info("%s: looking up session %s in %s cache", tls_scache_peer(ssl), id,
                 ctx->cache_type);
    if (tls_mgr_lookup(ctx->cache_type, id, der) == TLS_MGR_STAT_OK) {
        p = (const unsigned char *) STR(der);
        if ((session = d2i_SSL_SESSION(NULL, &p, (long) LEN(der))) == NULL)
            ERR_clear_error();
        else if (ctx->loglevel >= 2)
            msg_info("%s: reloaded session %s from %s cache", tls_scache_peer(ssl), id,
                     ctx->cache_type);
    }
    OPENSSL_cleanse(STR(der), LEN(der));
    vstring_free(der);
    mem_free(id);
    return session;
}

static void
tls_scache_server_remove(SSL_CTX *ssl_ctx, SSL_SESSION *session)
{
    TLS_SERVER_CTX *ctx = tls_scache_server_ctx(ssl_ctx);
    unsigned int len;
    const unsigned char *sid = SSL_SESSION_get_id(session, &len);
    char   *id;

    if (ctx == NULL || len == 0)
        return;
    id = tls_scache_server_id(sid, len);
    (void) tls_mgr_delete(ctx->cache_type, id);
    mem_free(id);
}

void
tls_scache_server_ready(TLS_SERVER_CTX *ctx)
{
    SSL_CTX *ssl_ctx = ctx->ssl_ctx;

    if (ctx->cachable >= 0 || ctx->cache_timeout <= 0 || ctx->cache_type == NULL)
        return;
    if ((ctx->cachable = tls_mgr_cachable(ctx->cache_type)) != 1)
        return;
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL
                                   | SSL_SESS_CACHE_NO_AUTO_CLEAR);
    SSL_CTX_sess_set_new_cb(ssl_ctx, tls_scache_server_new);
    SSL_CTX_sess_set_get_cb(ssl_ctx, tls_scache_server_get);
    SSL_CTX_sess_set_remove_cb(ssl_ctx, tls_scache_server_remove);
}

/* ---- server: ticket keys ---------------------------------------------- */

/* Remember a key (replacing the one that expires first); a pointer to it. */
static TLS_TICKET_KEY *
tls_ticket_keep(TLS_SERVER_CTX *ctx, const TLS_TICKET_KEY *key)
{
    int     slot = 0;

    for (int i = 0; i < TLS_TICKET_RING; i++) {
        if (memcmp(ctx->keys[i].name, key->name, TLS_TICKET_NAMELEN) == 0) {
            slot = i;
            break;
        }
        if (ctx->keys[i].expiry < ctx->keys[slot].expiry)
            slot = i;
    }
    ctx->keys[slot] = *key;
    return &ctx->keys[slot];
}

/* The key for new tickets: a kept one, tlsmgr's, or one of our own. */
static TLS_TICKET_KEY *
tls_ticket_current(TLS_SERVER_CTX *ctx, time_t now)
{
    TLS_TICKET_KEY key, *best = NULL;

    for (int i = 0; i < TLS_TICKET_RING; i++)
        if (ctx->keys[i].expiry > now && (best == NULL || ctx->keys[i].expiry > best->expiry))
            best = &ctx->keys[i];
    if (best != NULL)
        return best;
    if (tls_mgr_key(NULL, &key) != TLS_MGR_STAT_OK || key.expiry <= now) {
        if (RAND_bytes(key.name, sizeof(key.name)) <= 0 || RAND_bytes(key.hmac, sizeof(key.hmac)) <= 0
            || RAND_bytes(key.key, sizeof(key.key)) <= 0)
            return NULL;
        key.expiry = now + ctx->cache_timeout;
    }
    best = tls_ticket_keep(ctx, &key);
    OPENSSL_cleanse(&key, sizeof(key));
    return best;
}

/* The key a ticket names, while it may still decrypt; NULL if unknown. */
static TLS_TICKET_KEY *
tls_ticket_find(TLS_SERVER_CTX *ctx, const unsigned char *name, time_t now)
{
    TLS_TICKET_KEY key, *found = NULL;

    for (int i = 0; i < TLS_TICKET_RING; i++)
        if (ctx->keys[i].expiry != 0 && memcmp(ctx->keys[i].name, name, TLS_TICKET_NAMELEN) == 0)
            return ctx->keys[i].expiry + ctx->cache_timeout > now ? &ctx->keys[i] : NULL;
    if (tls_mgr_key(name, &key) == TLS_MGR_STAT_OK && key.expiry + ctx->cache_timeout > now)
        found = tls_ticket_keep(ctx, &key);
    OPENSSL_cleanse(&key, sizeof(key));
    return found;
}

static int
tls_ticket_mac(EVP_MAC_CTX *hctx, TLS_TICKET_KEY *key)
{
    OSSL_PARAM params[3];

    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key->hmac,
                                                  sizeof(key->hmac));
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    return EVP_MAC_CTX_set_params(hctx, params);
}

/* SSL_CTX_set_tlsext_ticket_key_evp_cb(): 1 ok, 2 ok and renew, 0 no key. */
static int
tls_ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
              EVP_MAC_CTX *hctx, int enc)
{
    TLS_SERVER_CTX *ctx = tls_scache_server_ctx(SSL_get_SSL_CTX(ssl));
    time_t  now = time(NULL);
    TLS_TICKET_KEY *key;
    int     ivlen = EVP_CIPHER_get_iv_length(ctx->ticket_cipher);

    TLS_SESS *sess = SSL_get_app_data(ssl);

    if (enc) {
        if ((key = tls_ticket_current(ctx, now)) == NULL || RAND_bytes(iv, ivlen) <= 0)
            return -1;
        memcpy(name, key->name, TLS_TICKET_NAMELEN);
        if (!EVP_EncryptInit_ex(cctx, ctx->ticket_cipher, NULL, key->key, iv)
            || !tls_ticket_mac(hctx, key))
            return -1;
        if (ctx->loglevel >= 2)
            msg_info("%s: Issuing session ticket, key expiration: %ld", tls_scache_peer(ssl),
                     (long) key->expiry);
        return 1;
    }
    if ((key = tls_ticket_find(ctx, name, now)) == NULL)
        return 0;
    if (!tls_ticket_mac(hctx, key)
        || !EVP_DecryptInit_ex(cctx, ctx->ticket_cipher, NULL, key->key, iv))
        return -1;
    if (ctx->loglevel >= 2)
        msg_info("%s: Decrypting session ticket, key expiration: %ld", tls_scache_peer(ssl),
                 (long) key->expiry);
    if (sess != NULL)
        sess->ticket_used = 1;
    return key->expiry > now ? 1 : 2;
}

/* A CBC cipher with 128-bit blocks and a 128..256-bit key, or NULL. */
static EVP_CIPHER *
tls_ticket_cipher(const char *name)
{
    EVP_CIPHER *cipher;

    if (name == NULL || *name == 0)
        return NULL;
    if ((cipher = EVP_CIPHER_fetch(NULL, name, NULL)) == NULL
        || EVP_CIPHER_get_mode(cipher) != EVP_CIPH_CBC_MODE
        || EVP_CIPHER_get_block_size(cipher) != 16
        || EVP_CIPHER_get_key_length(cipher) < 16
        || EVP_CIPHER_get_key_length(cipher) > TLS_TICKET_KEYLEN) {
        ERR_clear_error();
        EVP_CIPHER_free(cipher);
        msg_warn("invalid tls_session_ticket_cipher \"%s\": session tickets are off", name);
        return NULL;
    }
    return cipher;
}

/* The session id context: sessions resume only under the same one. */
static void
tls_scache_context(SSL_CTX *ssl_ctx, const char *context)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!EVP_Digest(context, strlen(context), md, &len, EVP_sha256(), NULL))
        return;
    if (len > SSL_MAX_SID_CTX_LENGTH)
        len = SSL_MAX_SID_CTX_LENGTH;
    SSL_CTX_set_session_id_context(ssl_ctx, md, len);
}

void
tls_scache_server_init(TLS_SERVER_CTX *ctx, const TLS_SERVER_INIT *init)
{
    SSL_CTX *ssl_ctx = ctx->ssl_ctx;
    long    timeout = init->cache_timeout;

    SSL_CTX_set_app_data(ssl_ctx, ctx);
    tls_scache_context(ssl_ctx, init->cache_context ? init->cache_context : "");
    ctx->cachable = -1;
    ctx->cache_type = init->cache_type;
    if (init->mgr_path != NULL)
        tls_mgr_init(init->mgr_path, TLS_MGR_TIMEOUT);
    if (timeout <= 0) {
        ctx->cache_timeout = 0;
        SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ssl_ctx, 0);
        return;
    }
    if (timeout < TLS_SCACHE_MIN_TIMEOUT)
        timeout = TLS_SCACHE_MIN_TIMEOUT;
    if (timeout > TLS_SCACHE_MAX_TIMEOUT)
        timeout = TLS_SCACHE_MAX_TIMEOUT;
    ctx->cache_timeout = timeout;
    SSL_CTX_set_timeout(ssl_ctx, timeout);
    if ((ctx->ticket_cipher = tls_ticket_cipher(init->ticket_cipher)) == NULL)
        SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
    else
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ssl_ctx, tls_ticket_cb);
}

/* ---- client ------------------------------------------------------------ */

static int
tls_scache_client_new(SSL *ssl, SSL_SESSION *session)
{
    TLS_SESS *sess = SSL_get_app_data(ssl);
    TLS_CLIENT_CTX *ctx = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    int     der_len = i2d_SSL_SESSION(session, NULL);
    unsigned char *der, *p;

    if (sess == NULL || sess->cache_id == NULL || ctx == NULL
        || !SSL_SESSION_is_resumable(session) || der_len <= 0 || der_len > TLS_MGR_SESSION_MAX)
        return 0;
    p = der = mem_alloc((size_t) der_len);
    if (i2d_SSL_SESSION(session, &p) == der_len) {
        if (ctx->loglevel >= 2)
            msg_info("save session %s to %s cache", sess->cache_id, ctx->cache_type);
        (void) tls_mgr_update(ctx->cache_type, sess->cache_id, der, (size_t) der_len);
    }
    OPENSSL_cleanse(der, (size_t) der_len);
    mem_free(der);
    return 0;
}

void
tls_scache_client_init(TLS_CLIENT_CTX *ctx, const TLS_CLIENT_INIT *init)
{
    SSL_CTX_set_app_data(ctx->ssl_ctx, ctx);
    ctx->cache_type = init->cache_type;
    if (init->cache_type == NULL || init->mgr_path == NULL)
        return;
    tls_mgr_init(init->mgr_path, TLS_MGR_TIMEOUT);
    SSL_CTX_set_session_cache_mode(ctx->ssl_ctx, SSL_SESS_CACHE_CLIENT
                                   | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx->ssl_ctx, tls_scache_client_new);
}

/* "peer&digest": the server and the policy the session was made under. */
static char *
tls_scache_client_id(const TLS_CLIENT_START *start)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    VSTRING *id = vstring_alloc(TLS_MGR_ID_MAX);
    const char *parts[] = {start->peer, start->sni ? start->sni : "", start->protocols,
        start->cipherlist};

    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        EVP_DigestUpdate(md, parts[i], strlen(parts[i]) + 1);
    for (size_t i = 0; start->match && i < start->match->argc; i++)
        EVP_DigestUpdate(md, start->match->argv[i], strlen(start->match->argv[i]) + 1);
    for (size_t i = 0; start->fprints && i < start->fprints->argc; i++)
        EVP_DigestUpdate(md, start->fprints->argv[i], strlen(start->fprints->argv[i]) + 1);
    EVP_DigestFinal_ex(md, digest, &len);
    EVP_MD_CTX_free(md);
    if (strlen(start->peer) < TLS_MGR_ID_MAX / 2)
        vstring_sprintf(id, "%s&", start->peer);
    hex_encode(id, digest, len > 16 ? 16 : len);
    if (!tls_mgr_valid_id(STR(id))) {           /* white space in the peer name */
        vstring_reset(id);
        hex_encode(id, digest, len);
    }
    return vstring_export(id);
}

char   *
tls_scache_client_prepare(TLS_CLIENT_CTX *ctx, SSL *ssl, const TLS_CLIENT_START *start)
{
    VSTRING *der;
    const unsigned char *p;
    SSL_SESSION *session;
    char   *id;

    /* DANE: a resumed session is not verified again, so it could not show
     * that a TLSA record matched: no cache (the records may change, too) */
    if (ctx->cache_type == NULL || start->dane != NULL
        || tls_mgr_cachable(ctx->cache_type) != 1)
        return NULL;
    id = tls_scache_client_id(start);
    der = vstring_alloc(TLS_MGR_SESSION_MAX);
    if (ctx->loglevel >= 2)
        msg_info("looking for session %s in %s cache", id, ctx->cache_type);
    if (tls_mgr_lookup(ctx->cache_type, id, der) == TLS_MGR_STAT_OK) {
        p = (const unsigned char *) STR(der);
        if ((session = d2i_SSL_SESSION(NULL, &p, (long) LEN(der))) != NULL) {
            if (SSL_SESSION_is_resumable(session) && SSL_set_session(ssl, session)
                && ctx->loglevel >= 2)
                msg_info("reloaded session %s from %s cache", id, ctx->cache_type);
            SSL_SESSION_free(session);
        }
        ERR_clear_error();
    }
    OPENSSL_cleanse(STR(der), LEN(der));
    vstring_free(der);
    return id;
}
