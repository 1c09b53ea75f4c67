/*
 * dict_cidr.c - "cidr:/path" tables: client addresses matched against
 * networks, in the rule-file format of dict_rx.h (first match wins,
 * "!" negation, if/endif blocks).
 *
 * Patterns:  192.168.0.0/16   10.1.2.3   2001:db8::/32   ::1
 * (IPv6 may also be written in brackets: [2001:db8::]/32). A network
 * with bits set beyond its prefix is reported and skipped, as Postfix
 * does. An IPv4 key never matches an IPv6 network, nor the reverse.
 *
 * Interface: dict_cidr_ops, registered in maps.c.
 *
 * SECURITY: keys come from the network and are only parsed with
 * inet_pton(); anything that is not an address is "not found".
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dict_rx.h"
#include "mem.h"
#include "msg.h"

typedef struct DICT_CIDR_PAT {
    int     family;
    unsigned char net[16];
    int     prefix;
} DICT_CIDR_PAT;

/* Address text (maybe bracketed) into bytes; the family or -1. */
static int
dict_cidr_addr(const char *text, unsigned char *out)
{
    char    buf[64];
    size_t  len = strlen(text);

    if (len >= sizeof(buf))
        return -1;
    if (text[0] == '[' && len > 2 && text[len - 1] == ']') {
        memcpy(buf, text + 1, len - 2);
        buf[len - 2] = 0;
    } else {
        memcpy(buf, text, len + 1);
    }
    if (strchr(buf, ':') == NULL)
        return inet_pton(AF_INET, buf, out) == 1 ? AF_INET : -1;
    return inet_pton(AF_INET6, buf, out) == 1 ? AF_INET6 : -1;
}

static void *
dict_cidr_parse(const char **cp, VSTRING *why)
{
    size_t  len = strcspn(*cp, " \t");
    char   *tok = mem_strndup(*cp, len);
    char   *slash = strchr(tok, '/');
    DICT_CIDR_PAT *pat = mem_alloc(sizeof(*pat));
    int     bytes;

    *cp += len;
    if (slash)
        *slash = 0;
    if ((pat->family = dict_cidr_addr(tok, pat->net)) < 0) {
        vstring_sprintf(why, "bad net/mask pattern: \"%s%s%s\"", tok,
                        slash ? "/" : "", slash ? slash + 1 : "");
        goto bad;
    }
    bytes = pat->family == AF_INET ? 4 : 16;
    pat->prefix = bytes * 8;
    if (slash) {
        char   *end;
        long    n = strtol(slash + 1, &end, 10);

        if (slash[1] == 0 || *end || !isdigit((unsigned char) slash[1]) || n > bytes * 8) {
            vstring_sprintf(why, "bad net/mask pattern: \"%s/%s\"", tok, slash + 1);
            goto bad;
        }
        pat->prefix = (int) n;
    }
    for (int bit = pat->prefix; bit < bytes * 8; bit++) {
        if (pat->net[bit / 8] & (0x80 >> (bit % 8))) {
            char    fixed[INET6_ADDRSTRLEN];
            unsigned char net[16];

            memcpy(net, pat->net, sizeof(net));
            for (int b = pat->prefix; b < bytes * 8; b++)
                net[b / 8] &= (unsigned char) ~(0x80 >> (b % 8));
            inet_ntop(pat->family, net, fixed, sizeof(fixed));
            vstring_sprintf(why, "non-null host address bits in \"%s/%d\", "
                            "perhaps you should use \"%s/%d\" instead",
                            tok, pat->prefix, fixed, pat->prefix);
            goto bad;
        }
    }
    mem_free(tok);
    return pat;
bad:
    mem_free(tok);
    mem_free(pat);
    return NULL;
}

static int
dict_cidr_match(void *p, const char *key, DICT_RX_MATCH *m)
{
    DICT_CIDR_PAT *pat = p;
    unsigned char addr[16];
    int     full, rest;

    int     family = dict_cidr_addr(key, addr);

    if (family < 0)
        return DICT_RX_BADKEY;
    if (family != pat->family)
        return 0;
    full = pat->prefix / 8;
    rest = pat->prefix % 8;
    if (memcmp(addr, pat->net, (size_t) full) != 0)
        return 0;
    if (rest && ((addr[full] ^ pat->net[full]) & (0xff << (8 - rest)) & 0xff))
        return 0;
    return 1;
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
    .get = dict_rx_get, .changed = dict_rx_changed, .close = dict_rx_close,
};
