/*
 * htable.h - a hash table with string keys, and the one string hash.
 *
 * Keys are copied; values are the caller's. The table doubles its bucket
 * array when it holds twice as many entries as buckets, so lookups stay
 * short however many keys arrive. Walking visits entries in no
 * particular order; htable_list() gives a snapshot that may be sorted.
 *
 * SECURITY: keys may come from peers (anvil's client names, qmgr's
 * destinations): memory grows with the number of keys, so callers that
 * take keys from outside bound that number themselves.
 *
 * DIAGNOSTICS: none; nothing fails but allocation (fatal in mem.c).
 */
#ifndef POSTHORN_HTABLE_H
#define POSTHORN_HTABLE_H

#include <stddef.h>

typedef struct HTABLE HTABLE;

typedef struct HTABLE_INFO {
    char   *key;
    void   *value;
    struct HTABLE_INFO *next;
} HTABLE_INFO;

/* djb2 over the bytes of str: the hash every table in posthorn uses. */
size_t  htable_hash(const char *str);

HTABLE *htable_create(size_t size_hint);
/* Add key (which must not be there yet); returns the new entry. */
HTABLE_INFO *htable_enter(HTABLE *table, const char *key, void *value);
HTABLE_INFO *htable_locate(HTABLE *table, const char *key);
void   *htable_find(HTABLE *table, const char *key);        /* NULL if absent */
/* Remove key; its value goes to free_fn (may be NULL). 0, or -1 if absent. */
int     htable_delete(HTABLE *table, const char *key, void (*free_fn)(void *));
size_t  htable_used(const HTABLE *table);
/* Every entry, NULL-terminated, allocated (free with mem_free only). */
HTABLE_INFO **htable_list(const HTABLE *table);
void    htable_free(HTABLE *table, void (*free_fn)(void *));

#endif
