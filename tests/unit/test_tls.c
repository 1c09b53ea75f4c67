/*
 * test_tls.c - unit tests for lib/tls: Postfix-style protocol lists,
 * expected fingerprints, a context that cannot be made from files that
 * are missing, which TLSA records DANE keeps (tls_dane_add: DANE-TA/DANE-EE
 * only, digest lengths).
 * (Handshakes are in tests/integration/test_tls.py, through smtpd.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "msg.h"
#include "tls.h"
#include "unit.h"

#define TLS12_UP (TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3)

UNIT_TEST(test_protocol_lists)
{
    msg_init("test_tls", MSG_NOSYSLOG);
    CHECK_INT(tls_protocol_mask(">=TLSv1"), TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_1 | TLS12_UP);
    CHECK_INT(tls_protocol_mask(">=TLSv1.2"), TLS12_UP);
    CHECK_INT(tls_protocol_mask("<=TLSv1.2, >=TLSv1.2"), TLS_PROTO_TLSv1_2);
    CHECK_INT(tls_protocol_mask("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"), TLS12_UP);
    CHECK_INT(tls_protocol_mask("!SSLv2:!SSLv3:!TLSv1.3"),
              TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_1 | TLS_PROTO_TLSv1_2);
    CHECK_INT(tls_protocol_mask("TLSv1.2 TLSv1.3"), TLS12_UP);
    CHECK_INT(tls_protocol_mask("tlsv1.3"), TLS_PROTO_TLSv1_3);
    CHECK_INT(tls_protocol_mask(""), TLS_PROTO_ALL & ~TLS_PROTO_SSLv2);
    CHECK_INT(tls_protocol_mask("TLSv9"), -1);          /* unknown name */
    CHECK_INT(tls_protocol_mask("SSLv2"), -1);          /* nothing left */
    CHECK_INT(tls_protocol_mask(">=TLSv1.3, !TLSv1.3"), -1);
}

UNIT_TEST(test_missing_files_give_no_context)
{
    TLS_SERVER_INIT init = {
        .cert_file = "/nonexistent/cert.pem", .key_file = "", .eccert_file = "",
        .eckey_file = "", .dcert_file = "", .dkey_file = "", .chain_files = "",
        .CAfile = "", .CApath = "", .protocols = ">=TLSv1", .cipherlist = "DEFAULT",
    };

    msg_init("test_tls", MSG_NOSYSLOG);
    CHECK(tls_server_init(&init) == NULL);
    init.cert_file = "";
    CHECK(tls_server_init(&init) == NULL);              /* no certificates at all */
    init.protocols = "TLSv9";
    CHECK(tls_server_init(&init) == NULL);
}

