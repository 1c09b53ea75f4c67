/*
 * tls_sess.c - one TLS session under a STREAM: handshake, I/O, summary.
 *
 * Interface: tls.h (tls_server_start, tls_sess_summary, tls_sess_details,
 * tls_sess_stop) and tls_impl.h (tls_sess_start: the handshake for both
 * sides; the client's certificate check is in tls_client.c). After the
 * handshake the stream's read and write functions are SSL_read/SSL_write
 * on the non-blocking descriptor: "want read" in a read (or "want write"
 * in a write) returns EAGAIN so that the stream waits with its own
 * timeout and deadline; the other direction waits here through
 * stream_poll(), bounded the same way.
 *
 * SECURITY: input the stream buffered before the handshake is thrown
 * away, so commands a client pipelined after STARTTLS are never taken as
 * if they had come over TLS. Renegotiation is refused (tls_server.c).
 *
 * DIAGNOSTICS: "SSL_accept error from host[addr]: ..." (client side:
 * "SSL_connect error to host[addr]:port: ...") with "-1" (then
 * the OpenSSL errors as warnings), "lost connection" or the system error
 * ("Connection timed out"); at smtpd_tls_loglevel 2 the handshake states
 * and "host[addr]: Reusing old session" (with " (RFC 5077 session
 * ticket)" when a ticket brought it back), as Postfix.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "connect.h"
#include "mem.h"
#include "msg.h"
#include "tls.h"
#include "tls_impl.h"

/* Wait for the direction OpenSSL asked for: 1 = ready, else the stream failed. */
static int
tls_wait(TLS_SESS *sess, int err)
{
    return stream_poll(sess->stream, err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN);
}

/* STREAM_IO_FN: read through TLS. */
static ssize_t
tls_read(void *ctx, int fd, void *buf, size_t len)
{
    TLS_SESS *sess = ctx;
    int     n, err;

    for (;;) {
        ERR_clear_error();
        n = SSL_read(sess->ssl, buf, len > INT_MAX ? INT_MAX : (int) len);
        if (n > 0)
            return n;
        err = SSL_get_error(sess->ssl, n);
        if (err == SSL_ERROR_WANT_READ) {
            errno = EAGAIN;
            return -1;
        }
        if (err == SSL_ERROR_WANT_WRITE) {
            if (tls_wait(sess, err) <= 0)
                return -1;
            continue;
        }
        if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && errno == 0))
            return 0;
        if (err == SSL_ERROR_SSL)
            tls_print_errors();
        if (errno == 0 || errno == EAGAIN)
            errno = EIO;
        return -1;
    }
}

/* STREAM_IO_FN: write through TLS (all of buf, or an error). */
static ssize_t
tls_write(void *ctx, int fd, void *buf, size_t len)
{
    TLS_SESS *sess = ctx;
    int     n, err;

    for (;;) {
        ERR_clear_error();
        n = SSL_write(sess->ssl, buf, len > INT_MAX ? INT_MAX : (int) len);
        if (n > 0)
            return n;
        err = SSL_get_error(sess->ssl, n);
        if (err == SSL_ERROR_WANT_WRITE) {
            errno = EAGAIN;
            return -1;
        }
        if (err == SSL_ERROR_WANT_READ) {
            if (tls_wait(sess, err) <= 0)
                return -1;
            continue;
        }
        if (err == SSL_ERROR_SSL)
            tls_print_errors();
        if (errno == 0 || errno == EAGAIN)
            errno = EPIPE;
        return -1;
    }
}

/* Why the handshake failed, as Postfix logs it: "SSL_accept error from
 * host[addr]: ..." (server), "SSL_connect error to host[addr]:port: ..." */
static void
tls_log_handshake_error(TLS_SESS *sess, int ret, int err, const char *peer)
{
    unsigned long first = ERR_peek_error();
    const char *what = sess->is_client ? "SSL_connect error to" : "SSL_accept error from";

    if (stream_timeout(sess->stream)) {
        msg_info("%s %s: %s", what, peer, strerror(ETIMEDOUT));
    } else if ((err == SSL_ERROR_SYSCALL && first == 0)
               || ERR_GET_REASON(first) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        if (errno != 0 && ret < 0 && first == 0)
            msg_info("%s %s: %s", what, peer, strerror(errno));
        else
            msg_info("%s %s: lost connection", what, peer);
        ERR_clear_error();
    } else {
        msg_info("%s %s: %d", what, peer, ret);
        tls_print_errors();
    }
}

