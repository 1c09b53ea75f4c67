/*
 * netmatch.h - match a client against a mynetworks-style list.
 *
 * A list (the expanded value of mynetworks, smtpd_forbid_bare_newline_exclusions,
 * debug_peer_list, ...) holds, separated by commas and/or white space:
 *   192.168.1.0/24  10.1.2.3  [::1]/128  [2001:db8::]/32  [fe80::1]
 *   example.com  .example.com      client host name (domain and subdomains)
 *   type:table                     the client address, then name, looked up
 *   /file/name                     more entries, read from the file
 *   !entry                         a match on entry ends the search as "no match"
 * The first entry that matches decides.
 *
 * SECURITY: the list comes from main.cf (trusted); the client address and
 * name come from the network and the resolver, and are only compared
 * (inet_pton, strcasecmp), never interpreted otherwise.
 *
 * DIAGNOSTICS: nothing is fatal; bad patterns and unreadable files are
 * warnings and are skipped; a table lookup error makes a match return -1.
 */
#ifndef POSTHORN_NETMATCH_H
#define POSTHORN_NETMATCH_H

typedef struct NETMATCH NETMATCH;

/* title names the parameter in warnings; spec is the expanded list. */
NETMATCH *netmatch_create(const char *title, const char *spec);
void    netmatch_free(NETMATCH *nm);
/*
 * name may be NULL or "unknown" (then never matched by name). addr is a
 * numeric IPv4 or IPv6 address (IPv4-mapped IPv6 is compared as IPv4).
 * Returns 1 on a match, 0 otherwise, -1 when a table lookup failed.
 */
int     netmatch_match(NETMATCH *nm, const char *name, const char *addr);

/* One address pattern ("10.0.0.0/8", "[::1]/128", "1.2.3.4") against addr:
 * 1 match, 0 no match, -1 the pattern is not an address pattern. */
int     netmatch_addr(const char *pattern, const char *addr);

#endif
