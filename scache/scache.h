/*
 * scache.h - the connection cache server: what its files share.
 *
 *   scache.c          main(): the daemon skeleton, parameters, timers
 *   scache_table.c    the store: connections by endpoint label, and
 *                     destination labels bound to endpoint labels
 *   scache_service.c  the requests (mail_proto.h "scache") and the
 *                     descriptor passing
 *
 * SECURITY: see scache.c.
 */
#ifndef POSTHORN_SCACHE_H
#define POSTHORN_SCACHE_H

#include "attr.h"
#include "stream.h"

/* Statistics for the "statistics:" log lines. */
typedef struct SCACHE_STATS {
    int     dest_hits, dest_miss;       /* find_dest */
    int     endp_hits, endp_miss;       /* find_endp */
    int     max_dests, max_endps, max_conns;    /* simultaneous */
} SCACHE_STATS;

/* scache_table.c; now is monotonic seconds, ttl seconds. */
void    scache_table_save_endp(const char *label, const char *prop, int fd,
                               long ttl, double now);
void    scache_table_save_dest(const char *label, const char *prop,
                               const char *endp_label, long ttl, double now);
/* The newest live connection: its descriptor (removed from the table,
 * the caller owns it) and property (valid until the next table call), or
 * -1. find_dest also gives the destination's property. */
int     scache_table_find_endp(const char *label, const char **prop, double now);
int     scache_table_find_dest(const char *label, const char **dprop,
                               const char **eprop, double now);
/* Close what has expired; returns the number of entries left. */
int     scache_table_expire(double now);
SCACHE_STATS *scache_table_stats(void);

/* scache_service.c */
void    scache_service_init(long ttl_limit, long proto_timeout);
int     scache_greet(STREAM *client);
int     scache_service(STREAM *client);
/*
 * One request list -> its reply (the testable core, and the fuzz
 * target's entry). *action says what follows on the socket: 0 nothing,
 * SCACHE_ACT_RECV receive a descriptor to save (then call
 * scache_handle_fd()), SCACHE_ACT_SEND send *fd after the client's ack.
 */
#define SCACHE_ACT_NONE 0
#define SCACHE_ACT_RECV 1
#define SCACHE_ACT_SEND 2
void    scache_handle(const ATTR_LIST *req, ATTR_LIST *reply, double now,
                      int *action, int *fd);
/* Store a received descriptor for the save_endp request req. */
void    scache_handle_fd(const ATTR_LIST *req, int fd, double now);

#endif
