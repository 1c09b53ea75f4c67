/*
 * flush.h - the fast flush service: what its two files share.
 *
 *   flush.c          main(), parameters
 *   flush_service.c  the requests (mail_proto.h "flush") and the
 *                    per-site logs under $queue_directory/flush
 */
#ifndef POSTHORN_FLUSH_H
#define POSTHORN_FLUSH_H

#include "attr.h"
#include "stream.h"

#define FLUSH_SITE_MAX   255            /* bytes of a site name */
#define FLUSH_LOG_MAX    (1024 * 1024)  /* bytes of one site's log read at once */

extern long var_flush_refresh;
extern long var_flush_purge;

int     flush_greet(STREAM *client);
void    flush_service(STREAM *client);
/* One request list -> its status (FLUSH_STAT_*); the testable core. */
int     flush_handle(const ATTR_LIST *req);
/* The site as a file name under flush/ (lowercased), or -1 when it is
 * not a domain name or address literal. */
int     flush_site_name(const char *site, char *out, size_t outlen);

#endif
