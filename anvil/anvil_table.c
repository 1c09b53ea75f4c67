/*
 * anvil_table.c - the anvil counters, without any I/O.
 *
 * Interface (anvil.h): anvil_table_create/free, anvil_table_connect,
 * anvil_table_disconnect, anvil_table_event, anvil_table_find,
 * anvil_table_expire, anvil_table_stats. Every function takes the current
 * time, so the unit tests control the clock.
 *
 * One entry per ident ("service:addr"): the number of open connections,
 * and one fixed window of anvil_rate_time_unit seconds shared by all its
 * rates (connections, messages, recipients, new TLS sessions, AUTH
 * commands). The window starts with the first event after the previous
 * one ended; when it ends, all rates start again from zero. A rate reply
 * is the number of events so far in the window, this one included.
 *
 * The maxima (per rate, the connection count, the number of entries) are
 * kept with the ident and time they were reached, for the statistics
 * log lines, and reset each time those are produced.
 *
 * Memory: an entry without connections is dropped once its window has
 * ended (anvil_table_expire, called periodically and when the table is
 * full); the table never holds more than `limit` entries: a new ident
 * beyond that is refused (the caller reports a failure, clients fail open).
 *
 * SECURITY: idents come from local clients (smtpd); they are bounded by
 * the caller (ANVIL_IDENT_MAX) and only hashed and compared.
 *
 * DIAGNOSTICS: none; a full table is a return value the caller warns
 * about.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "anvil.h"
#include "mem.h"

#define ANVIL_TABLE_MIN_BUCKETS 256

ANVIL_TABLE *
anvil_table_create(long unit, size_t limit)
{
    ANVIL_TABLE *table = mem_alloc(sizeof(*table));

    table->size = ANVIL_TABLE_MIN_BUCKETS;
    table->buckets = mem_array(table->size, sizeof(ANVIL_ENTRY *));
    table->unit = unit > 0 ? unit : 1;
    table->limit = limit > 0 ? limit : 1;
    table->full_sweep = (time_t) -1;
    return table;
}

static void
anvil_entry_free(ANVIL_ENTRY *entry)
{
    mem_free(entry->ident);
    mem_free(entry);
}

static void
anvil_max_reset(ANVIL_MAX *max)
{
    mem_free(max->ident);
    max->ident = NULL;
    max->value = 0;
    max->when = 0;
}

void
anvil_table_free(ANVIL_TABLE *table)
{
    ANVIL_ENTRY *entry, *next;

    if (table == NULL)
        return;
    for (size_t i = 0; i < table->size; i++) {
        for (entry = table->buckets[i]; entry; entry = next) {
            next = entry->next;
            anvil_entry_free(entry);
        }
    }
    for (int k = 0; k < ANVIL_RATE_COUNT; k++)
        anvil_max_reset(&table->max_rate[k]);
    anvil_max_reset(&table->max_count);
    anvil_max_reset(&table->max_cache);
    mem_free(table->buckets);
    mem_free(table);
}

/* FNV-1a */
static size_t
anvil_hash(const char *ident, size_t size)
{
    uint32_t h = 2166136261u;

    for (const unsigned char *cp = (const unsigned char *) ident; *cp; cp++) {
        h ^= *cp;
        h *= 16777619u;
    }
    return h % size;
}

/* Twice the buckets when the chains grow long. */
static void
anvil_table_grow(ANVIL_TABLE *table)
{
    size_t  size = table->size * 2;
    ANVIL_ENTRY **buckets = mem_array(size, sizeof(ANVIL_ENTRY *));
    ANVIL_ENTRY *entry, *next;

    for (size_t i = 0; i < table->size; i++) {
        for (entry = table->buckets[i]; entry; entry = next) {
            size_t  h = anvil_hash(entry->ident, size);

            next = entry->next;
            entry->next = buckets[h];
            buckets[h] = entry;
        }
    }
    mem_free(table->buckets);
    table->buckets = buckets;
    table->size = size;
}

/* Has the entry's rate window ended (or the clock gone back)? */
static int
anvil_window_over(const ANVIL_TABLE *table, const ANVIL_ENTRY *entry, time_t now)
{
    return now < entry->start || now - entry->start >= table->unit;
}

static void
anvil_window(const ANVIL_TABLE *table, ANVIL_ENTRY *entry, time_t now)
{
    if (anvil_window_over(table, entry, now)) {
        entry->start = now;
        memset(entry->rate, 0, sizeof(entry->rate));
    }
}

static void
anvil_max_update(ANVIL_MAX *max, int value, const char *ident, time_t now)
{
    if (value <= max->value)
        return;
    max->value = value;
    max->when = now;
    if (ident && (max->ident == NULL || strcmp(max->ident, ident) != 0)) {
        mem_free(max->ident);
        max->ident = mem_strdup(ident);
    }
}

static ANVIL_ENTRY *
anvil_table_lookup(ANVIL_TABLE *table, const char *ident)
{
    ANVIL_ENTRY *entry;

    for (entry = table->buckets[anvil_hash(ident, table->size)]; entry; entry = entry->next)
        if (strcmp(entry->ident, ident) == 0)
            return entry;
    return NULL;
}

