/*
 * tls_verify.c - the peer's certificate: chain check, names, fingerprints.
 *
 * Interface: tls.h (tls_digest_ok, tls_fprint_parse, tls_fprint_match,
 * tls_sess_peer, tls_sess_verify_why) and tls_impl.h (tls_load_ca_dir, tls_verify_callback,
 * tls_peer_collect). Both sides use this file: smtpd for client
 * certificates, smtp for the server's; the fingerprints are computed here
 * and nowhere else.
 *
 * Fingerprints as Postfix writes them: the digest (smtpd_tls_fingerprint_digest,
 * smtp_tls_fingerprint_digest: md5, sha1, sha256, sha512 or another name
 * OpenSSL knows) of the DER certificate, and of the DER public key
 * (SubjectPublicKeyInfo), in upper-case hex bytes joined by ':'.
 *
 * The chain check never stops the handshake: the verify callback records
 * the first error (and a chain longer than the verification depth, as
 * "certificate chain longer than limit(N)") and lets it go on; the
 * program decides from the result (smtpd: smtpd_tls_req_ccert; smtp: the
 * security level).
 *
 * SECURITY: everything in a peer certificate is untrusted. Only OpenSSL
 * parses it; the names taken from it (subject CN, issuer CN) are cut to
 * TLS_PEER_NAME_MAX bytes and every byte outside printable ASCII becomes
 * '?', so they can go into log lines, Received: headers and policy
 * requests. A name with an embedded NUL is dropped (empty).
 *
 * DIAGNOSTICS: "cannot open Certificate Authority directory ..." at start;
 * at loglevel 2 "host[addr]: depth=N verify=0|1 subject=/CN=..." for each
 * certificate of the peer's chain, as Postfix;
 * "malformed fingerprint value: ..." for a configured fingerprint that is
 * not hex (tls_fprint_parse).
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "mem.h"
#include "msg.h"
#include "tls.h"
#include "tls_impl.h"

#define TLS_PEER_NAME_MAX 256

/* Every certificate in the regular files of directory path. */
void
tls_load_ca_dir(X509_STORE *store, const char *path)
{
    DIR    *dir = opendir(path);
    struct dirent *de;
    char    file[4096];
    X509   *x;

    if (dir == NULL) {
        msg_warn("cannot open Certificate Authority directory \"%s\": %m", path);
        return;
    }
    while ((de = readdir(dir)) != NULL) {
        BIO    *bio;

        if (de->d_name[0] == '.'
            || snprintf(file, sizeof(file), "%s/%s", path, de->d_name) >= (int) sizeof(file)
            || (bio = BIO_new_file(file, "r")) == NULL)
            continue;
        while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            (void) X509_STORE_add_cert(store, x);       /* a duplicate is fine */
            X509_free(x);
        }
        BIO_free(bio);
    }
    ERR_clear_error();
    closedir(dir);
}

/* The first chain error, in Postfix's words. */
static void
tls_describe_chain_error(X509_STORE_CTX *store_ctx, int err, int limit, char *buf, size_t len)
{
    X509   *cert = X509_STORE_CTX_get_current_cert(store_ctx);
    char    name[200] = "";

    switch (err) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        snprintf(buf, len, "self-signed certificate");
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        if (cert != NULL)
            X509_NAME_oneline(X509_get_issuer_name(cert), name, sizeof(name));
        snprintf(buf, len, "untrusted issuer %s", name);
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        snprintf(buf, len, "certificate has expired");
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        snprintf(buf, len, "certificate not yet valid");
        break;
    case X509_V_ERR_CERT_CHAIN_TOO_LONG:
        snprintf(buf, len, "certificate chain longer than limit(%d)", limit);
        break;
    default:
        snprintf(buf, len, "num=%d:%s", err, X509_verify_cert_error_string(err));
        break;
    }
}

/* Record the first chain error; the handshake goes on (see above). */
int
tls_verify_callback(int ok, X509_STORE_CTX *store_ctx)
{
    SSL    *ssl = X509_STORE_CTX_get_ex_data(store_ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    TLS_SESS *sess = ssl ? SSL_get_app_data(ssl) : NULL;
    int     err = X509_STORE_CTX_get_error(store_ctx);

    if (sess == NULL)
        return 1;
    if (sess->loglevel >= 2) {
        X509   *cert = X509_STORE_CTX_get_current_cert(store_ctx);
        char    subject[256] = "";

        if (cert != NULL)
            X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
        msg_info("%s: depth=%d verify=%d subject=%s", sess->peer_name,
                 X509_STORE_CTX_get_error_depth(store_ctx), ok, subject);
    }
    if (ok && sess->verify_depth >= 0
        && X509_STORE_CTX_get_error_depth(store_ctx) > sess->verify_depth) {
        ok = 0;
        err = X509_V_ERR_CERT_CHAIN_TOO_LONG;
    }
    if (!ok && sess->chain_error == 0) {
        sess->chain_error = err ? err : X509_V_ERR_UNSPECIFIED;
        tls_describe_chain_error(store_ctx, sess->chain_error, sess->verify_depth,
                                 sess->verify_why, sizeof(sess->verify_why));
    }
    return 1;
}

/* ---- fingerprints ----------------------------------------------------- */

int
tls_digest_ok(const char *name)
{
    EVP_MD *md = EVP_MD_fetch(NULL, name, NULL);

    ERR_clear_error();
    EVP_MD_free(md);
    return md != NULL;
}

/* "AB:CD:..." of the digest of der; NULL if the digest is unknown. */
static char *
tls_fprint_der(const unsigned char *der, size_t len, const char *digest)
{
    EVP_MD *md = EVP_MD_fetch(NULL, digest, NULL);
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char   *out, *p;

    if (md == NULL || !EVP_Digest(der, len, buf, &n, md, NULL) || n == 0) {
        EVP_MD_free(md);
        ERR_clear_error();
        return NULL;
    }
    EVP_MD_free(md);
    out = p = mem_alloc(3 * (size_t) n);
    for (unsigned int i = 0; i < n; i++)
        p += sprintf(p, "%s%02X", i ? ":" : "", buf[i]);
    return out;
}

/* The fingerprints of a certificate and of its public key. */
static void
tls_fprint_cert(X509 *cert, const char *digest, TLS_PEER *peer)
{
    unsigned char *der = NULL;
    int     len;

    if ((len = i2d_X509(cert, &der)) > 0)
        peer->fprint = tls_fprint_der(der, (size_t) len, digest);
    OPENSSL_free(der);
    der = NULL;
    if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der)) > 0)
        peer->pkey_fprint = tls_fprint_der(der, (size_t) len, digest);
    OPENSSL_free(der);
}

