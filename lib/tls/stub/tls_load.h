/*
 * tls_load.h - the programs' side of posthorn-tls.so (see tls_load.c).
 */
#ifndef POSTHORN_TLS_LOAD_H
#define POSTHORN_TLS_LOAD_H

#define TLS_SO_FILE "posthorn-tls.so"

/* The address of name in posthorn-tls.so, loading the object first when
 * load is set (the *_init functions); NULL when it is not loaded (a load
 * failure is logged once). */
void   *tls_stub_sym(const char *name, int load);

#endif
