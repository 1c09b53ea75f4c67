/*
 * tls_server.c - the server TLS context: keys, certificates, protocols.
 *
 * Interface: tls.h (tls_server_init, tls_protocol_mask, tls_print_errors).
 * Runs once at program start, as root, before the privilege drop. Keys
 * and certificates come from PEM files: for each algorithm a key file and
 * a certificate file (leaf first, then its chain), or "chain files" that
 * hold key, certificate and chain in that order, one group per key.
 * Session resumption (the session id context, lifetime, tickets under
 * keys from tlsmgr, tlsmgr's shared cache) is set up by tls_scache.c;
 * tls_server_start() asks tlsmgr for its cache policy before the first
 * handshake and logs "host[addr]: Reusing old session" at loglevel 2.
 * With ask_ccert the client is asked for a certificate, checked against
 * CAfile and CApath (read in full here, before any chroot) up to
 * verify_depth (tls_verify.c).
 *
 * SECURITY: the files named in main.cf are trusted (root owns main.cf).
 * A key or certificate that cannot be loaded disables TLS (NULL), it is
 * never replaced by something weaker; the caller decides what a missing
 * context means (smtpd: "454 4.7.0 TLS not available due to local
 * problem", and under "encrypt" no mail at all).
 *
 * DIAGNOSTICS: see tls.h.
 */
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "argv.h"
#include "mem.h"
#include "msg.h"
#include "tls.h"
#include "tls_impl.h"

void
tls_print_errors(void)
{
    unsigned long code;
    const char *file, *data;
    int     line, flags;
    char    text[256];

    while ((code = ERR_get_error_all(&file, &line, NULL, &data, &flags)) != 0) {
        ERR_error_string_n(code, text, sizeof(text));
        msg_warn("TLS library problem: %s:%s:%d:%s", text, file, line,
                 (flags & ERR_TXT_STRING) ? data : "");
    }
}

/* ---- protocol lists ------------------------------------------------- */

static const char *const tls_proto_names[] = {
    "SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", NULL,
};

static int
tls_proto_index(const char *name)
{
    for (int i = 0; tls_proto_names[i]; i++)
        if (strcasecmp(tls_proto_names[i], name) == 0)
            return i;
    return -1;
}

/*
 * Names enable protocols (when any plain name is given, only those),
 * "!name" disables one, ">=name" and "<=name" bound the range.
 */
int
tls_protocol_mask(const char *list)
{
    ARGV   *words = argv_split(list, " \t\r\n,:");
    int     include = 0, exclude = 0, low = 0, high = 5, idx, mask;
    const char *w;

    for (size_t i = 0; i < words->argc; i++) {
        w = words->argv[i];
        if (strncmp(w, ">=", 2) == 0 && (idx = tls_proto_index(w + 2)) >= 0)
            low = idx;
        else if (strncmp(w, "<=", 2) == 0 && (idx = tls_proto_index(w + 2)) >= 0)
            high = idx;
        else if (*w == '!' && (idx = tls_proto_index(w + 1)) >= 0)
            exclude |= 1 << idx;
        else if ((idx = tls_proto_index(w)) >= 0)
            include |= 1 << idx;
        else {
            argv_free(words);
            return -1;
        }
    }
    argv_free(words);
    mask = (include ? include : TLS_PROTO_ALL) & ~exclude;
    for (idx = 0; idx <= 5; idx++)
        if (idx < low || idx > high)
            mask &= ~(1 << idx);
    /* SSLv2 is not in OpenSSL 3: it is never on */
    mask &= ~TLS_PROTO_SSLv2;
    return mask ? mask : -1;
}

long
tls_protocol_options(int mask)
{
    static const struct {
        int     bit;
        long    op;
    } off[] = {
        {TLS_PROTO_SSLv3, SSL_OP_NO_SSLv3},
        {TLS_PROTO_TLSv1, SSL_OP_NO_TLSv1},
        {TLS_PROTO_TLSv1_1, SSL_OP_NO_TLSv1_1},
        {TLS_PROTO_TLSv1_2, SSL_OP_NO_TLSv1_2},
        {TLS_PROTO_TLSv1_3, SSL_OP_NO_TLSv1_3},
    };
    long    ops = 0;

    for (size_t i = 0; i < sizeof(off) / sizeof(off[0]); i++)
        if ((mask & off[i].bit) == 0)
            ops |= off[i].op;
    return ops;
}

