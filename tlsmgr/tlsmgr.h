/*
 * tlsmgr.h - private interface of the TLS session cache and ticket key
 * manager.
 *
 *   tlsmgr.c          main(): the multi-server skeleton, start-up (the
 *                     cache files are opened as mail_owner before any
 *                     chroot), the cache cleanup timers
 *   tlsmgr_cache.c    one session cache: a hash: or btree: table of
 *                     "cache_id" -> "time:session-hex", emptied at
 *                     start-up, entries older than the timeout dropped on
 *                     lookup and by the periodic cleanup
 *   tlsmgr_key.c      session ticket keys: the current one and the one
 *                     before, renewed every session timeout
 *   tlsmgr_service.c  the protocol (tls_mgr.h): one request, one reply
 *   tlsmgr_prng.c     the entropy source and the PRNG exchange file
 *
 * SECURITY: clients are local daemons on a private socket, still checked
 * (tlsmgr_service.c). tlsmgr never interprets session data.
 *
 * DIAGNOSTICS: see the files.
 */
#ifndef POSTHORN_TLSMGR_H
#define POSTHORN_TLSMGR_H

#include <time.h>

#include "attr.h"
#include "maps.h"
#include "stream.h"
#include "tls_mgr.h"

/* The caches, by cache_type. */
enum {
    TLSMGR_SMTPD,
    TLSMGR_SMTP,
    TLSMGR_LMTP,
    TLSMGR_NCACHE
};

typedef struct TLSMGR_CACHE {
    const char *type;                   /* "smtpd", "smtp", "lmtp" */
    DICT   *dict;                       /* NULL: no cache of this type */
    long    timeout;                    /* seconds */
} TLSMGR_CACHE;

extern TLSMGR_CACHE tlsmgr_caches[TLSMGR_NCACHE];

/* tlsmgr_cache.c */
/* Empty (create) and open spec as the cache; 0, or -1 after a warning. */
int     tlsmgr_cache_open(TLSMGR_CACHE *cache, const char *spec, long timeout);
TLSMGR_CACHE *tlsmgr_cache_find(const char *type);
int     tlsmgr_cache_lookup(TLSMGR_CACHE *cache, const char *id, time_t now, const char **hex);
int     tlsmgr_cache_update(TLSMGR_CACHE *cache, const char *id, const char *hex, time_t now);
int     tlsmgr_cache_delete(TLSMGR_CACHE *cache, const char *id);
/* Drop every entry older than the timeout; how many. */
int     tlsmgr_cache_expire(TLSMGR_CACHE *cache, time_t now);

/* tlsmgr_key.c */
void    tlsmgr_key_init(long timeout);
/* name NULL: the current key (made when there is none); NULL: none. */
const TLS_TICKET_KEY *tlsmgr_key_get(const unsigned char *name, time_t now);

/* tlsmgr_prng.c */
void    tlsmgr_prng_open(void);         /* pre_init: parameters, files */
void    tlsmgr_prng_timers(void);       /* post_init */
void    tlsmgr_prng_update(void);       /* rewrite the exchange file */

/* tlsmgr_service.c */
int     tlsmgr_greet(STREAM *client);
int     tlsmgr_service(STREAM *client);
/* Answer one request (reply is filled in); for the fuzz harness too. */
void    tlsmgr_request(const ATTR_LIST *req, ATTR_LIST *reply, time_t now);

#endif