static int
tls_handshake(TLS_SESS *sess, const char *peer)
{
    int     ret, err;

    for (;;) {
        ERR_clear_error();
        errno = 0;
        if ((ret = SSL_do_handshake(sess->ssl)) == 1)
            return 0;
        err = SSL_get_error(sess->ssl, ret);
        if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
            && tls_wait(sess, err) > 0)
            continue;
        tls_log_handshake_error(sess, ret, err, peer);
        return -1;
    }
}

TLS_SESS *
tls_sess_start(SSL *ssl, STREAM *stream, const TLS_SESS_OPTS *opts)
{
    TLS_SESS *sess;
    char    junk[512];
    size_t  n;

    if (ssl == NULL || stream_flush(stream) < 0) {
        tls_print_errors();
        SSL_free(ssl);
        mem_free(opts->cache_id);
        return NULL;
    }
    /* RFC 3207: what the peer sent before the handshake is not TLS data */
    while ((n = stream_buffered(stream)) > 0)
        (void) stream_read(stream, junk, n < sizeof(junk) ? n : sizeof(junk));
    fd_nonblock(stream_fd(stream), 1);
    sess = mem_alloc(sizeof(*sess));
    memset(sess, 0, sizeof(*sess));
    sess->stream = stream;
    sess->ssl = ssl;
    sess->is_client = opts->is_client;
    sess->cache_id = opts->cache_id;
    sess->verify_depth = opts->verify_depth;
    sess->loglevel = opts->loglevel;
    snprintf(sess->peer_name, sizeof(sess->peer_name), "%s", opts->peer);
    if (!SSL_set_fd(ssl, stream_fd(stream))) {
        tls_print_errors();
        tls_sess_stop(sess);
        return NULL;
    }
    if (opts->is_client)
        SSL_set_connect_state(ssl);
    else
        SSL_set_accept_state(ssl);
    SSL_set_app_data(ssl, sess);
    if (tls_handshake(sess, opts->peer) < 0) {
        SSL_free(sess->ssl);
        mem_free(sess->cache_id);
        tls_peer_free(&sess->peer);
        mem_free(sess);
        return NULL;
    }
    stream_set_io(stream, tls_read, tls_write, sess);
    tls_peer_collect(sess, opts->digest);
    return sess;
}

TLS_SESS *
tls_server_start(TLS_SERVER_CTX *ctx, STREAM *stream, const char *peer)
{
    TLS_SESS_OPTS opts = {peer, 0, ctx->verify_depth, ctx->loglevel, ctx->digest, NULL};
    TLS_SESS *sess;

    tls_scache_server_ready(ctx);
    sess = tls_sess_start(SSL_new(ctx->ssl_ctx), stream, &opts);
    if (sess != NULL)
        tls_sess_log_reuse(sess);
    return sess;
}

void
tls_sess_log_reuse(const TLS_SESS *sess)
{
    if (sess->loglevel >= 2 && SSL_session_reused(sess->ssl))
        msg_info("%s: Reusing old session%s", sess->peer_name,
                 sess->ticket_used ? " (RFC 5077 session ticket)" : "");
}

int
tls_sess_cipher(const TLS_SESS *sess, const char **protocol, const char **cipher)
{
    const SSL_CIPHER *c = SSL_get_current_cipher(sess->ssl);

    *protocol = SSL_get_version(sess->ssl);
    *cipher = SSL_CIPHER_get_name(c);
    return SSL_CIPHER_get_bits(c, NULL);
}

void
tls_sess_summary(const TLS_SESS *sess, VSTRING *out)
{
    const SSL_CIPHER *cipher = SSL_get_current_cipher(sess->ssl);
    int     alg_bits = 0;
    int     bits = SSL_CIPHER_get_bits(cipher, &alg_bits);

    vstring_sprintf(out, "%s with cipher %s (%d/%d bits)", SSL_get_version(sess->ssl),
                    SSL_CIPHER_get_name(cipher), bits, alg_bits);
}

