/*
 * xtext.c - RFC 3461 xtext encoding and decoding; see xtext.h.
 *
 * SECURITY: xtext_decode() reads exactly len bytes of untrusted input
 * (an SMTP parameter) and refuses control characters in the result, so a
 * decoded ENVID or ORCPT holds printable text only. The encoders map
 * every byte outside 33..126 to "+HH".
 *
 * DIAGNOSTICS: none (pure functions); bad xtext is a -1 return.
 */
#include <string.h>

#include "hex.h"
#include "xtext.h"

void
xtext_encode_n(VSTRING *out, const char *text, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) text[i];

        if (ch >= 33 && ch <= 126 && ch != '+' && ch != '=') {
            vstring_addch(out, ch);
        } else {
            vstring_addch(out, '+');
            vstring_addch(out, hex[ch >> 4]);
            vstring_addch(out, hex[ch & 15]);
        }
    }
}

void
xtext_encode(VSTRING *out, const char *text)
{
    xtext_encode_n(out, text, strlen(text));
}

int
xtext_decode(VSTRING *out, const char *in, size_t len)
{
    vstring_reset(out);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) in[i];

        if (ch == '+') {
            int     hi, lo;

            if (i + 2 >= len)
                return -1;
            if ((hi = hex_digit((unsigned char) in[i + 1])) < 0
                || (lo = hex_digit((unsigned char) in[i + 2])) < 0)
                return -1;
            ch = (unsigned char) (hi * 16 + lo);
            i += 2;
        } else if (ch < 33 || ch > 126 || ch == '=') {
            return -1;
        }
        if (ch < 0x20 || ch == 0x7f)
            return -1;
        vstring_addch(out, ch);
    }
    return out->overflow ? -1 : 0;
}

int
xtext_addr_type_ok(const char *type, size_t len)
{
    if (len == 0 || len > 64)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) type[i];

        if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z')
            && !(ch >= '0' && ch <= '9') && ch != '-' && ch != '_' && ch != '.')
            return 0;
    }
    return 1;
}

void
xtext_orcpt(VSTRING *out, const char *orcpt)
{
    const char *semi = strchr(orcpt, ';');

    if (semi == NULL || semi == orcpt) {
        vstring_cat(out, "rfc822;");
        xtext_encode(out, semi ? semi + 1 : orcpt);
        return;
    }
    xtext_encode_n(out, orcpt, (size_t) (semi - orcpt));
    vstring_addch(out, ';');
    xtext_encode(out, semi + 1);
}
