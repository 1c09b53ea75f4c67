/*
 * anvil.h - private interface of the connection and rate limit server.
 *
 *   anvil.c          main(): the multi-server skeleton
 *   anvil_table.c    the counters: per "service:addr" entry a connection
 *                    count and event rates over anvil_rate_time_unit,
 *                    the maximum statistics, and idle entry expiry.
 *                    Pure logic with explicit time arguments (unit tested).
 *   anvil_service.c  the protocol (mail_proto.h "anvil"), per-client
 *                    bookkeeping (a client that goes away gives back its
 *                    connections), the statistics timer and the exit dump.
 *
 * SECURITY: see anvil_service.c; idents are bounded (ANVIL_IDENT_MAX) and
 * the table is bounded (ANVIL_TABLE_MAX entries).
 *
 * DIAGNOSTICS: fatal only at start (a bad parameter value, no pipe for the
 * SIGTERM handler); at run time a bad or unknown request, a full table and
 * a client that announces too many connections are warnings and the
 * request is answered or ignored.
 */
#ifndef POSTHORN_ANVIL_H
#define POSTHORN_ANVIL_H

#include <stddef.h>
#include <time.h>

#include "argv.h"
#include "stream.h"

#define ANVIL_IDENT_MAX   1024          /* "service:addr" length */
#define ANVIL_TABLE_MAX   100000        /* entries (posthorn's bound) */

/* The rates kept per entry, in Postfix's statistics order. */
enum {
    ANVIL_RATE_CONN,                    /* connect */
    ANVIL_RATE_MAIL,                    /* message */
    ANVIL_RATE_RCPT,                    /* recipient */
    ANVIL_RATE_NTLS,                    /* newtls */
    ANVIL_RATE_AUTH,                    /* auth */
    ANVIL_RATE_COUNT
};

typedef struct ANVIL_ENTRY {
    char   *ident;
    int     count;                      /* concurrent connections */
    time_t  start;                      /* start of the current rate window */
    int     rate[ANVIL_RATE_COUNT];     /* events in the current window */
    struct ANVIL_ENTRY *next;           /* hash chain */
} ANVIL_ENTRY;

typedef struct ANVIL_MAX {
    int     value;
    char   *ident;                      /* NULL while value is 0 */
    time_t  when;
} ANVIL_MAX;

typedef struct ANVIL_TABLE {
    ANVIL_ENTRY **buckets;
    size_t  size;                       /* buckets */
    size_t  used;                       /* entries */
    size_t  limit;                      /* at most this many entries */
    long    unit;                       /* anvil_rate_time_unit, seconds */
    time_t  full_sweep;                 /* last expiry forced by a full table */
    ANVIL_MAX max_rate[ANVIL_RATE_COUNT];
    ANVIL_MAX max_count;
    ANVIL_MAX max_cache;                /* ident unused */
} ANVIL_TABLE;

/* anvil_table.c */
ANVIL_TABLE *anvil_table_create(long unit, size_t limit);
void    anvil_table_free(ANVIL_TABLE *table);
/* One more connection (count and connection rate); NULL when the table is full. */
ANVIL_ENTRY *anvil_table_connect(ANVIL_TABLE *table, const char *ident, time_t now);
/* One connection less; 0, or -1 when ident has no open connection. */
int     anvil_table_disconnect(ANVIL_TABLE *table, const char *ident, time_t now);
/* One more event of kind (ANVIL_RATE_MAIL etc.); NULL when the table is full. */
ANVIL_ENTRY *anvil_table_event(ANVIL_TABLE *table, const char *ident, int kind, time_t now);
/* The entry as of now (an expired window reads as zero rates), or NULL. */
ANVIL_ENTRY *anvil_table_find(ANVIL_TABLE *table, const char *ident, time_t now);
/* Drop entries without connections whose window has ended; returns how many. */
size_t  anvil_table_expire(ANVIL_TABLE *table, time_t now);
/* The log lines ("statistics: max connection rate 1/60s for (smtp:1.2.3.4)
 * at Nov 22 08:00:00", ...) for the maxima seen since the last call, which
 * are then reset. Nothing is added when there was no activity. */
void    anvil_table_stats(ANVIL_TABLE *table, ARGV *lines);

/* anvil_service.c */
int     anvil_greet(STREAM *client);
int     anvil_service(STREAM *client);
void    anvil_init(void);

#endif