/* "X25519", "ECDHE (prime256v1)", "DHE (2048 bits)" */
static void
tls_describe_kex(EVP_PKEY *key, VSTRING *out)
{
    char    group[80];

    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof(group), NULL))
            vstring_sprintf_append(out, "ECDHE (%s)", group);
        else
            vstring_cat(out, "ECDHE");
        break;
    case EVP_PKEY_DH:
        vstring_sprintf_append(out, "DHE (%d bits)", EVP_PKEY_get_bits(key));
        break;
    default:
        vstring_cat(out, OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
        break;
    }
}

/* "RSA-PSS (2048 bits)", "ECDSA (prime256v1)", "ED25519" */
static void
tls_describe_signature(X509 *cert, int type, VSTRING *out)
{
    EVP_PKEY *key = cert ? X509_get0_pubkey(cert) : NULL;
    char    group[80];

    if (type == NID_rsassaPss)
        vstring_cat(out, "RSA-PSS");
    else if (type == NID_rsaEncryption)
        vstring_cat(out, "RSA");
    else if (type == NID_X9_62_id_ecPublicKey)
        vstring_cat(out, "ECDSA");
    else
        vstring_cat(out, OBJ_nid2sn(type));
    if (key == NULL)
        return;
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
        if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                           sizeof(group), NULL))
            vstring_sprintf_append(out, " (%s)", group);
    } else if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519
               && EVP_PKEY_get_base_id(key) != EVP_PKEY_ED448) {
        vstring_sprintf_append(out, " (%d bits)", EVP_PKEY_get_bits(key));
    }
}

void
tls_sess_details(const TLS_SESS *sess, VSTRING *out)
{
    EVP_PKEY *kex = NULL;
    int     type, digest;

    vstring_reset(out);
    /* the server keeps the client's key share only with TLS 1.3 */
    if (!SSL_get_peer_tmp_key(sess->ssl, &kex))
        return;
    vstring_cat(out, "key-exchange ");
    tls_describe_kex(kex, out);
    EVP_PKEY_free(kex);
    if (sess->is_client ? SSL_get_peer_signature_type_nid(sess->ssl, &type)
        : SSL_get_signature_type_nid(sess->ssl, &type)) {
        vstring_cat(out, " server-signature ");
        tls_describe_signature(sess->is_client ? SSL_get0_peer_certificate(sess->ssl)
                               : SSL_get_certificate(sess->ssl), type, out);
        if ((sess->is_client ? SSL_get_peer_signature_nid(sess->ssl, &digest)
             : SSL_get_signature_nid(sess->ssl, &digest)) && digest != NID_undef)
            vstring_sprintf_append(out, " server-digest %s", OBJ_nid2sn(digest));
    }
    /* a client certificate: how the client signed, as Postfix logs it */
    if (!sess->is_client && SSL_get0_peer_certificate(sess->ssl) != NULL
        && SSL_get_peer_signature_type_nid(sess->ssl, &type)) {
        vstring_cat(out, " client-signature ");
        tls_describe_signature(SSL_get0_peer_certificate(sess->ssl), type, out);
        if (SSL_get_peer_signature_nid(sess->ssl, &digest) && digest != NID_undef)
            vstring_sprintf_append(out, " client-digest %s", OBJ_nid2sn(digest));
    }
}

void
tls_sess_stop(TLS_SESS *sess)
{
    if (sess == NULL)
        return;
    if (sess->ssl != NULL) {
        (void) stream_flush(sess->stream);
        if (SSL_is_init_finished(sess->ssl) && !stream_error(sess->stream))
            (void) SSL_shutdown(sess->ssl);     /* close_notify; no wait for the reply */
        SSL_free(sess->ssl);
    }
    stream_set_io(sess->stream, NULL, NULL, NULL);
    ERR_clear_error();
    mem_free(sess->cache_id);
    tls_peer_free(&sess->peer);
    mem_free(sess);
}
