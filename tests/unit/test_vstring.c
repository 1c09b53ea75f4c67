/*
 * test_vstring.c - unit tests for lib/vstring.c and lib/mem.c.
 */
#include <string.h>

#include "mem.h"
#include "unit.h"
#include "vstring.h"

UNIT_TEST(test_append_within_bounds)
{
    VSTRING *vs = vstring_alloc(10);

    CHECK_INT(vstring_cat(vs, "abc"), 0);
    CHECK_INT(vstring_addch(vs, 'd'), 0);
    CHECK_INT(vstring_ncat(vs, "efghij", 6), 0);
    CHECK_STR(STR(vs), "abcdefghij");
    CHECK_INT(LEN(vs), 10);
    CHECK_INT(vs->overflow, 0);
    vstring_free(vs);
}

UNIT_TEST(test_overflow_sticky)
{
    VSTRING *vs = vstring_alloc(5);

    CHECK_INT(vstring_cat(vs, "abcdefgh"), -1);
    CHECK_STR(STR(vs), "abcde");
    CHECK_INT(LEN(vs), 5);
    CHECK_INT(vs->overflow, 1);
    CHECK_INT(vstring_addch(vs, 'x'), -1);
    CHECK_STR(STR(vs), "abcde");
    vstring_truncate(vs, 2);
    CHECK_INT(vstring_cat(vs, "z"), 0);
    CHECK_INT(vs->overflow, 1);         /* sticky until reset */
    CHECK_STR(STR(vs), "abz");
    vstring_reset(vs);
    CHECK_INT(vs->overflow, 0);
    CHECK_INT(LEN(vs), 0);
    CHECK_STR(STR(vs), "");
    vstring_free(vs);
}

UNIT_TEST(test_zero_max)
{
    VSTRING *vs = vstring_alloc(0);

    CHECK_INT(vstring_addch(vs, 'a'), -1);
    CHECK_STR(STR(vs), "");
    vstring_free(vs);
}

UNIT_TEST(test_growth)
{
    VSTRING *vs = vstring_alloc(100000);
    size_t  i;

    for (i = 0; i < 100000; i++)
        CHECK_INT(vstring_addch(vs, 'a' + (int) (i % 26)), 0);
    CHECK_INT(LEN(vs), 100000);
    CHECK_INT(strlen(STR(vs)), 100000);
    CHECK_INT(vstring_addch(vs, 'x'), -1);
    vstring_free(vs);
}

UNIT_TEST(test_sprintf)
{
    VSTRING *vs = vstring_alloc(20);
    char    big[2000];

    CHECK_INT(vstring_sprintf(vs, "%d-%s", 42, "x"), 0);
    CHECK_STR(STR(vs), "42-x");
    CHECK_INT(vstring_sprintf_append(vs, "/%05d", 7), 0);
    CHECK_STR(STR(vs), "42-x/00007");
    /* Formatting from the string itself. */
    CHECK_INT(vstring_sprintf(vs, "<%s>", STR(vs)), 0);
    CHECK_STR(STR(vs), "<42-x/00007>");
    CHECK_INT(vstring_sprintf(vs, "%s", "0123456789012345678901234"), -1);
    CHECK_INT(LEN(vs), 20);
    CHECK_STR(STR(vs), "01234567890123456789");
    vstring_free(vs);

    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    vs = vstring_alloc(VSTRING_UNLIMITED);
    CHECK_INT(vstring_sprintf(vs, "[%s]", big), 0);
    CHECK_INT(LEN(vs), sizeof(big) + 1);
    vstring_free(vs);
}

UNIT_TEST(test_copy_self)
{
    VSTRING *vs = vstring_alloc(100);

    vstring_strcpy(vs, "hello world");
    vstring_strcpy(vs, STR(vs) + 6);
    CHECK_STR(STR(vs), "world");
    vstring_cat(vs, STR(vs));
    CHECK_STR(STR(vs), "worldworld");
    vstring_ncpy(vs, "abc", 2);
    CHECK_STR(STR(vs), "ab");
    vstring_free(vs);
}

UNIT_TEST(test_lowercase_export)
{
    VSTRING *vs = vstring_alloc(100);
    char   *p;

    vstring_strcpy(vs, "MiXeD \xC4");
    vstring_lowercase(vs);
    CHECK_STR(STR(vs), "mixed \xC4");
    p = vstring_export(vs);
    CHECK_STR(p, "mixed \xC4");
    mem_free(p);
}

UNIT_TEST(test_mem)
{
    char   *p = mem_strndup("abcdef", 3);

    CHECK_STR(p, "abc");
    mem_free(p);
    p = mem_strndup("ab", 10);
    CHECK_STR(p, "ab");
    mem_free(p);
    p = mem_printf("%s=%d", "x", 5);
    CHECK_STR(p, "x=5");
    mem_free(p);
    mem_free(NULL);
}

UNIT_TESTS {
    {"append_within_bounds", test_append_within_bounds},
    {"overflow_sticky", test_overflow_sticky},
    {"zero_max", test_zero_max},
    {"growth", test_growth},
    {"sprintf", test_sprintf},
    {"copy_self", test_copy_self},
    {"lowercase_export", test_lowercase_export},
    {"mem", test_mem},
    UNIT_END
};
