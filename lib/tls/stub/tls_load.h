/*
 * tls_load.h - the programs' side of posthorn-tls.so (see tls_load.c).
 */
#ifndef POSTHORN_TLS_LOAD_H
#define POSTHORN_TLS_LOAD_H

#define TLS_SO_FILE "posthorn-tls.so"

/* The address of name in posthorn-tls.so, loading it on first use; NULL
 * (logged once) when TLS support is not available. */
void   *tls_stub_sym(const char *name);

#endif
