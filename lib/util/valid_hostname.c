/*
 * valid_hostname.c - host name syntax, the one check every program uses.
 *
 * Interface and rules: valid_hostname.h.
 *
 * DIAGNOSTICS: none (pure functions: 1 or 0).
 */
#include <string.h>

#include "valid_hostname.h"

static int
valid_hostname_letdig(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

int
valid_hostname(const char *name, int flags)
{
    size_t  len = strlen(name), label = 0;
    const char *end = name + len;
    int     any_hyphen = flags & VALID_HOSTNAME_ANY_HYPHEN;
    int     non_numeric = 0;

    if (len == 0 || len > VALID_HOSTNAME_LEN)
        return 0;
    if ((flags & VALID_HOSTNAME_ROOT_DOT) && end[-1] == '.')
        end--;                                  /* "." alone stays invalid below */
    for (const char *cp = name; cp < end; cp++) {
        if (*cp == '.') {
            if (label == 0 || (!any_hyphen && cp[-1] == '-'))
                return 0;                       /* empty label, or ends in '-' */
            label = 0;
        } else if (valid_hostname_letdig((unsigned char) *cp) || *cp == '_' || *cp == '-') {
            if (*cp == '-' && label == 0 && !any_hyphen)
                return 0;                       /* label starts with '-' */
            if (++label > VALID_LABEL_LEN)
                return 0;
            if (*cp < '0' || *cp > '9')
                non_numeric = 1;
        } else {
            return 0;
        }
    }
    if (label == 0 || (!any_hyphen && end[-1] == '-'))
        return 0;                               /* empty, trailing dot, or ends in '-' */
    return non_numeric || (flags & VALID_HOSTNAME_NUMERIC);
}
