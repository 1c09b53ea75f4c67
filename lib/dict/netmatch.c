/*
 * netmatch.c - mynetworks-style client lists: CIDR blocks, addresses,
 * host/domain names, lookup tables and /file entries.
 *
 * Interface: see netmatch.h. The list is parsed once at create time into
 * entries; matching walks them in order.
 *
 * SECURITY: patterns are trusted configuration; the client address is
 * parsed with inet_pton into fixed 16-byte buffers and compared bitwise,
 * so no client text reaches anything but comparisons and table keys.
 * /file nesting is bounded (NETMATCH_MAX_DEPTH).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "netmatch.h"
#include "vstring.h"

#define NETMATCH_MAX_DEPTH 5

typedef enum { NM_NET, NM_NAME, NM_TABLE } NM_KIND;

typedef struct NM_ENTRY {
    NM_KIND kind;
    int     negate;
    int     family;             /* AF_INET / AF_INET6 for NM_NET */
    unsigned char net[16];
    int     bits;
    char   *name;               /* NM_NAME: lowercased domain; NM_TABLE: spec */
    MAPS   *maps;
} NM_ENTRY;

struct NETMATCH {
    char   *title;
    NM_ENTRY *entries;
    size_t  count;
    size_t  cap;
};

/*
 * Parse a numeric address into bytes. IPv4-mapped IPv6 becomes IPv4.
 * Returns the family, or 0 when text is not an address.
 */
static int
netmatch_parse_addr(const char *text, unsigned char *bytes)
{
    struct in6_addr a6;

    memset(bytes, 0, 16);
    if (inet_pton(AF_INET, text, bytes) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, text, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            memcpy(bytes, &a6.s6_addr[12], 4);
            return AF_INET;
        }
        memcpy(bytes, a6.s6_addr, 16);
        return AF_INET6;
    }
    return 0;
}

/*
 * Parse "a.b.c.d[/n]", "[v6][/n]" or "v6/n" into an entry. Returns 0, or
 * -1 when the pattern is not an address pattern.
 */
static int
netmatch_parse_net(const char *pattern, NM_ENTRY *e)
{
    char    buf[INET6_ADDRSTRLEN + 8];
    const char *slash = NULL;
    const char *start = pattern;
    size_t  len;

    if (*start == '[') {
        const char *close = strchr(start, ']');
        if (close == NULL || (close[1] != 0 && close[1] != '/'))
            return -1;
        len = (size_t) (close - start - 1);
        start++;
        slash = close[1] == '/' ? close + 1 : NULL;
    } else {
        slash = strchr(start, '/');
        len = slash ? (size_t) (slash - start) : strlen(start);
    }
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, start, len);
    buf[len] = 0;
    if ((e->family = netmatch_parse_addr(buf, e->net)) == 0)
        return -1;
    int     maxbits = e->family == AF_INET ? 32 : 128;
    if (slash) {
        char   *end;
        long    bits = strtol(slash + 1, &end, 10);
        if (slash[1] == 0 || *end != 0 || bits < 0 || bits > maxbits)
            return -1;
        e->bits = (int) bits;
    } else {
        e->bits = maxbits;
    }
    return 0;
}

/* Compare the first bits of a and b. */
static int
netmatch_prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
    int     whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, (size_t) whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char) (0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

/* Clear host bits; returns 1 if any were set. */
static int
netmatch_mask(unsigned char *net, int bits, int size)
{
    int     changed = 0;

    for (int i = 0; i < size; i++) {
        int     keep = bits - i * 8;
        unsigned char mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char) (0xff << (8 - keep));
        if (net[i] & ~mask)
            changed = 1;
        net[i] &= mask;
    }
    return changed;
}

int
netmatch_addr(const char *pattern, const char *addr)
{
    NM_ENTRY e;
    unsigned char a[16];
    int     fam;

    memset(&e, 0, sizeof(e));
    if (netmatch_parse_net(pattern, &e) != 0)
        return -1;
    netmatch_mask(e.net, e.bits, e.family == AF_INET ? 4 : 16);
    if ((fam = netmatch_parse_addr(addr, a)) == 0 || fam != e.family)
        return 0;
    return netmatch_prefix_eq(a, e.net, e.bits);
}

static NM_ENTRY *
netmatch_new_entry(NETMATCH *nm)
{
    if (nm->count == nm->cap) {
        nm->cap = nm->cap ? nm->cap * 2 : 8;
        nm->entries = mem_realloc_array(nm->entries, nm->cap, sizeof(NM_ENTRY));
    }
    NM_ENTRY *e = &nm->entries[nm->count];
    memset(e, 0, sizeof(*e));
    return e;
}

static void netmatch_add_list(NETMATCH *nm, const char *spec, int depth);

