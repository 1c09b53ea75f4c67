/*
 * hex.h - hexadecimal digits: one digit's value, and byte strings to and
 * from hexadecimal text (upper case out, either case in).
 *
 *   hex_digit(ch)            0..15, or -1 for anything else
 *   hex_encode(out, data, n) append 2*n digits to out
 *   hex_decode(out, text)    out = the bytes; 0, or -1 (odd length, a
 *                            non-digit, or out's maximum exceeded)
 *
 * DIAGNOSTICS: none; bad input is a -1 return.
 */
#ifndef POSTHORN_HEX_H
#define POSTHORN_HEX_H

#include <stddef.h>
#include "vstring.h"

int     hex_digit(int ch);
void    hex_encode(VSTRING *out, const unsigned char *data, size_t len);
int     hex_decode(VSTRING *out, const char *text);

#endif
