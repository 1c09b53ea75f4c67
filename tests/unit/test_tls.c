/*
 * test_tls.c - unit tests for lib/tls: Postfix-style protocol lists, and
 * a context that cannot be made from files that are missing.
 * (Handshakes are in tests/integration/test_tls.py, through smtpd.)
 */
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

UNIT_TESTS {
    {"test_protocol_lists", test_protocol_lists},
    {"test_missing_files_give_no_context", test_missing_files_give_no_context},
    UNIT_END
};