/* A chain file whose key does not match its certificate: no context, no crash. */
UNIT_TEST(test_mismatched_chain_file)
{
    char    dir[] = "/tmp/test_tls.XXXXXX";
    char    cmd[1024], chain[256];
    TLS_SERVER_INIT init = {
        .cert_file = "", .key_file = "", .eccert_file = "", .eckey_file = "",
        .dcert_file = "", .dkey_file = "", .chain_files = chain, .CAfile = "",
        .CApath = "", .protocols = ">=TLSv1", .cipherlist = "DEFAULT",
    };

    msg_init("test_tls", MSG_NOSYSLOG);
    CHECK(mkdtemp(dir) != NULL);
    snprintf(chain, sizeof(chain), "%s/chain.pem", dir);
    snprintf(cmd, sizeof(cmd),
             "cd %s && openssl req -x509 -nodes -days 1 -subj /CN=a -newkey rsa:2048 "
             "-keyout a.key -out a.pem 2>/dev/null && openssl req -x509 -nodes -days 1 "
             "-subj /CN=b -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout b.key "
             "-out b.pem 2>/dev/null && cat b.key a.pem a.key a.pem > chain.pem", dir);
    CHECK(system(cmd) == 0);
    CHECK(tls_server_init(&init) == NULL);
    snprintf(cmd, sizeof(cmd), "cd %s && cat a.key a.pem b.key a.pem > chain.pem", dir);
    CHECK(system(cmd) == 0);
    CHECK(tls_server_init(&init) == NULL);
    snprintf(cmd, sizeof(cmd), "cd %s && cat a.key a.pem b.key b.pem > chain.pem", dir);
    CHECK(system(cmd) == 0);
    CHECK(tls_server_init(&init) != NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

UNIT_TEST(test_dane_usable_records)
{
    unsigned char d64[64] = {1}, d32[32] = {2};
    TLS_DANE *d = tls_dane_alloc("mx.example.test");

    CHECK_INT(tls_dane_add(d, 3, 1, 1, d32, 32), 1);       /* DANE-EE SPKI SHA2-256 */
    CHECK_INT(tls_dane_add(d, 2, 0, 2, d64, 64), 1);       /* DANE-TA Cert SHA2-512 */
    CHECK_INT(tls_dane_add(d, 3, 0, 0, d64, 64), 1);       /* Full: any length */
    CHECK_INT(tls_dane_add(d, 1, 1, 1, d32, 32), 0);       /* PKIX-EE: ignored */
    CHECK_INT(tls_dane_add(d, 0, 1, 1, d32, 32), 0);       /* PKIX-TA: ignored */
    CHECK_INT(tls_dane_add(d, 3, 2, 1, d32, 32), 0);       /* unknown selector */
    CHECK_INT(tls_dane_add(d, 3, 1, 3, d32, 32), 0);       /* unknown matching type */
    CHECK_INT(tls_dane_add(d, 3, 1, 1, d64, 31), 0);       /* SHA2-256 of 31 bytes */
    CHECK_INT(tls_dane_add(d, 3, 1, 2, d32, 32), 0);       /* SHA2-512 of 32 bytes */
    CHECK_INT(tls_dane_add(d, 3, 1, 0, d32, 0), 0);        /* no data */
    CHECK_INT(tls_dane_count(d), 3);
    CHECK_INT(tls_dane_count(NULL), 0);
    tls_dane_add_name(d, "example.test");
    tls_dane_free(d);
    tls_dane_free(NULL);
}

/* Expected fingerprints: colons optional, case-insensitive, malformed ones
 * dropped; a match on the certificate or on the public-key fingerprint. */
UNIT_TEST(test_fingerprints)
{
    TLS_PEER peer = {.present = 1, .fprint = "AB:CD:EF:01", .pkey_fprint = "12:34"};
    ARGV   *fp;

    msg_init("test_tls", MSG_NOSYSLOG);
    CHECK(tls_digest_ok("sha256") && tls_digest_ok("md5") && tls_digest_ok("sha1")
          && tls_digest_ok("sha512"));
    CHECK(!tls_digest_ok("nosuchdigest"));
    fp = tls_fprint_parse("abcdef01|zz:11, 1:2:3", " \t\r\n,|");
    CHECK_INT((int) fp->argc, 1);                       /* "zz:11" and "1:2:3" are not hex bytes */
    CHECK_STR(fp->argv[0], "ABCDEF01");
    CHECK(tls_fprint_match(&peer, fp));
    argv_free(fp);
    fp = tls_fprint_parse("12:34", " ");
    CHECK(tls_fprint_match(&peer, fp));                 /* the public key's */
    argv_free(fp);
    fp = tls_fprint_parse("AB:CD:EF:02 ABCD", " ");
    CHECK(!tls_fprint_match(&peer, fp));
    argv_free(fp);
}

UNIT_TESTS {
    {"test_protocol_lists", test_protocol_lists},
    {"test_fingerprints", test_fingerprints},
    {"test_missing_files_give_no_context", test_missing_files_give_no_context},
    {"test_mismatched_chain_file", test_mismatched_chain_file},
    {"test_dane_usable_records", test_dane_usable_records},
    UNIT_END
};
