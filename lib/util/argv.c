/*
 * argv.c - growable NULL-terminated string arrays, and list splitting.
 *
 * Interface: argv.h. argv_split() splits at delimiter bytes; the list
 * splitter argv_split_list() follows Postfix parameter lists: commas and
 * white space separate, and text in {} or () (nested) stays one element.
 *
 * DIAGNOSTICS: none; nothing here fails but allocation (fatal in mem.c).
 */
#include <string.h>

#include "argv.h"
#include "mem.h"

ARGV   *
argv_alloc(void)
{
    ARGV   *a = mem_alloc(sizeof(*a));

    a->cap = 8;
    a->argv = mem_array(a->cap, sizeof(char *));
    a->argc = 0;
    return a;
}

void
argv_free(ARGV *a)
{
    size_t  i;

    if (a == NULL)
        return;
    for (i = 0; i < a->argc; i++)
        mem_free(a->argv[i]);
    mem_free(a->argv);
    mem_free(a);
}

static void
argv_push(ARGV *a, char *str)
{
    if (a->argc + 1 >= a->cap) {
        a->argv = mem_realloc_array(a->argv, a->cap * 2, sizeof(char *));
        a->cap *= 2;
    }
    a->argv[a->argc++] = str;
    a->argv[a->argc] = NULL;
}

void
argv_add(ARGV *a, const char *str)
{
    argv_push(a, mem_strdup(str));
}

void
argv_add_owned(ARGV *a, char *str)
{
    argv_push(a, str);
}

void
argv_addn(ARGV *a, const char *str, size_t len)
{
    argv_push(a, mem_strndup(str, len));
}

void
argv_truncate(ARGV *a, size_t argc)
{
    while (a->argc > argc)
        mem_free(a->argv[--a->argc]);
    a->argv[a->argc] = NULL;
}

ARGV   *
argv_split(const char *str, const char *delims)
{
    ARGV   *a = argv_alloc();
    size_t  n;

    while (*str) {
        str += strspn(str, delims);
        n = strcspn(str, delims);
        if (n > 0)
            argv_addn(a, str, n);
        str += n;
    }
    return a;
}

ARGV   *
argv_split_list(const char *str)
{
    ARGV   *a = argv_alloc();
    const char *start;
    int     depth;

    while (*str) {
        str += strspn(str, ARGV_LIST_SEP);
        if (*str == 0)
            break;
        start = str;
        depth = 0;
        for (; *str; str++) {
            if (*str == '{' || *str == '(')
                depth++;
            else if ((*str == '}' || *str == ')') && depth > 0)
                depth--;
            else if (depth == 0 && strchr(ARGV_LIST_SEP, *str))
                break;
        }
        argv_addn(a, start, (size_t) (str - start));
    }
    return a;
}
