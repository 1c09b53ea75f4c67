/*
 * smtp_cache.h - the SMTP/LMTP client's connection cache (smtp_cache.c)
 * and the protocol steps it needs from smtp_proto.c.
 *
 * Idle sessions are kept in the scache(8) daemon, shared by all smtp
 * processes: after a good transaction the session is handed over (no
 * QUIT) for smtp_connection_cache_time_limit, and the next request for
 * the same transport and next hop, in any smtp process, reuses it after
 * an RSET probe (an unusable session is closed silently and a new
 * connection made). smtp_connection_reuse_count_limit and
 * smtp_connection_reuse_time_limit bound the reuse (lmtp_* for LMTP).
 * The to= lines of a reused session say "relay=host[addr]:port,
 * conn_use=N" as Postfix's do. TLS sessions are not cached.
 *
 * DIAGNOSTICS: none fatal; a connection that cannot be cached is closed (a
 * warning when scache cannot be reached).
 */
#ifndef POSTHORN_SMTP_CACHE_H
#define POSTHORN_SMTP_CACHE_H

#include "smtp.h"

/*
 * smtp_cache_take() and smtp_cache_save() are weak: a unit test that
 * compiles smtp_service.c and smtp_proto.c without smtp_cache.c gets no
 * cache (the callers check the address), as before.
 */

/*
 * Take the idle session cached for this request (same transport and
 * nexthop, within the limits) into sess: fp, namaddr, relay (with
 * ", conn_use=N"), features, size_limit. Returns 1, or 0 when there is
 * none. Call it first thing for every request.
 */
int     smtp_cache_take(const DELIVER_REQUEST *req, SMTP_SESSION *sess)
            __attribute__((weak));

/*
 * The same by endpoint, after the DNS lookup: a session to relay
 * ("host[addr]:port") that was kept under the current TLS level (st->tls;
 * only for levels none and may, as cached sessions are plain text).
 */
int     smtp_cache_take_endp(const SMTP_STATE *st, const char *relay, SMTP_SESSION *sess)
            __attribute__((weak));

/*
 * After a good transaction: keep sess open for the request's destination
 * if caching applies. Returns 1 when the cache took sess->fp (then set to
 * NULL: the caller must not close or QUIT it), 0 when the caller should
 * QUIT and close as usual.
 */
int     smtp_cache_save(const SMTP_STATE *st, SMTP_SESSION *sess)
            __attribute__((weak));

/* smtp_proto.c: RSET probe and a whole transaction on a reused session:
 * SMTP_SESS_* as smtp_session_run(), or -1 when the session is not
 * usable (RSET failed: the caller closes it and connects anew). */
/* Hand the session kept for the next request to scache (qmgr's
 * connection ended). */
void    smtp_cache_flush(void) __attribute__((weak));

int     smtp_session_reuse(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why);

#endif
