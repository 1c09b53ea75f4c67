/*
 * dsn_util.h - enhanced status codes (RFC 3463) in reason texts.
 *
 * dsn_split() takes a reason that may start with a code, as the next hop
 * of the error and discard transports does ("error:5.1.1 no such user",
 * "discard:2.0.0 silently dropped"): the code, with its class replaced
 * by the verdict's ('2', '4' or '5'), goes to dsn, "C.0.0" when the text
 * has none; the text after it is returned (leading blanks skipped, may
 * be empty: the caller has a default). The code is recognised by
 * deliver_dsn_scan() (deliver.h).
 *
 * DIAGNOSTICS: none (pure functions).
 */
#ifndef POSTHORN_DSN_UTIL_H
#define POSTHORN_DSN_UTIL_H

#include <stddef.h>

const char *dsn_split(const char *reason, int class, char *dsn, size_t dsnlen);

#endif
