/*
 * cidr_match.h - one parser and matcher for network patterns, shared by
 * mynetworks-style lists (netmatch.c) and cidr: tables (dict_cidr.c).
 *
 * Patterns: "192.0.2.0/24", "192.0.2.1", "2001:db8::/32", "::1",
 * "[2001:db8::]/32", "[::1]/128", "[::1]", and IPv4-mapped IPv6 networks
 * such as "[::ffff:127.0.0.0]/104" (Debian's mynetworks), which become
 * the IPv4 network they cover (127.0.0.0/8), because client addresses
 * in that form are matched as IPv4 too.
 *
 *   cidr_match_parse(c, pattern, why, len)
 *       CIDR_OK; CIDR_HOSTBITS when bits beyond the prefix are set (c
 *       holds the network with them cleared, why the suggestion in
 *       Postfix's words; callers decide whether that is fatal); CIDR_BAD
 *       when pattern is not a network pattern (why says so).
 *   cidr_match_addr(text, bytes)
 *       a client address (maybe bracketed; IPv4-mapped IPv6 as IPv4):
 *       AF_INET or AF_INET6 with the bytes filled, 0 when not an address.
 *   cidr_match_execute(c, family, bytes)
 *       1 when the address lies in the network.
 *
 * SECURITY: client text is parsed with inet_pton() into fixed 16-byte
 * buffers and compared bitwise.
 *
 * DIAGNOSTICS: none; a bad pattern is a -1 return with the reason for the
 * caller to report.
 */
#ifndef POSTHORN_CIDR_MATCH_H
#define POSTHORN_CIDR_MATCH_H

#include <stddef.h>

#define CIDR_OK        0
#define CIDR_HOSTBITS  1
#define CIDR_BAD      (-1)

typedef struct CIDR_MATCH {
    int     family;             /* AF_INET or AF_INET6 */
    unsigned char net[16];
    int     bits;
} CIDR_MATCH;

int     cidr_match_parse(CIDR_MATCH *c, const char *pattern, char *why, size_t whylen);
int     cidr_match_addr(const char *text, unsigned char *bytes);
int     cidr_match_execute(const CIDR_MATCH *c, int family, const unsigned char *bytes);

#endif
