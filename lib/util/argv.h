/*
 * argv.h - growable NULL-terminated string arrays, and list splitting.
 *
 * DIAGNOSTICS: none; nothing here fails but allocation (fatal in mem.c).
 */
#ifndef POSTHORN_ARGV_H
#define POSTHORN_ARGV_H

#include <stddef.h>

typedef struct ARGV {
    char  **argv;               /* NULL-terminated */
    size_t  argc;
    size_t  cap;
} ARGV;

ARGV   *argv_alloc(void);
void    argv_free(ARGV *a);                 /* NULL is fine; frees strings */
void    argv_add(ARGV *a, const char *str); /* copies str */
void    argv_add_owned(ARGV *a, char *str); /* takes str (allocated) as it is */
void    argv_addn(ARGV *a, const char *str, size_t len);
void    argv_truncate(ARGV *a, size_t argc);
/* Split str at any of the delimiter bytes; empty fields are dropped. */
ARGV   *argv_split(const char *str, const char *delims);
/*
 * Split a Postfix parameter list: separators are commas and white space,
 * and text inside {} or () is one element (braces themselves are kept).
 * This is what "a, b c" and "inline:{a=b, c=d}" need.
 */
ARGV   *argv_split_list(const char *str);
/* Postfix's list separators. */
#define ARGV_LIST_SEP ", \t\r\n"

#endif
