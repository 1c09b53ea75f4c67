/*
 * xtext.h - RFC 3461 xtext, the encoding of the DSN extension's ENVID and
 * ORCPT values, shared by smtpd (decoding what clients send), the smtp
 * client and the bounce service (encoding what leaves posthorn).
 *
 *   xtext_encode(out, text)       append text as xtext: every byte outside
 *       33..126, and '+' and '=', becomes "+HH" (upper-case hex).
 *   xtext_encode_n(out, text, len)  the same for len bytes.
 *   xtext_decode(out, in, len)    decode into out (reset first); -1 for a
 *       byte outside 33..126, a raw '=', a '+' without two hex digits, a
 *       decoded control character (0..31, 127) or a result over out's bound.
 *   xtext_orcpt(out, orcpt)       append a stored ORCPT value "type;address"
 *       as "type;xtext" with both parts encoded (no ';': type rfc822).
 *   xtext_addr_type_ok(type, len) 1 for an ORCPT address type posthorn
 *       accepts: 1..64 letters, digits, '-', '_' or '.' (rfc822, utf-8, ...).
 *
 * SECURITY: the encoders never emit a byte outside 33..126, so an encoded
 * value cannot end or split an SMTP command or a header line.
 *
 * DIAGNOSTICS: none (pure functions); bad xtext is a -1 return.
 */
#ifndef POSTHORN_XTEXT_H
#define POSTHORN_XTEXT_H

#include <stddef.h>

#include "vstring.h"

void    xtext_encode(VSTRING *out, const char *text);
void    xtext_encode_n(VSTRING *out, const char *text, size_t len);
int     xtext_decode(VSTRING *out, const char *in, size_t len);
void    xtext_orcpt(VSTRING *out, const char *orcpt);
int     xtext_addr_type_ok(const char *type, size_t len);

#endif