/* Read a /file entry: its words are more entries. */
static void
netmatch_add_file(NETMATCH *nm, const char *path, int depth)
{
    FILE   *fp;
    char    line[4096];

    if (depth >= NETMATCH_MAX_DEPTH) {
        msg_warn("%s: %s: files nested too deeply", nm->title, path);
        return;
    }
    if ((fp = fopen(path, "r")) == NULL) {
        msg_warn("%s: open %s: %m", nm->title, path);
        return;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        char   *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        netmatch_add_list(nm, line, depth + 1);
    }
    fclose(fp);
}

static void
netmatch_add_one(NETMATCH *nm, const char *item, int depth)
{
    int     negate = 0;

    while (*item == '!') {
        negate = !negate;
        item++;
    }
    if (*item == 0)
        return;
    if (*item == '/' && !negate) {
        netmatch_add_file(nm, item, depth);
        return;
    }
    NM_ENTRY *e = netmatch_new_entry(nm);
    e->negate = negate;
    if (netmatch_parse_net(item, e) == 0) {
        e->kind = NM_NET;
        if (netmatch_mask(e->net, e->bits, e->family == AF_INET ? 4 : 16))
            msg_warn("%s: %s: non-null host address bits, using the network part",
                     nm->title, item);
    } else if (*item != '[' && strchr(item, ':') != NULL) {
        e->kind = NM_TABLE;
        e->name = mem_strdup(item);
        e->maps = maps_create(nm->title, item, 0);
    } else if (*item == '[') {
        msg_warn("%s: bad address pattern: %s", nm->title, item);
        return;
    } else {
        VSTRING *lc = vstring_alloc(1024);
        vstring_strcpy(lc, item);
        vstring_lowercase(lc);
        e->kind = NM_NAME;
        e->name = vstring_export(lc);
    }
    nm->count++;
}

static void
netmatch_add_list(NETMATCH *nm, const char *spec, int depth)
{
    ARGV   *items = argv_split_list(spec);

    for (size_t i = 0; i < items->argc; i++)
        netmatch_add_one(nm, items->argv[i], depth);
    argv_free(items);
}

NETMATCH *
netmatch_create(const char *title, const char *spec)
{
    NETMATCH *nm = mem_alloc(sizeof(*nm));

    nm->title = mem_strdup(title);
    netmatch_add_list(nm, spec ? spec : "", 0);
    return nm;
}

void
netmatch_free(NETMATCH *nm)
{
    if (nm == NULL)
        return;
    for (size_t i = 0; i < nm->count; i++) {
        mem_free(nm->entries[i].name);
        if (nm->entries[i].maps)
            maps_free(nm->entries[i].maps);
    }
    mem_free(nm->entries);
    mem_free(nm->title);
    mem_free(nm);
}

/* "example.com" matches example.com and its subdomains; ".example.com"
 * only subdomains. */
static int
netmatch_name(const char *pattern, const char *name)
{
    size_t  plen = strlen(pattern), nlen = strlen(name);

    if (*pattern == '.')
        return nlen > plen && strcasecmp(name + nlen - plen, pattern) == 0;
    if (strcasecmp(name, pattern) == 0)
        return 1;
    return nlen > plen + 1 && name[nlen - plen - 1] == '.'
        && strcasecmp(name + nlen - plen, pattern) == 0;
}

/* 1 / 0 / -1 for one entry. */
static int
netmatch_entry(NM_ENTRY *e, const char *name, int fam, const unsigned char *a,
               const char *addr)
{
    const char *value;
    int     st;

    switch (e->kind) {
    case NM_NET:
        return fam == e->family && netmatch_prefix_eq(a, e->net, e->bits);
    case NM_NAME:
        return name != NULL && netmatch_name(e->name, name);
    case NM_TABLE:
        if (addr && *addr) {
            if ((st = maps_find(e->maps, addr, &value)) != MAP_NOTFOUND)
                return st == MAP_FOUND ? 1 : -1;
        }
        if (name) {
            if ((st = maps_find(e->maps, name, &value)) != MAP_NOTFOUND)
                return st == MAP_FOUND ? 1 : -1;
        }
        return 0;
    }
    return 0;
}

int
netmatch_match(NETMATCH *nm, const char *name, const char *addr)
{
    unsigned char a[16];
    int     fam = addr ? netmatch_parse_addr(addr, a) : 0;

    if (name && (*name == 0 || strcasecmp(name, "unknown") == 0))
        name = NULL;
    for (size_t i = 0; i < nm->count; i++) {
        int     st = netmatch_entry(&nm->entries[i], name, fam, a, addr);
        if (st < 0)
            return -1;
        if (st > 0)
            return nm->entries[i].negate ? 0 : 1;
    }
    return 0;
}
