/*
 * header_opts.h - what posthorn knows about message header names, and
 * rewriting the addresses inside an address header.
 *
 * header_opts_find(name, len): the entry for a header name (case
 * insensitive), or NULL. Flags: HDR_OPT_SENDER (From:, Sender:,
 * Reply-To:, Errors-To:, Return-Receipt-To:, Disposition-Notification-To:,
 * Resent-From:, Resent-Sender:, Resent-Reply-To:), HDR_OPT_RECIP (To:,
 * Cc:, Bcc:, Apparently-To:, Resent-To:, Resent-Cc:, Resent-Bcc:),
 * HDR_OPT_MIME (MIME-Version:, Content-*:), HDR_OPT_RESENT (Resent-*).
 *
 * header_addr_rewrite(header, fn, ctx): header is one logical header
 * "Name: value" whose physical lines are joined with '\n'. Every address
 * in the value (mailbox "Phrase <addr>", bare "addr (comment)", group
 * members "team: a, b;") is passed to fn in internal form; when fn
 * stores a different address in out and returns 1, that address (quoted
 * as needed) replaces the original text in place: phrases, comments,
 * folding and the rest of the header are kept as they were. "<>" is not
 * passed. Returns the number of replaced addresses.
 *
 * SECURITY: header text is untrusted. The scanner is a single bounded
 * pass (nested comments, quotes and brackets tracked with counters that
 * cannot go negative); at most HEADER_ADDR_MAX addresses per header are
 * looked at; each address is bounded by ADDRESS_MAX (longer ones are
 * left alone).
 *
 * DIAGNOSTICS: none; an unknown name is a -1 return for the caller to
 * report.
 */
#ifndef POSTHORN_HEADER_OPTS_H
#define POSTHORN_HEADER_OPTS_H

#include <stddef.h>
#include "vstring.h"

#define HDR_OPT_SENDER  (1 << 0)
#define HDR_OPT_RECIP   (1 << 1)
#define HDR_OPT_MIME    (1 << 2)
#define HDR_OPT_RESENT  (1 << 3)

typedef struct HEADER_OPTS {
    const char *name;
    int     flags;
} HEADER_OPTS;

#define HEADER_ADDR_MAX 10240   /* Postfix's header_address_token_limit */

const HEADER_OPTS *header_opts_find(const char *name, size_t len);
/* Length of the header name at text ("Name:" form), or 0. */
size_t  header_name_len(const char *text, size_t len);

typedef int (*HEADER_ADDR_FN)(void *ctx, const char *addr, VSTRING *out);
int     header_addr_rewrite(VSTRING *header, HEADER_ADDR_FN fn, void *ctx);

#endif
