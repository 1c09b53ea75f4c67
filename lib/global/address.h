/*
 * address.h - RFC 5321 / RFC 5322 mail addresses.
 *
 * Internal form: "localpart@domain" with the local part unquoted
 * ("john doe"@example.com is stored as john doe@example.com, exactly as
 * Postfix stores it). External form: quoted where RFC 5321 requires it.
 * "" is the null sender.
 *
 * SECURITY: input comes from SMTP commands, headers and queue files;
 * every function is bounded by ADDRESS_MAX and never writes outside its
 * VSTRING.
 *
 * DIAGNOSTICS: none (pure functions); a bad address is a -1 return.
 */
#ifndef POSTHORN_ADDRESS_H
#define POSTHORN_ADDRESS_H

#include "vstring.h"

#define ADDRESS_MAX 1024        /* longer addresses are rejected */

/* Internal -> external (quote the local part when needed). */
const char *address_quote(VSTRING *out, const char *internal);
/* External -> internal (remove quoting and backslash escapes). */
const char *address_unquote(VSTRING *out, const char *external);

/*
 * Parse the address argument of MAIL FROM:/RCPT TO: (the text after the
 * colon, up to the first ESMTP parameter). Accepts "<addr>", "addr"
 * without brackets, "<>", source routes "<@a,@b:addr>" (route dropped).
 * On success stores the internal form in out, sets *rest to the text
 * after the address (ESMTP parameters) and returns 0; returns -1 on
 * syntax errors (unbalanced brackets, bad quoting, control characters,
 * too long).
 */
int     address_parse_smtp(const char *arg, VSTRING *out, const char **rest);

/* Split internal "user@domain": returns pointer to the '@' or NULL. */
const char *address_at(const char *addr);
/* Domain part (after the last '@'), or NULL. */
const char *address_domain(const char *addr);
/* Local part into out (before the last '@'). */
const char *address_localpart(VSTRING *out, const char *addr);

/* Lowercase the domain part in place (local parts keep their case). */
void    address_fold_domain(char *addr);

/*
 * Split a header address list ("A <a@x>, b@y (comment), "q, r" <c@z>")
 * into internal addresses (comments and phrases dropped), for sendmail -t
 * and header rewriting. Returns the number found; bounded by max.
 */
#include "argv.h"
int     address_parse_header_list(const char *value, ARGV *out, int max);

#endif
