/*
 * mem.h - allocation that never returns NULL.
 *
 * Every allocation either succeeds or the process exits with a fatal log
 * line ("fatal: out of memory"). Array sizes are multiplied with an
 * overflow check, so callers never compute n * size themselves.
 *
 * DIAGNOSTICS: running out of memory, or an array size that overflows, is
 * fatal ("out of memory"); no function here returns NULL.
 */
#ifndef POSTHORN_MEM_H
#define POSTHORN_MEM_H

#include <stdarg.h>
#include <stddef.h>

void   *mem_alloc(size_t size);                 /* zero-filled */
void   *mem_array(size_t count, size_t size);   /* zero-filled, overflow-checked */
void   *mem_realloc(void *ptr, size_t size);
void   *mem_realloc_array(void *ptr, size_t count, size_t size);
void    mem_free(void *ptr);                    /* NULL is fine */
/*
 * Room for element count of an array of *cap elements of size bytes:
 * when count == *cap the array grows (to first elements, then doubling).
 * Element count is zero-filled. Returns the (maybe moved) array.
 */
void   *mem_grow(void *ptr, int count, int *cap, size_t size, int first);
char   *mem_strdup(const char *str);
char   *mem_strndup(const char *str, size_t len); /* copies at most len bytes, NUL-terminates */
char   *mem_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Format into small (size bytes) when the text fits, else into memory
 * allocated here; *len gets the length. Returns the text (mem_free() it
 * when it is not small), or NULL when fmt is bad.
 */
char   *mem_vformat(char *small, size_t size, size_t *len, const char *fmt, va_list ap)
            __attribute__((format(printf, 4, 0)));

#endif
