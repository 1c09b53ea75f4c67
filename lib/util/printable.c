/*
 * printable.c - replace non-printable bytes by '?'; see printable.h.
 *
 * SECURITY: reads up to the NUL only; a UTF-8 sequence is checked byte by
 * byte before it is kept, so a truncated sequence at the end is replaced.
 *
 * DIAGNOSTICS: none (pure functions).
 */
#include <stddef.h>

#include "printable.h"

/* Length of the well-formed UTF-8 character at s (2..4), or 0. */
static size_t
printable_utf8_len(const unsigned char *s)
{
    unsigned char lo = 0x80, hi = 0xbf;
    size_t  len;

    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (s[0] == 0xe0)
        lo = 0xa0;                      /* overlong */
    else if (s[0] == 0xed)
        hi = 0x9f;                      /* surrogates */
    else if (s[0] == 0xf0)
        lo = 0x90;                      /* overlong */
    else if (s[0] == 0xf4)
        hi = 0x8f;                      /* above U+10FFFF */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

char   *
printable_fix(char *text, int utf8)
{
    unsigned char *cp = (unsigned char *) text;
    size_t  len;

    while (*cp) {
        if (*cp >= 0x20 && *cp < 0x7f) {
            cp++;
        } else if (utf8 && (len = printable_utf8_len(cp)) > 0) {
            cp += len;
        } else {
            *cp++ = '?';
        }
    }
    return text;
}