/* Upper-case hex without the ':' (the form compared), or NULL: not hex. */
static char *
tls_fprint_normal(const char *text)
{
    char   *out = mem_alloc(strlen(text) + 1), *p = out;

    for (; *text; text++) {
        if (*text == ':')
            continue;
        if (!isxdigit((unsigned char) *text)) {
            mem_free(out);
            return NULL;
        }
        *p++ = (char) toupper((unsigned char) *text);
    }
    *p = 0;
    if (p == out || (p - out) % 2) {
        mem_free(out);
        return NULL;
    }
    return out;
}

ARGV   *
tls_fprint_parse(const char *list, const char *delims)
{
    ARGV   *words = argv_split(list, delims);
    ARGV   *out = argv_alloc();
    char   *fp;

    for (size_t i = 0; i < words->argc; i++) {
        if ((fp = tls_fprint_normal(words->argv[i])) != NULL)
            argv_add_owned(out, fp);
        else
            msg_warn("malformed fingerprint value: %.100s", words->argv[i]);
    }
    argv_free(words);
    return out;
}

int
tls_fprint_match(const TLS_PEER *peer, const ARGV *fprints)
{
    char   *cert = peer->fprint ? tls_fprint_normal(peer->fprint) : NULL;
    char   *pkey = peer->pkey_fprint ? tls_fprint_normal(peer->pkey_fprint) : NULL;
    int     found = 0;

    for (size_t i = 0; !found && i < fprints->argc; i++)
        found = (cert && strcmp(cert, fprints->argv[i]) == 0)
            || (pkey && strcmp(pkey, fprints->argv[i]) == 0);
    mem_free(cert);
    mem_free(pkey);
    return found;
}

/* ---- names ------------------------------------------------------------ */

/* The first entry nid of name, as printable text; "" if none or unsafe. */
static char *
tls_name_text(X509_NAME *name, int nid)
{
    int     idx = name ? X509_NAME_get_index_by_NID(name, nid, -1) : -1;
    unsigned char *utf8 = NULL;
    int     len;
    char   *out;

    if (idx < 0 || (len = ASN1_STRING_to_UTF8(&utf8,
                      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)))) < 0) {
        ERR_clear_error();
        return mem_strdup("");
    }
    if (memchr(utf8, 0, (size_t) len) != NULL)
        len = 0;
    if (len > TLS_PEER_NAME_MAX)
        len = TLS_PEER_NAME_MAX;
    out = mem_alloc((size_t) len + 1);
    for (int i = 0; i < len; i++)
        out[i] = utf8[i] >= 0x20 && utf8[i] < 0x7f ? (char) utf8[i] : '?';
    out[len] = 0;
    OPENSSL_free(utf8);
    return out;
}

void
tls_peer_collect(TLS_SESS *sess, const char *digest)
{
    X509   *cert = SSL_get0_peer_certificate(sess->ssl);
    TLS_PEER *peer = &sess->peer;

    if (cert == NULL)
        return;
    peer->present = 1;
    peer->trusted = sess->chain_error == 0 && SSL_get_verify_result(sess->ssl) == X509_V_OK;
    peer->CN = tls_name_text(X509_get_subject_name(cert), NID_commonName);
    peer->issuer_CN = tls_name_text(X509_get_issuer_name(cert), NID_commonName);
    if (*peer->issuer_CN == 0) {
        mem_free(peer->issuer_CN);
        peer->issuer_CN = tls_name_text(X509_get_issuer_name(cert), NID_organizationName);
    }
    if (digest && *digest)
        tls_fprint_cert(cert, digest, peer);
    /* an unknown digest (smtp_tls_fingerprint_digest): matches nothing */
    if (peer->fprint == NULL)
        peer->fprint = mem_strdup("");
    if (peer->pkey_fprint == NULL)
        peer->pkey_fprint = mem_strdup("");
}

void
tls_peer_free(TLS_PEER *peer)
{
    mem_free(peer->CN);
    mem_free(peer->issuer_CN);
    mem_free(peer->fprint);
    mem_free(peer->pkey_fprint);
    memset(peer, 0, sizeof(*peer));
}

const TLS_PEER *
tls_sess_peer(const TLS_SESS *sess)
{
    return &sess->peer;
}

const char *
tls_sess_verify_why(TLS_SESS *sess)
{
    long    err = SSL_get_verify_result(sess->ssl);

    if (sess->verify_why[0] == 0 && err != X509_V_OK)      /* a resumed session */
        snprintf(sess->verify_why, sizeof(sess->verify_why), "num=%ld:%s", err,
                 X509_verify_cert_error_string(err));
    return sess->verify_why[0] ? sess->verify_why : "untrusted";
}
