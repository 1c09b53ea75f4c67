/*
 * hex.c - hexadecimal digits (xtext, tlsmgr's session and key texts).
 *
 * Interface: hex.h.
 *
 * DIAGNOSTICS: none.
 */
#include "hex.h"

int
hex_digit(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

void
hex_encode(VSTRING *out, const unsigned char *data, size_t len)
{
    static const char digits[] = "0123456789ABCDEF";

    for (size_t i = 0; i < len; i++) {
        vstring_addch(out, digits[data[i] >> 4]);
        vstring_addch(out, digits[data[i] & 15]);
    }
}

int
hex_decode(VSTRING *out, const char *text)
{
    int     hi, lo;

    vstring_reset(out);
    for (; text[0] != 0; text += 2) {
        if ((hi = hex_digit((unsigned char) text[0])) < 0 || text[1] == 0
            || (lo = hex_digit((unsigned char) text[1])) < 0)
            return -1;
        if (vstring_addch(out, hi << 4 | lo) < 0)
            return -1;
    }
    return 0;
}
