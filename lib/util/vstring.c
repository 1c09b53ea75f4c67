/*
 * vstring.c - bounded, length-tracked, always NUL-terminated strings.
 *
 * Interface: vstring.h. A VSTRING never holds more than its maximum; an
 * append that does not fit stores what fits, sets the sticky overflow
 * flag and returns -1. Storage grows by doubling up to max + 1 bytes.
 *
 * SECURITY: this is the bound for most untrusted text; every append goes
 * through vstring_space(), which never lets len exceed max.
 *
 * DIAGNOSTICS: none; going over a string's maximum is a -1 return and a
 * sticky overflow flag, not a log line. Allocation failures are fatal in
 * mem.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "vstring.h"

#define VSTRING_INIT_CAP 64

VSTRING *
vstring_alloc(size_t max)
{
    VSTRING *vs = mem_alloc(sizeof(*vs));

    if (max > VSTRING_UNLIMITED)
        max = VSTRING_UNLIMITED;
    vs->max = max;
    vs->cap = (max + 1 < VSTRING_INIT_CAP) ? max + 1 : VSTRING_INIT_CAP;
    vs->data = mem_alloc(vs->cap);
    vs->len = 0;
    vs->overflow = 0;
    return vs;
}

void
vstring_free(VSTRING *vs)
{
    if (vs == NULL)
        return;
    mem_free(vs->data);
    mem_free(vs);
}

void
vstring_reset(VSTRING *vs)
{
    vs->len = 0;
    vs->data[0] = 0;
    vs->overflow = 0;
}

void
vstring_truncate(VSTRING *vs, size_t len)
{
    if (len < vs->len) {
        vs->len = len;
        vs->data[len] = 0;
    }
}

/* Make room for want more bytes; returns how many may be appended. */
static size_t
vstring_space(VSTRING *vs, size_t want)
{
    size_t  room = vs->max - vs->len;
    size_t  need;

    if (want > room)
        want = room;
    need = vs->len + want + 1;
    if (need > vs->cap) {
        size_t  cap = vs->cap ? vs->cap : VSTRING_INIT_CAP;

        while (cap < need)
            cap = (cap > (vs->max + 1) / 2) ? vs->max + 1 : cap * 2;
        if (cap < need)
            cap = need;
        vs->data = mem_realloc(vs->data, cap);
        vs->cap = cap;
    }
    return want;
}

int
vstring_ncat(VSTRING *vs, const char *data, size_t len)
{
    size_t  n;

    /* Appending part of vs to itself: the buffer may move. */
    if (data >= vs->data && data < vs->data + vs->cap) {
        size_t  off = (size_t) (data - vs->data);

        n = vstring_space(vs, len);
        data = vs->data + off;
    } else {
        n = vstring_space(vs, len);
    }
    if (n > 0)
        memmove(vs->data + vs->len, data, n);
    vs->len += n;
    vs->data[vs->len] = 0;
    if (n < len) {
        vs->overflow = 1;
        return -1;
    }
    return 0;
}

int
vstring_addch(VSTRING *vs, int ch)
{
    char    c = (char) ch;

    return vstring_ncat(vs, &c, 1);
}

int
vstring_cat(VSTRING *vs, const char *str)
{
    return vstring_ncat(vs, str, strlen(str));
}

int
vstring_ncpy(VSTRING *vs, const char *data, size_t len)
{
    /* data may point into vs itself: memmove in ncat handles that. */
    if (data >= vs->data && data <= vs->data + vs->len) {
        size_t  off = (size_t) (data - vs->data);

        if (len > vs->len - off)
            len = vs->len - off;
        memmove(vs->data, data, len);
        vs->len = len;
        vs->data[len] = 0;
        vs->overflow = 0;
        return 0;
    }
    vs->len = 0;
    vs->overflow = 0;
    return vstring_ncat(vs, data, len);
}

int
vstring_strcpy(VSTRING *vs, const char *str)
{
    return vstring_ncpy(vs, str, strlen(str));
}

/* Format first, then (optionally) reset and append: arguments may
 * point into vs itself. */
static int
vstring_vformat(VSTRING *vs, int reset, const char *fmt, va_list ap)
{
    char    small[512];
    char   *text;
    size_t  len;
    int     ret;

    if ((text = mem_vformat(small, sizeof(small), &len, fmt, ap)) == NULL)
        return -1;
    if (reset)
        vstring_reset(vs);
    ret = vstring_ncat(vs, text, len);
    if (text != small)
        mem_free(text);
    return ret;
}

int
vstring_vsprintf(VSTRING *vs, const char *fmt, va_list ap)
{
    return vstring_vformat(vs, 1, fmt, ap);
}

int
vstring_vsprintf_append(VSTRING *vs, const char *fmt, va_list ap)
{
    return vstring_vformat(vs, 0, fmt, ap);
}

int
vstring_sprintf_append(VSTRING *vs, const char *fmt, ...)
{
    va_list ap;
    int     ret;

    va_start(ap, fmt);
    ret = vstring_vsprintf_append(vs, fmt, ap);
    va_end(ap);
    return ret;
}

int
vstring_sprintf(VSTRING *vs, const char *fmt, ...)
{
    va_list ap;
    int     ret;

    va_start(ap, fmt);
    ret = vstring_vformat(vs, 1, fmt, ap);
    va_end(ap);
    return ret;
}

char   *
vstring_export(VSTRING *vs)
{
    char   *data = vs->data;

    mem_free(vs);
    return data;
}

void
vstring_lowercase(VSTRING *vs)
{
    size_t  i;

    for (i = 0; i < vs->len; i++)
        if (vs->data[i] >= 'A' && vs->data[i] <= 'Z')
            vs->data[i] += 'a' - 'A';
}
