/*
 * addr_map.h - look up a mail address in a table list the way
 * canonical(5) and virtual(5) describe it, and masquerade domains.
 *
 * addr_map_find(maps, addr, propagate, result): addr is in internal form
 * ("user+ext@domain", local part unquoted). The keys tried, in order:
 *
 *   user+ext@domain   then  user@domain   (extension per recipient_delimiter)
 *   user+ext          then  user          only when domain is local: equal to
 *                                         $myorigin, in $mydestination, or an
 *                                         address of this host ([1.2.3.4])
 *   @domain
 *
 * addr_map_find_fixed(): the same, but regexp: and pcre: tables see addr
 * as given only, never the partial keys (generic(5), canonical(5):
 * patterns are applied to the entire address); smtp_generic_maps uses
 * it. addr_map_find() still gives them every key (cleanup, smtpd's
 * recipient checks and local use it; their tests expect that).
 *
 * The table value is a list of addresses separated by commas and/or
 * white space (external form, quotes allowed). A value that starts with
 * '@' replaces the domain only (the local part of addr is kept). When a
 * key without the extension matched and propagate is set
 * (propagate_unmatched_extensions has the class), the extension is put
 * back into each result's local part.
 *
 * Returns MAP_FOUND (result holds the internal addresses), MAP_NOTFOUND
 * or MAP_FAIL (a table failed: the caller defers). A NULL result: only
 * whether addr is listed (smtpd's recipient checks).
 *
 * addr_map_value(maps, addr, value): the fixed search, the table's value
 * as it is (a next hop, a transport: sender_dependent_relayhost_maps,
 * sender_dependent_default_transport_maps), valid until the next lookup.
 *
 * addr_masquerade(addr, domains, exceptions, out): masquerade_domains
 * semantics: the first entry that equals the domain or is a parent of it
 * decides ("!name" means leave alone); a parent strips the domain to that
 * parent. Local parts in exceptions (masquerade_exceptions) are left
 * alone. Returns 1 when out differs from addr.
 *
 * SECURITY: addresses come from the network. Everything is bounded by
 * ADDRESS_MAX; results longer than that are dropped with a warning.
 *
 * DIAGNOSTICS: nothing is fatal; an overlong table result is a warning and
 * is dropped. A lookup before mail_params_init() panics.
 */
#ifndef POSTHORN_ADDR_MAP_H
#define POSTHORN_ADDR_MAP_H

#include "argv.h"
#include "maps.h"
#include "vstring.h"

int     addr_map_find(MAPS *maps, const char *addr, int propagate, ARGV *result);
int     addr_map_find_fixed(MAPS *maps, const char *addr, int propagate, ARGV *result);
int     addr_map_value(MAPS *maps, const char *addr, const char **value);
int     addr_masquerade(const char *addr, ARGV *domains, ARGV *exceptions, VSTRING *out);
/* Split a table value into internal-form addresses (appended to out). */
void    addr_map_split(const char *value, ARGV *out);
/* 1 when class (e.g. "canonical") is one of the words in classes (a
 * parameter's value, as propagate_unmatched_extensions). */
int     addr_map_in_class(const char *classes, const char *klass);

#endif
