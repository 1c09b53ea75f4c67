/*
 * test_mem.c - unit tests for lib/util/mem.c: mem_vformat(), the one
 * "format into a small buffer, else allocate" that stream_printf() and
 * the vstring formatters use.
 */
#include <stdarg.h>
#include <string.h>

#include "mem.h"
#include "unit.h"

static char *
format(char *small, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    char   *text;

    va_start(ap, fmt);
    text = mem_vformat(small, size, len, fmt, ap);
    va_end(ap);
    return text;
}

UNIT_TEST(test_vformat_small_and_big)
{
    char    small[8];
    size_t  len = 0;
    char   *text;

    text = format(small, sizeof(small), &len, "%s-%d", "ab", 42);
    CHECK(text == small);                       /* fits: no allocation */
    CHECK_STR(text, "ab-42");
    CHECK_INT(len, 5);
    text = format(small, sizeof(small), &len, "%s-%d", "abcdefgh", 42);
    CHECK(text != small);                       /* too long: allocated */
    CHECK_STR(text, "abcdefgh-42");
    CHECK_INT(len, 11);
    mem_free(text);
    text = format(small, sizeof(small), &len, "%s", "1234567");   /* 7 + NUL: fits */
    CHECK(text == small);
    text = format(small, sizeof(small), &len, "%s", "12345678");  /* one more: does not */
    CHECK(text != small);
    CHECK_STR(text, "12345678");
    mem_free(text);
}

UNIT_TESTS {
    {"test_vformat_small_and_big", test_vformat_small_and_big},
    UNIT_END
};
