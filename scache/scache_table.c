/*
 * scache_table.c - the connection cache's store.
 *
 * Interface (scache.h): scache_table_save_endp(), _save_dest(),
 * _find_endp(), _find_dest(), _expire(), _stats().
 *
 * Two lists, both small (a handful of destinations in practice): the
 * cached connections, each under an endpoint label ("transport:[addr]:port"
 * from smtp), newest first; and the destination bindings, a destination
 * label ("transport:nexthop") naming an endpoint label. A connection
 * leaves the store when it is found (its descriptor goes to the finder)
 * or when its time is up (closed). A binding lives until its own time is
 * up; a lookup through a binding whose endpoint has no connection left
 * is a miss.
 *
 * SECURITY: labels and properties are bounded by the caller
 * (scache_service.c); the store counts entries and refuses to grow past
 * SCACHE_MAX_CONNS connections (the oldest is closed) and as many
 * bindings, so a client cannot exhaust memory or descriptors.
 *
 * DIAGNOSTICS: none.
 */
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "scache.h"

#define SCACHE_MAX_CONNS 500

typedef struct ENTRY {
    char   *label;
    char   *prop;
    char   *endp_label;                 /* bindings only */
    int     fd;                         /* connections only */
    double  expires;
    struct ENTRY *next;
} ENTRY;

static ENTRY *conns;
static ENTRY *dests;
static SCACHE_STATS stats;

SCACHE_STATS *
scache_table_stats(void)
{
    return &stats;
}

static void
entry_free(ENTRY *e)
{
    if (e->fd >= 0)
        (void) close(e->fd);
    mem_free(e->label);
    mem_free(e->prop);
    mem_free(e->endp_label);
    mem_free(e);
}

static int
list_count(const ENTRY *e)
{
    int     n = 0;

    for (; e; e = e->next)
        n++;
    return n;
}

/* Number of different labels in the list. */
static int
label_count(const ENTRY *list)
{
    int     n = 0;

    for (const ENTRY *e = list; e; e = e->next) {
        const ENTRY *p = list;

        while (p != e && strcmp(p->label, e->label) != 0)
            p = p->next;
        n += p == e;
    }
    return n;
}

static void
update_max(void)
{
    int     n;

    if ((n = label_count(dests)) > stats.max_dests)
        stats.max_dests = n;
    if ((n = label_count(conns)) > stats.max_endps)
        stats.max_endps = n;
    if ((n = list_count(conns)) > stats.max_conns)
        stats.max_conns = n;
}

/* Drop the last (oldest) entry of a list that is too long. */
static void
list_trim(ENTRY **list)
{
    ENTRY **pp = list;

    if (list_count(*list) < SCACHE_MAX_CONNS)
        return;
    while ((*pp)->next)
        pp = &(*pp)->next;
    entry_free(*pp);
    *pp = NULL;
}

void
scache_table_save_endp(const char *label, const char *prop, int fd, long ttl, double now)
{
    ENTRY  *e = mem_alloc(sizeof(*e));

    list_trim(&conns);
    e->label = mem_strdup(label);
    e->prop = mem_strdup(prop);
    e->fd = fd;
    e->expires = now + ttl;
    e->next = conns;
    conns = e;
    update_max();
}

void
scache_table_save_dest(const char *label, const char *prop, const char *endp_label,
                       long ttl, double now)
{
    ENTRY  *e;

    for (e = dests; e; e = e->next)
        if (strcmp(e->label, label) == 0 && strcmp(e->endp_label, endp_label) == 0)
            break;
    if (e == NULL) {
        list_trim(&dests);
        e = mem_alloc(sizeof(*e));
        e->label = mem_strdup(label);
        e->endp_label = mem_strdup(endp_label);
        e->fd = -1;
        e->next = dests;
        dests = e;
    } else {
        mem_free(e->prop);
    }
    e->prop = mem_strdup(prop);
    e->expires = now + ttl;
    update_max();
}

/* Take the newest live connection for label out of the list. */
static int
take_conn(const char *label, const char **prop, double now)
{
    static char *last_prop;
    ENTRY **pp, *e;
    int     fd;

    for (pp = &conns; (e = *pp) != NULL; pp = &e->next) {
        if (e->expires > now && strcmp(e->label, label) == 0) {
            *pp = e->next;
            fd = e->fd;
            mem_free(last_prop);
            last_prop = e->prop;
            *prop = last_prop;
            e->fd = -1;
            e->prop = NULL;
            entry_free(e);
            return fd;
        }
    }
    return -1;
}

int
scache_table_find_endp(const char *label, const char **prop, double now)
{
    int     fd = take_conn(label, prop, now);

    if (fd >= 0)
        stats.endp_hits++;
    else
        stats.endp_miss++;
    return fd;
}

int
scache_table_find_dest(const char *label, const char **dprop, const char **eprop,
                       double now)
{
    int     fd = -1;

    for (ENTRY *e = dests; e && fd < 0; e = e->next) {
        if (e->expires > now && strcmp(e->label, label) == 0
            && (fd = take_conn(e->endp_label, eprop, now)) >= 0)
            *dprop = e->prop;
    }
    if (fd >= 0)
        stats.dest_hits++;
    else
        stats.dest_miss++;
    return fd;
}

static void
list_expire(ENTRY **list, double now)
{
    ENTRY **pp = list, *e;

    while ((e = *pp) != NULL) {
        if (e->expires <= now) {
            *pp = e->next;
            entry_free(e);
        } else {
            pp = &e->next;
        }
    }
}

int
scache_table_expire(double now)
{
    list_expire(&conns, now);
    list_expire(&dests, now);
    return list_count(conns) + list_count(dests);
}
