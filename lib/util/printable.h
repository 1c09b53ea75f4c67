/*
 * printable.h - make untrusted text printable before it is stored,
 * logged or written into a header (Postfix's printable()).
 *
 *   printable_fix(text, utf8)  in place: every byte that is not printable
 *       ASCII (0x20..0x7e) becomes '?'. With utf8 non-zero (smtputf8_enable)
 *       a well-formed UTF-8 character (2..4 bytes, no overlong form, no
 *       surrogate, at most U+10FFFF) is kept whole. Returns text.
 *
 * SECURITY: after printable_fix() the text has no control character (no
 * CR, LF, NUL is impossible anyway) and, unless utf8 is set, no 8-bit byte.
 *
 * DIAGNOSTICS: none (pure functions).
 */
#ifndef POSTHORN_PRINTABLE_H
#define POSTHORN_PRINTABLE_H

char   *printable_fix(char *text, int utf8);

#endif
