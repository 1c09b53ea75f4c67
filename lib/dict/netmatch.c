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
 *
 * DIAGNOSTICS: nothing is fatal; warnings naming the list (its parameter)
 * for a bad [address] pattern and for a /file that cannot be opened or is
 * nested too deeply (those are skipped), and for a network with host bits
 * set (used as the network, as Postfix does). A table in the list that
 * fails a lookup makes the match return -1.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "cidr_match.h"
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
    CIDR_MATCH net;             /* NM_NET */
    char   *name;               /* NM_NAME: lowercased domain; NM_TABLE: spec */
    MAPS   *maps;
} NM_ENTRY;

struct NETMATCH {
    char   *title;
    NM_ENTRY *entries;
    size_t  count;
    size_t  cap;
};

int
netmatch_addr(const char *pattern, const char *addr)
{
    CIDR_MATCH c;
    unsigned char a[16];
    char    why[256];

    if (cidr_match_parse(&c, pattern, why, sizeof(why)) == CIDR_BAD)
        return -1;
    return cidr_match_execute(&c, cidr_match_addr(addr, a), a);
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
    char    why[256];
    int     st;

    e->negate = negate;
    if ((st = cidr_match_parse(&e->net, item, why, sizeof(why))) != CIDR_BAD) {
        e->kind = NM_NET;
        if (st == CIDR_HOSTBITS)        /* Postfix warns and uses the network */
            msg_warn("%s: %s", nm->title, why);
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
        return cidr_match_execute(&e->net, fam, a);
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
    int     fam = addr ? cidr_match_addr(addr, a) : 0;

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
