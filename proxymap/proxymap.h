/*
 * proxymap.h - private interface of the proxymap daemon.
 *
 * proxymap.c          main(): the multi-client skeleton, start-up
 * proxymap_service.c  the approved tables, the open tables, one request
 *
 * DIAGNOSTICS: none here; the daemon's are in proxymap.c (start-up) and
 * proxymap_service.c (per request).
 */
#ifndef POSTHORN_PROXYMAP_H
#define POSTHORN_PROXYMAP_H

#include "stream.h"

/* As root before the privilege drop: read proxy_read_maps or
 * proxy_write_maps (write: this is the proxywrite service). */
void    proxymap_init(int write);
int     proxymap_greet(STREAM *client);
int     proxymap_service(STREAM *client);

#endif