/* ---- keys and certificates ------------------------------------------ */

/* Every PEM object of a file, in order: keys and certificates. */
static int
tls_read_pem(const char *path, STACK_OF(X509) *certs, EVP_PKEY **key)
{
    BIO    *bio = BIO_new_file(path, "r");
    char   *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    const unsigned char *p;
    long    len;
    X509   *x;
    int     n = 0;

    if (bio == NULL)
        return -1;
    while (PEM_read_bio(bio, &name, &header, &data, &len)) {
        p = data;
        if (strstr(name, "PRIVATE KEY") != NULL && key != NULL && *key == NULL) {
            *key = d2i_AutoPrivateKey(NULL, &p, len);
            n += *key != NULL;
        } else if (strcmp(name, "CERTIFICATE") == 0 && certs != NULL
                   && (x = d2i_X509(NULL, &p, len)) != NULL) {
            sk_X509_push(certs, x);
            n++;
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
    }
    ERR_clear_error();                  /* the end of the file */
    BIO_free(bio);
    return n;
}

/* Use key with certificate chain certs (leaf first); consumes both. */
static int
tls_use_pair(SSL_CTX *ctx, EVP_PKEY *key, STACK_OF(X509) *certs, const char *where)
{
    X509   *leaf = sk_X509_shift(certs);
    int     ok = SSL_CTX_use_cert_and_key(ctx, leaf, key, certs, 1);

    if (!ok)
        msg_warn("cannot load certificate and key from %s: disabling TLS support", where);
    X509_free(leaf);
    EVP_PKEY_free(key);
    sk_X509_pop_free(certs, X509_free);
    return ok ? 0 : -1;
}

/* One algorithm's key file and certificate file ("RSA", "ECDSA", "DSA"). */
static int
tls_load_pair(SSL_CTX *ctx, const char *alg, const char *cert_file, const char *key_file)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    EVP_PKEY *key = NULL;

    if (tls_read_pem(cert_file, certs, NULL) <= 0) {
        msg_warn("cannot get %s certificate from file \"%s\": disabling TLS support",
                 alg, cert_file);
        sk_X509_pop_free(certs, X509_free);
        return -1;
    }
    if (tls_read_pem(*key_file ? key_file : cert_file, NULL, &key) <= 0) {
        msg_warn("cannot get %s private key from file \"%s\": disabling TLS support",
                 alg, *key_file ? key_file : cert_file);
        sk_X509_pop_free(certs, X509_free);
        return -1;
    }
    return tls_use_pair(ctx, key, certs, cert_file);
}

/* smtpd_tls_chain_files: a key, then its certificate and chain; repeat. */
static int
tls_load_chain_files(SSL_CTX *ctx, const char *files)
{
    ARGV   *list = argv_split(files, " \t\r\n,");
    STACK_OF(X509) *certs = NULL;
    EVP_PKEY *key = NULL;
    int     ret = 0, pairs = 0;

    for (size_t i = 0; ret == 0 && i < list->argc; i++) {
        BIO    *bio = BIO_new_file(list->argv[i], "r");
        STACK_OF(X509_INFO) *infos;

        if (bio == NULL || (infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL)) == NULL) {
            msg_warn("cannot load chain file \"%s\": disabling TLS support", list->argv[i]);
            BIO_free(bio);
            ret = -1;
            break;
        }
        BIO_free(bio);
        for (int j = 0; ret == 0 && j < sk_X509_INFO_num(infos); j++) {
            X509_INFO *info = sk_X509_INFO_value(infos, j);

            if (info->x_pkey != NULL && info->x_pkey->dec_pkey != NULL) {
                if (key != NULL && (ret = tls_use_pair(ctx, key, certs, list->argv[i])) == 0)
                    pairs++;
                key = info->x_pkey->dec_pkey;
                info->x_pkey->dec_pkey = NULL;
                certs = sk_X509_new_null();
            }
            if (info->x509 != NULL && key != NULL) {
                sk_X509_push(certs, info->x509);
                info->x509 = NULL;
            }
        }
        sk_X509_INFO_pop_free(infos, X509_INFO_free);
    }
    if (key != NULL && ret == 0) {
        if ((ret = tls_use_pair(ctx, key, certs, files)) == 0)
            pairs++;
    } else if (key != NULL) {
        EVP_PKEY_free(key);
        sk_X509_pop_free(certs, X509_free);
    }
    if (ret == 0 && pairs == 0) {
        msg_warn("no private key and certificate in \"%s\": disabling TLS support", files);
        ret = -1;
    }
    argv_free(list);
    return ret;
}

