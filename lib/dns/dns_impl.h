/*
 * dns_impl.h - private interface between dns_lookup.c and dns_addr.c.
 * Not for use outside lib/dns.
 *
 * DIAGNOSTICS: none (internal declarations).
 */
#ifndef POSTHORN_DNS_IMPL_H
#define POSTHORN_DNS_IMPL_H

#include "vstring.h"

/* Set why (when not NULL) to Postfix's sentence for a failed lookup of
 * name/type with the resolver's text; returns status. */
int     dns_why_set(VSTRING *why, int status, const char *name, const char *type,
                    const char *text);

#define DNS_TEXT_NOTFOUND  "Host not found"
#define DNS_TEXT_NODATA    "Host found but no data record of requested type"
#define DNS_TEXT_RETRY     "Host not found, try again"
#define DNS_TEXT_FAIL      "Non-recoverable error"
#define DNS_TEXT_MALFORMED "Malformed or unexpected name server reply"

#endif
