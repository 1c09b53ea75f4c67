/*
 * verify.h - the address verification service: what its files share.
 *
 *   verify.c          main(): the daemon skeleton, parameters, the cache
 *   verify_cache.c    cache entries "status:probed:updated:text" (Postfix's
 *                     verify_cache format) and the query/update decisions
 *   verify_probe.c    a probe message through public/cleanup
 *   verify_service.c  the requests (mail_proto.h "verify")
 *
 * SECURITY: see verify.c.
 */
#ifndef POSTHORN_VERIFY_H
#define POSTHORN_VERIFY_H

#include <time.h>
#include "attr.h"
#include "maps.h"
#include "stream.h"
#include "vstring.h"

/* A probe is not sent again for the same address within this time. */
#define VERIFY_PROBE_TTL 1000

typedef struct VERIFY_PARAMS {
    long    pos_expire;         /* address_verify_positive_expire_time */
    long    pos_refresh;        /* address_verify_positive_refresh_time */
    int     neg_cache;          /* address_verify_negative_cache */
    long    neg_expire;         /* address_verify_negative_expire_time */
    long    neg_refresh;        /* address_verify_negative_refresh_time */
} VERIFY_PARAMS;

typedef struct VERIFY_ENTRY {
    int     status;             /* VERIFY_ADDR_* */
    long    probed;             /* time of the last probe, 0: none pending */
    long    updated;            /* time of the last result, 0: none */
    const char *text;           /* points into the parsed value */
} VERIFY_ENTRY;

/* verify_cache.c */
int     verify_entry_parse(const char *value, VERIFY_ENTRY *e);        /* 0 / -1 */
void    verify_entry_format(VSTRING *out, const VERIFY_ENTRY *e);
/*
 * A query: e is the cached entry (found = 0: none). Sets *reply to the
 * answer (an expired or missing entry becomes VERIFY_ADDR_TODO "Address
 * verification in progress"), returns 1 when a probe is due.
 */
int     verify_query_decide(const VERIFY_PARAMS *p, int found, const VERIFY_ENTRY *e,
                            time_t now, VERIFY_ENTRY *reply);
/* An update: 1 when the new result may replace the cached entry
 * (a failure does not replace a positive result that has not expired). */
int     verify_update_ok(const VERIFY_PARAMS *p, int found, const VERIFY_ENTRY *old,
                         int new_status, time_t now);

/* verify_probe.c: queue a probe from sender (already "" for <>) to addr. 0 / -1. */
int     verify_probe_send(const char *sender, const char *addr);

/* verify_service.c */
void    verify_service_init(DICT *cache, const VERIFY_PARAMS *p, const char *sender);
int     verify_greet(STREAM *client);
int     verify_service(STREAM *client);
/* One request list -> its reply (the testable core). */
void    verify_handle(const ATTR_LIST *req, ATTR_LIST *reply, time_t now);

#endif