static int
tls_load_certs(SSL_CTX *ctx, const TLS_SERVER_INIT *init)
{
    if (*init->chain_files)
        return tls_load_chain_files(ctx, init->chain_files);
    if (!*init->cert_file && !*init->eccert_file && !*init->dcert_file) {
        msg_warn("No server certs available. TLS won't be enabled");
        return -1;
    }
    if (*init->cert_file && tls_load_pair(ctx, "RSA", init->cert_file, init->key_file) < 0)
        return -1;
    if (*init->eccert_file
        && tls_load_pair(ctx, "ECDSA", init->eccert_file, init->eckey_file) < 0)
        return -1;
    if (*init->dcert_file && tls_load_pair(ctx, "DSA", init->dcert_file, init->dkey_file) < 0)
        return -1;
    return 0;
}

/* ---- the context ------------------------------------------------------ */

void
tls_info_callback(const SSL *ssl, int where, int ret)
{
    if (where & SSL_CB_LOOP)
        msg_info("%s:%s", SSL_is_server((SSL *) ssl) ? "SSL_accept" : "SSL_connect",
                 SSL_state_string_long(ssl));
    else if (where & SSL_CB_ALERT)
        msg_info("SSL3 alert %s:%s:%s", (where & SSL_CB_READ) ? "read" : "write",
                 SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
}

/*
 * Client certificates: asked for (never required by the handshake: the
 * verify callback lets every chain through, the program decides), with
 * the names of the CAs in the CA file as the acceptable issuers.
 */
static void
tls_ctx_ccert(SSL_CTX *ctx, const TLS_SERVER_INIT *init)
{
    STACK_OF(X509_NAME) *names;

    if (!init->ask_ccert) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, tls_verify_callback);
    if (*init->CAfile && (names = SSL_load_client_CA_file(init->CAfile)) != NULL)
        SSL_CTX_set_client_CA_list(ctx, names);
    ERR_clear_error();
}

static int
tls_ctx_settings(SSL_CTX *ctx, const TLS_SERVER_INIT *init)
{
    int     mask = tls_protocol_mask(init->protocols);

    if (mask < 0) {
        msg_warn("Invalid TLS protocol list \"%s\": disabling TLS support", init->protocols);
        return -1;
    }
    SSL_CTX_set_options(ctx, tls_protocol_options(mask));
    if (SSL_CTX_set_cipher_list(ctx, init->cipherlist) == 0) {
        msg_warn("invalid cipher list \"%s\": disabling TLS support", init->cipherlist);
        return -1;
    }
    if (*init->CAfile && !SSL_CTX_load_verify_locations(ctx, init->CAfile, NULL)) {
        msg_info("cannot load Certificate Authority data: disabling TLS support");
        return -1;
    }
    if (*init->CApath)
        tls_load_ca_dir(SSL_CTX_get_cert_store(ctx), init->CApath);
    if (init->digest && *init->digest && !tls_digest_ok(init->digest)) {
        msg_warn("Digest algorithm \"%s\" not found: disabling TLS support", init->digest);
        return -1;
    }
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    tls_ctx_ccert(ctx, init);
    if (init->loglevel >= 2)
        SSL_CTX_set_info_callback(ctx, tls_info_callback);
    return 0;
}

TLS_SERVER_CTX *
tls_server_init(const TLS_SERVER_INIT *init)
{
    SSL_CTX *ssl_ctx = SSL_CTX_new(TLS_server_method());
    TLS_SERVER_CTX *ctx;

    if (ssl_ctx == NULL) {
        tls_print_errors();
        return NULL;
    }
    if (tls_ctx_settings(ssl_ctx, init) < 0 || tls_load_certs(ssl_ctx, init) < 0) {
        tls_print_errors();
        SSL_CTX_free(ssl_ctx);
        return NULL;
    }
    ctx = mem_alloc(sizeof(*ctx));
    ctx->ssl_ctx = ssl_ctx;
    ctx->loglevel = init->loglevel;
    tls_scache_server_init(ctx, init);
    ctx->verify_depth = init->ask_ccert ? init->verify_depth : -1;
    ctx->digest = init->digest && *init->digest ? mem_strdup(init->digest) : NULL;
    return ctx;
}
