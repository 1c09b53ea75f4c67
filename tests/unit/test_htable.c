/*
 * test_htable.c - unit tests for lib/util/htable.c.
 */
#include <stdio.h>
#include <string.h>

#include "htable.h"
#include "mem.h"
#include "unit.h"

UNIT_TEST(test_enter_find_delete)
{
    HTABLE *t = htable_create(0);
    char    key[32];
    int     i, values[5000];

    for (i = 0; i < 5000; i++) {
        values[i] = i;
        snprintf(key, sizeof(key), "key%d", i);
        CHECK(htable_enter(t, key, &values[i]) != NULL);
    }
    CHECK_INT(htable_used(t), 5000);
    for (i = 0; i < 5000; i += 7) {
        snprintf(key, sizeof(key), "key%d", i);
        CHECK(htable_find(t, key) == &values[i]);
    }
    CHECK(htable_find(t, "key5000") == NULL);
    CHECK_INT(htable_delete(t, "key42", NULL), 0);
    CHECK_INT(htable_delete(t, "key42", NULL), -1);
    CHECK(htable_find(t, "key42") == NULL);
    CHECK(htable_locate(t, "key43") != NULL);
    CHECK_INT(htable_used(t), 4999);
    htable_free(t, NULL);
}

UNIT_TEST(test_list_and_free_values)
{
    HTABLE *t = htable_create(4);
    HTABLE_INFO **list;
    int     n;

    htable_enter(t, "a", mem_strdup("1"));
    htable_enter(t, "b", mem_strdup("2"));
    htable_enter(t, "", mem_strdup("empty key"));
    list = htable_list(t);
    for (n = 0; list[n]; n++)
        CHECK(strlen(list[n]->value) > 0);
    CHECK_INT(n, 3);
    mem_free(list);
    CHECK_INT(htable_delete(t, "a", mem_free), 0);
    htable_free(t, mem_free);              /* the rest of the values too */
}

UNIT_TEST(test_hash_is_stable)
{
    /* djb2: queue ids and table files never depend on it, but tests do */
    CHECK_INT(htable_hash(""), 5381);
    CHECK_INT(htable_hash("a"), 5381 * 33 + 'a');
}

UNIT_TESTS {
    {"test_enter_find_delete", test_enter_find_delete},
    {"test_list_and_free_values", test_list_and_free_values},
    {"test_hash_is_stable", test_hash_is_stable},
    UNIT_END
};
