/*
 * mem.c - allocation that never returns NULL.
 *
 * Interface: mem.h. Every function either returns usable memory or logs
 * "fatal: out of memory" and exits. Array sizes are checked for
 * multiplication overflow here so that callers never compute n * size.
 *
 * DIAGNOSTICS: running out of memory, or an array size that overflows, is
 * fatal ("out of memory"); nothing else is reported.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "msg.h"

static void
mem_oom(void)
{
    msg_fatal("out of memory");
}

void   *
mem_alloc(size_t size)
{
    void   *p = calloc(1, size ? size : 1);

    if (p == NULL)
        mem_oom();
    return p;
}

void   *
mem_array(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        msg_fatal("out of memory: array of %zu x %zu bytes", count, size);
    return mem_alloc(count * size);
}

void   *
mem_realloc(void *ptr, size_t size)
{
    void   *p = realloc(ptr, size ? size : 1);

    if (p == NULL)
        mem_oom();
    return p;
}

void   *
mem_realloc_array(void *ptr, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        msg_fatal("out of memory: array of %zu x %zu bytes", count, size);
    return mem_realloc(ptr, count * size);
}

void   *
mem_grow(void *ptr, int count, int *cap, size_t size, int first)
{
    if (count >= *cap) {
        if (*cap > INT_MAX / 2)
            msg_fatal("out of memory: array of more than %d elements", *cap);
        *cap = *cap ? 2 * *cap : first;
        ptr = mem_realloc_array(ptr, (size_t) *cap, size);
    }
    memset((char *) ptr + (size_t) count * size, 0, size);
    return ptr;
}

void
mem_free(void *ptr)
{
    free(ptr);
}

char   *
mem_strdup(const char *str)
{
    size_t  len = strlen(str);
    char   *p = mem_alloc(len + 1);

    memcpy(p, str, len);
    return p;
}

char   *
mem_strndup(const char *str, size_t len)
{
    size_t  n = strnlen(str, len);
    char   *p;

    if (n == SIZE_MAX)
        mem_oom();
    p = mem_alloc(n + 1);
    memcpy(p, str, n);
    return p;
}

char   *
mem_printf(const char *fmt, ...)
{
    va_list ap;
    char   *p = NULL;
    int     n;

    va_start(ap, fmt);
    n = vasprintf(&p, fmt, ap);
    va_end(ap);
    if (n < 0 || p == NULL)
        mem_oom();
    return p;
}

char   *
mem_vformat(char *small, size_t size, size_t *len, const char *fmt, va_list ap)
{
    va_list ap2;
    char   *big;
    int     n;

    va_copy(ap2, ap);
    n = vsnprintf(small, size, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    *len = (size_t) n;
    if ((size_t) n < size)
        return small;
    big = mem_alloc((size_t) n + 1);
    va_copy(ap2, ap);
    vsnprintf(big, (size_t) n + 1, fmt, ap2);
    va_end(ap2);
    return big;
}
