/*
 * proxymap.h - private interface of the proxymap daemon.
 *
 * proxymap.c          main(): the multi-client skeleton, start-up
 * proxymap_service.c  the approved tables, the open tables, one request
 *
 * DIAGNOSTICS: fatal for a bad proxy_read_maps/proxy_write_maps value at
 * start-up (through config_read_vars); warnings per request, see
 * proxymap_service.c.
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
