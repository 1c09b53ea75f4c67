/*
 * flush_clnt.h - client of the fast flush service (public/flush;
 * protocol: mail_proto.h "flush").
 *
 *   flush_clnt_add(site, queue_id)   qmgr, for each deferred recipient:
 *       remember that queue_id has mail deferred for site (the
 *       recipient's domain); a site not in fast_flush_domains is
 *       FLUSH_STAT_DENY without asking the service (as Postfix).
 *   flush_clnt_send_site(site)       ETRN, postqueue -s, sendmail -qR:
 *       deliver the deferred mail logged for site now.
 *
 * Each returns FLUSH_STAT_OK, FLUSH_STAT_DENY (site not eligible),
 * FLUSH_STAT_BAD (bad site or queue id) or FLUSH_STAT_FAIL (service
 * unreachable or misbehaving: a warning). One connection per call,
 * bounded by $ipc_timeout or FLUSH_CLNT_TIMEOUT, whichever is smaller.
 *
 * SECURITY: the reply's status must be one of the FLUSH_STAT_* values.
 *
 * DIAGNOSTICS: nothing is fatal; warnings only. A call before
 * mail_params_init() panics.
 */
#ifndef POSTHORN_FLUSH_CLNT_H
#define POSTHORN_FLUSH_CLNT_H

#include "mail_proto.h"

#define FLUSH_CLNT_PATH     MAIL_CLASS_PUBLIC "/" SERVICE_FLUSH
#define FLUSH_CLNT_TIMEOUT  10

int     flush_clnt_add(const char *site, const char *queue_id);
int     flush_clnt_send_site(const char *site);

#endif
