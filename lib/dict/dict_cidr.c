/*
 * dict_cidr.c - "cidr:/path" tables: client addresses matched against
 * networks, in the rule-file format of dict_rx.h (first match wins,
 * "!" negation, if/endif blocks).
 *
 * Patterns:  192.168.0.0/16   10.1.2.3   2001:db8::/32   ::1
 * (IPv6 may also be written in brackets: [2001:db8::]/32; IPv4-mapped
 * networks stand for the IPv4 network; lib/util/cidr_match.c parses them
 * as mynetworks does). A network with bits set beyond its prefix is
 * reported and skipped, as Postfix does. An IPv4 key never matches an
 * IPv6 network, nor the reverse; an IPv4-mapped key is an IPv4 key.
 *
 * Interface: dict_cidr_ops, registered in maps.c.
 *
 * SECURITY: keys come from the network and are only parsed with
 * inet_pton(); anything that is not an address is "not found".
 *
 * DIAGNOSTICS: none of its own; a bad pattern line is reported through the
 * shared rule-file reader (dict_regexp.c: a warning with file and line,
 * the rule is skipped).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cidr_match.h"
#include "dict_rx.h"
#include "mem.h"
#include "msg.h"

static void *
dict_cidr_parse(const char **cp, VSTRING *why)
{
    size_t  len = strcspn(*cp, " \t");
    char   *tok = mem_strndup(*cp, len);
    CIDR_MATCH *pat = mem_alloc(sizeof(*pat));
    char    reason[256];

    *cp += len;
    if (cidr_match_parse(pat, tok, reason, sizeof(reason)) != CIDR_OK) {
        vstring_strcpy(why, reason);    /* host bits too: Postfix skips the rule */
        mem_free(tok);
        mem_free(pat);
        return NULL;
    }
    mem_free(tok);
    return pat;
}

static int
dict_cidr_match(void *p, const char *key, DICT_RX_MATCH *m)
{
    unsigned char addr[16];
    int     family = cidr_match_addr(key, addr);

    if (family == 0)
        return DICT_RX_BADKEY;
    return cidr_match_execute(p, family, addr);
}

static void
dict_cidr_free(void *p)
{
    mem_free(p);
}

static int
dict_cidr_groups(void *p)
{
    return -1;
}

static const DICT_RX_TYPE dict_cidr_type = {
    dict_cidr_parse, dict_cidr_match, dict_cidr_free, dict_cidr_groups,
};

static int
dict_cidr_open(DICT *d)
{
    return dict_rx_open(d, &dict_cidr_type);
}

const DICT_OPS dict_cidr_ops = {
    .type = "cidr", .needs_name = 1, .open = dict_cidr_open,
    .get = dict_rx_get, .close = dict_rx_close,
};
