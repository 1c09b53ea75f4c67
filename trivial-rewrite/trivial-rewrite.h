/*
 * trivial-rewrite.h - private interface of the trivial-rewrite daemon.
 *
 * trivial-rewrite.c holds main(); trivial-rewrite_service.c answers the
 * rewrite and resolve requests (mail_proto.h) with the in-process logic
 * of lib/global/resolve_addr.c (parameters: lib/global/resolve.h).
 *
 * DIAGNOSTICS: fatal only at start; a bad request is a warning and the
 * client is dropped.
 */
#ifndef POSTHORN_TRIVIAL_REWRITE_H
#define POSTHORN_TRIVIAL_REWRITE_H

#include "stream.h"

/* multi_server callback: serve the requests that are waiting; -1 = close. */
int     rewrite_service(STREAM *client);
/* on_accept hook: send the {protocol=rewrite} greeting; -1 = close. */
int     rewrite_greet(STREAM *client);

#endif
