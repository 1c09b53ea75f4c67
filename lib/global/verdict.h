/*
 * verdict.h - the delivery agents that decide without delivering: error
 * (bounce), retry (defer) and discard (delivered). Every recipient of a
 * request gets the same verdict, with the request's next hop as the
 * reason ("error:5.1.1 no such user", "discard:silently dropped"); a
 * leading RFC 3463 code is used with the verdict's class (dsn_split());
 * without a text the reason is dflt. Logged as Postfix does:
 *   ID: to=<rcpt>, relay=none, delay=.., delays=.., dsn=5.0.0, status=bounced (reason)
 *
 *   verdict_deliver(req, status, dflt)    one request (tests: no socket)
 *   verdict_service(client, status, dflt) read the request from qmgr,
 *                                         decide, reply
 *
 * status is DELIVER_SENT, DELIVER_DEFER or DELIVER_BOUNCE.
 *
 * SECURITY: the request is checked by deliver_request_read(); the content
 * is not read; the reason is the (admin-configured or resolver-made) next
 * hop, copied into the log through deliver_result(), which bounds it.
 *
 * DIAGNOSTICS: none of its own; see deliver_request_serve() (deliver.h).
 */
#ifndef POSTHORN_VERDICT_H
#define POSTHORN_VERDICT_H

#include "deliver.h"
#include "stream.h"

void    verdict_deliver(DELIVER_REQUEST *req, int status, const char *dflt);
void    verdict_service(STREAM *client, int status, const char *dflt);

#endif
