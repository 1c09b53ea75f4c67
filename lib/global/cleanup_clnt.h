/*
 * cleanup_clnt.h - client side of the cleanup service (public/cleanup),
 * for programs that submit a new message: smtpd, local (forwarding),
 * and any other program that queues mail (see mail_proto.h for the
 * protocol). The program must have called mail_params_init() (the
 * daemon skeleton does), which reads ipc_timeout.
 *
 *   cleanup_clnt_open(flags, queue_id)
 *       connect to public/cleanup (ipc_timeout on every operation),
 *       check the greeting {protocol=cleanup, queue_id=ID} (ID must pass
 *       queue_id_ok), store ID in queue_id and send {flags=N}. Returns
 *       the stream (the caller then writes the envelope and content
 *       records with rec_put()), or NULL after a logged warning.
 *   cleanup_clnt_finish(stream, reason)
 *       write XTRA and END, flush, read {status, reason} and close the
 *       stream. Returns cleanup's status (0 = queued; CLEANUP_STAT_*
 *       bits otherwise; CLEANUP_STAT_WRITE when the stream failed or
 *       the reply was missing or malformed). reason (may be NULL) gets
 *       cleanup's reason text, "" if none.
 *   cleanup_clnt_finish_id(stream, log_id, reason)
 *       the same; a missing reply is logged as "log_id: no status from
 *       cleanup" (the client's queue id) instead of with the socket path.
 *   cleanup_clnt_abort(stream)
 *       close without END (cleanup removes the unfinished queue file).
 *
 * SECURITY: cleanup's replies are checked strictly; a bad or missing
 * reply is never taken for "queued".
 *
 * DIAGNOSTICS: nothing is fatal; a cleanup that cannot be reached or
 * answers wrongly is a warning and a failed call. A call before
 * mail_params_init() panics.
 */
#ifndef POSTHORN_CLEANUP_CLNT_H
#define POSTHORN_CLEANUP_CLNT_H

#include "stream.h"
#include "vstring.h"

#define CLEANUP_CLNT_PATH   "public/cleanup"

STREAM *cleanup_clnt_open(int flags, VSTRING *queue_id);
int     cleanup_clnt_finish(STREAM *stream, VSTRING *reason);
int     cleanup_clnt_finish_id(STREAM *stream, const char *log_id, VSTRING *reason);
/* The same, with smtpd's milters passed after END (milter_pass.c); NULL: none. */
struct MILTERS;
int     cleanup_clnt_finish_milters(STREAM *stream, const char *log_id, VSTRING *reason,
                                    struct MILTERS *milters);
void    cleanup_clnt_abort(STREAM *stream);

#endif