/* The entry for ident, created when missing; NULL when the table is full. */
static ANVIL_ENTRY *
anvil_table_get(ANVIL_TABLE *table, const char *ident, time_t now)
{
    ANVIL_ENTRY *entry;
    size_t  h;

    if ((entry = anvil_table_lookup(table, ident)) != NULL) {
        anvil_window(table, entry, now);
        return entry;
    }
    if (table->used >= table->limit && table->full_sweep != now) {
        table->full_sweep = now;        /* at most one full sweep a second */
        (void) anvil_table_expire(table, now);
    }
    if (table->used >= table->limit)
        return NULL;
    if (table->used >= table->size * 2)
        anvil_table_grow(table);
    entry = mem_alloc(sizeof(*entry));
    entry->ident = mem_strdup(ident);
    entry->start = now;
    h = anvil_hash(ident, table->size);
    entry->next = table->buckets[h];
    table->buckets[h] = entry;
    table->used++;
    anvil_max_update(&table->max_cache, (int) table->used, NULL, now);
    return entry;
}

ANVIL_ENTRY *
anvil_table_connect(ANVIL_TABLE *table, const char *ident, time_t now)
{
    ANVIL_ENTRY *entry = anvil_table_get(table, ident, now);

    if (entry == NULL)
        return NULL;
    entry->count++;
    entry->rate[ANVIL_RATE_CONN]++;
    anvil_max_update(&table->max_count, entry->count, ident, now);
    anvil_max_update(&table->max_rate[ANVIL_RATE_CONN], entry->rate[ANVIL_RATE_CONN],
                     ident, now);
    return entry;
}

int
anvil_table_disconnect(ANVIL_TABLE *table, const char *ident, time_t now)
{
    ANVIL_ENTRY *entry = anvil_table_lookup(table, ident);

    if (entry == NULL || entry->count <= 0)
        return -1;
    entry->count--;
    return 0;
}

ANVIL_ENTRY *
anvil_table_event(ANVIL_TABLE *table, const char *ident, int kind, time_t now)
{
    ANVIL_ENTRY *entry;

    if (kind <= ANVIL_RATE_CONN || kind >= ANVIL_RATE_COUNT)
        return NULL;
    if ((entry = anvil_table_get(table, ident, now)) == NULL)
        return NULL;
    entry->rate[kind]++;
    anvil_max_update(&table->max_rate[kind], entry->rate[kind], ident, now);
    return entry;
}

ANVIL_ENTRY *
anvil_table_find(ANVIL_TABLE *table, const char *ident, time_t now)
{
    ANVIL_ENTRY *entry = anvil_table_lookup(table, ident);

    if (entry != NULL)
        anvil_window(table, entry, now);
    return entry;
}

size_t
anvil_table_expire(ANVIL_TABLE *table, time_t now)
{
    ANVIL_ENTRY **link, *entry;
    size_t  dropped = 0;

    for (size_t i = 0; i < table->size; i++) {
        link = &table->buckets[i];
        while ((entry = *link) != NULL) {
            if (entry->count <= 0 && anvil_window_over(table, entry, now)) {
                *link = entry->next;
                anvil_entry_free(entry);
                table->used--;
                dropped++;
            } else {
                link = &entry->next;
            }
        }
    }
    return dropped;
}

/* "Nov 22 08:00:00", as ctime() prints it. */
static void
anvil_time(char *buf, size_t len, time_t when)
{
    struct tm tm;

    if (localtime_r(&when, &tm) == NULL || strftime(buf, len, "%b %e %H:%M:%S", &tm) == 0)
        snprintf(buf, len, "%ld", (long) when);
}

static void
anvil_stats_rate(ANVIL_TABLE *table, ARGV *lines, int kind, const char *what)
{
    ANVIL_MAX *max = &table->max_rate[kind];
    char    when[64];
    char   *line;

    if (max->value <= 0)
        return;
    anvil_time(when, sizeof(when), max->when);
    line = mem_printf("statistics: max %s rate %d/%lds for (%s) at %s",
                      what, max->value, table->unit, max->ident ? max->ident : "", when);
    argv_add(lines, line);
    mem_free(line);
    anvil_max_reset(max);
}

void
anvil_table_stats(ANVIL_TABLE *table, ARGV *lines)
{
    char    when[64];
    char   *line;

    anvil_stats_rate(table, lines, ANVIL_RATE_CONN, "connection");
    if (table->max_count.value > 0) {
        anvil_time(when, sizeof(when), table->max_count.when);
        line = mem_printf("statistics: max connection count %d for (%s) at %s",
                          table->max_count.value, table->max_count.ident, when);
        argv_add(lines, line);
        mem_free(line);
        anvil_max_reset(&table->max_count);
    }
    anvil_stats_rate(table, lines, ANVIL_RATE_MAIL, "message");
    anvil_stats_rate(table, lines, ANVIL_RATE_RCPT, "recipient");
    anvil_stats_rate(table, lines, ANVIL_RATE_NTLS, "newtls");
    anvil_stats_rate(table, lines, ANVIL_RATE_AUTH, "auth");
    if (table->max_cache.value > 0) {
        anvil_time(when, sizeof(when), table->max_cache.when);
        line = mem_printf("statistics: max cache size %d at %s", table->max_cache.value, when);
        argv_add(lines, line);
        mem_free(line);
        anvil_max_reset(&table->max_cache);
    }
}
