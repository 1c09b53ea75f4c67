/*
 * valid_hostname.h - is a text a syntactically valid host name?
 *
 *   valid_hostname(name, flags)  1 when name is a host name, else 0.
 *
 * The rules are those Postfix documents for its own check (RFC 952/1123
 * host names within the RFC 1035 limits): at most VALID_HOSTNAME_LEN
 * bytes; dot-separated labels of 1..VALID_LABEL_LEN letters, digits, '-'
 * and '_' (ASCII only; '_' is not in the RFCs but is common in practice);
 * no empty label, so no leading, trailing or doubled dot; no '-' at the
 * start or end of a label; not digits and dots only (that is an address,
 * not a name). Each flag relaxes one rule, for a caller that keeps its
 * own:
 *
 *   VALID_HOSTNAME_ROOT_DOT    one trailing dot is allowed ("host.example.")
 *   VALID_HOSTNAME_NUMERIC     digits and dots only is allowed ("123", "1.2.3.4")
 *   VALID_HOSTNAME_ANY_HYPHEN  '-' may also start or end a label
 *
 * SECURITY: name is untrusted (a HELO argument, a PTR answer, an ETRN
 * argument); it is only read, never longer than its NUL. A name that
 * passes without VALID_HOSTNAME_ANY_HYPHEN cannot start with '-' (it
 * cannot be taken for a command option).
 *
 * DIAGNOSTICS: none (pure functions: 1 or 0).
 */
#ifndef POSTHORN_VALID_HOSTNAME_H
#define POSTHORN_VALID_HOSTNAME_H

#define VALID_HOSTNAME_LEN  255         /* RFC 1035 */
#define VALID_LABEL_LEN     63          /* RFC 1035 */

#define VALID_HOSTNAME_ROOT_DOT   (1 << 0)
#define VALID_HOSTNAME_NUMERIC    (1 << 1)
#define VALID_HOSTNAME_ANY_HYPHEN (1 << 2)

int     valid_hostname(const char *name, int flags);

#endif
