/*
 * htable.c - a hash table with string keys, and the one string hash.
 *
 * Interface: htable.h. Chained buckets; the bucket count is a power of
 * two and doubles when the table holds twice as many entries.
 *
 * DIAGNOSTICS: htable_enter() of a key that is there already panics (a
 * caller bug); allocation failures are fatal in mem.c.
 */
#include <string.h>

#include "htable.h"
#include "mem.h"
#include "msg.h"

struct HTABLE {
    HTABLE_INFO **buckets;
    size_t  size;               /* a power of two */
    size_t  used;
};

size_t
htable_hash(const char *str)
{
    size_t  h = 5381;

    while (*str)
        h = h * 33 + (unsigned char) *str++;
    return h;
}

HTABLE *
htable_create(size_t size_hint)
{
    HTABLE *table = mem_alloc(sizeof(*table));

    table->size = 16;
    while (table->size < size_hint && table->size < ((size_t) 1 << 30))
        table->size *= 2;
    table->buckets = mem_array(table->size, sizeof(HTABLE_INFO *));
    table->used = 0;
    return table;
}

static void
htable_grow(HTABLE *table)
{
    size_t  size = table->size * 2, i, h;
    HTABLE_INFO **buckets = mem_array(size, sizeof(HTABLE_INFO *));
    HTABLE_INFO *ht, *next;

    for (i = 0; i < table->size; i++) {
        for (ht = table->buckets[i]; ht; ht = next) {
            next = ht->next;
            h = htable_hash(ht->key) & (size - 1);
            ht->next = buckets[h];
            buckets[h] = ht;
        }
    }
    mem_free(table->buckets);
    table->buckets = buckets;
    table->size = size;
}

HTABLE_INFO *
htable_locate(HTABLE *table, const char *key)
{
    HTABLE_INFO *ht;

    for (ht = table->buckets[htable_hash(key) & (table->size - 1)]; ht; ht = ht->next)
        if (strcmp(ht->key, key) == 0)
            return ht;
    return NULL;
}

void   *
htable_find(HTABLE *table, const char *key)
{
    HTABLE_INFO *ht = htable_locate(table, key);

    return ht ? ht->value : NULL;
}

HTABLE_INFO *
htable_enter(HTABLE *table, const char *key, void *value)
{
    HTABLE_INFO *ht;
    size_t  h;

    if (htable_locate(table, key) != NULL)
        msg_panic("htable_enter: duplicate key \"%.100s\"", key);
    if (table->used >= table->size * 2)
        htable_grow(table);
    ht = mem_alloc(sizeof(*ht));
    ht->key = mem_strdup(key);
    ht->value = value;
    h = htable_hash(key) & (table->size - 1);
    ht->next = table->buckets[h];
    table->buckets[h] = ht;
    table->used++;
    return ht;
}

int
htable_delete(HTABLE *table, const char *key, void (*free_fn)(void *))
{
    HTABLE_INFO **pp, *ht;

    for (pp = &table->buckets[htable_hash(key) & (table->size - 1)]; (ht = *pp) != NULL;
         pp = &ht->next) {
        if (strcmp(ht->key, key) == 0) {
            *pp = ht->next;
            if (free_fn)
                free_fn(ht->value);
            mem_free(ht->key);
            mem_free(ht);
            table->used--;
            return 0;
        }
    }
    return -1;
}

size_t
htable_used(const HTABLE *table)
{
    return table->used;
}

HTABLE_INFO **
htable_list(const HTABLE *table)
{
    HTABLE_INFO **list = mem_array(table->used + 1, sizeof(HTABLE_INFO *));
    HTABLE_INFO *ht;
    size_t  i, n = 0;

    for (i = 0; i < table->size; i++)
        for (ht = table->buckets[i]; ht; ht = ht->next)
            list[n++] = ht;
    list[n] = NULL;
    return list;
}

void
htable_free(HTABLE *table, void (*free_fn)(void *))
{
    HTABLE_INFO *ht, *next;
    size_t  i;

    if (table == NULL)
        return;
    for (i = 0; i < table->size; i++) {
        for (ht = table->buckets[i]; ht; ht = next) {
            next = ht->next;
            if (free_fn)
                free_fn(ht->value);
            mem_free(ht->key);
            mem_free(ht);
        }
    }
    mem_free(table->buckets);
    mem_free(table);
}
