/*
 * tls_impl.h - what the lib/tls files share; not for programs.
 */
#ifndef POSTHORN_TLS_IMPL_H
#define POSTHORN_TLS_IMPL_H

#include <openssl/ssl.h>

struct TLS_SERVER_CTX {
    SSL_CTX *ssl_ctx;
    int     loglevel;
};

#endif
