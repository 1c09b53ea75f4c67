/*
 * vstring.h - bounded, length-tracked, always NUL-terminated strings.
 *
 * A VSTRING is created with a maximum length. Appending past the maximum
 * stores what fits, sets the sticky overflow flag and returns -1: the
 * caller decides whether that is an error (an SMTP line too long) or a
 * truncation it accepts (a log line). The data pointer stays valid until
 * the next append.
 *
 * DIAGNOSTICS: none; going over a string's maximum is a -1 return and a
 * sticky overflow flag.
 */
#ifndef POSTHORN_VSTRING_H
#define POSTHORN_VSTRING_H

#include <stdarg.h>
#include <stddef.h>

typedef struct VSTRING {
    char   *data;               /* always NUL-terminated */
    size_t  len;                /* bytes used, excluding the NUL */
    size_t  cap;                /* bytes allocated, including the NUL */
    size_t  max;                /* hard limit on len */
    int     overflow;           /* sticky: an append went past max */
} VSTRING;

#define VSTRING_UNLIMITED ((size_t) 1 << 40)

#define STR(vs)  ((vs)->data)
#define LEN(vs)  ((vs)->len)

VSTRING *vstring_alloc(size_t max);
void    vstring_free(VSTRING *vs);          /* NULL is fine */
void    vstring_reset(VSTRING *vs);         /* len = 0, overflow = 0 */
void    vstring_truncate(VSTRING *vs, size_t len);
int     vstring_addch(VSTRING *vs, int ch);
int     vstring_cat(VSTRING *vs, const char *str);
int     vstring_ncat(VSTRING *vs, const char *data, size_t len);
int     vstring_strcpy(VSTRING *vs, const char *str);
int     vstring_ncpy(VSTRING *vs, const char *data, size_t len);
int     vstring_sprintf(VSTRING *vs, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
int     vstring_sprintf_append(VSTRING *vs, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
int     vstring_vsprintf(VSTRING *vs, const char *fmt, va_list ap);
int     vstring_vsprintf_append(VSTRING *vs, const char *fmt, va_list ap);
char   *vstring_export(VSTRING *vs);        /* returns data (caller frees), frees vs */
void    vstring_lowercase(VSTRING *vs);     /* ASCII only */

#endif
