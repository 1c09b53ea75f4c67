/*
 * resolve.c - in-process address rewriting and resolution, the logic
 * behind the trivial-rewrite service (and usable by unit tests).
 *
 * Interface (rewrite_clnt.h):
 *   rewrite_addr(rule, addr, out)    qualify an address: "local" uses
 *       myorigin/mydomain, "remote" uses remote_header_rewrite_domain
 *       (empty: remote addresses are left alone).
 *   resolve_addr(sender, addr, reply) classify a recipient: LOCAL
 *       (mydestination, or an address literal [addr] whose addr is one
 *       of inet_interfaces/proxy_interfaces; "all": the addresses of
 *       every interface; "loopback-only": 127.0.0.1 and ::1), ALIAS
 *       (virtual_alias_domains), VIRTUAL (virtual_mailbox_domains),
 *       RELAY (relay_domains) or DEFAULT, with the transport and nexthop
 *       of that class, then transport_maps when set.
 *   resolve_local(domain)            1 when the domain is ours.
 *
 * Domain lists accept names, ".parent" (subdomains), "!name" (exclude),
 * "/file" (one entry per line) and "type:table" (the domain is looked up
 * as a key), as Postfix's domain lists do.
 *
 * SECURITY: addresses come from SMTP clients through smtpd and cleanup.
 * An address literal is local only for the addresses this host listens
 * on, not for any loopback address: [127.0.0.9] on a server that
 * listens on 127.0.0.1 only is somebody else's (relay control).
 * Everything is bounded by ADDRESS_MAX (longer input gets
 * RESOLVE_FLAG_ERROR); the percent-hack / source-route loop is bounded.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "address.h"
#include "argv.h"
#include "config.h"
#include "dns.h"
#include "mail_proto.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "resolve.h"
#include "rewrite_clnt.h"

#define RESOLVE_LIST_DEPTH  5

/* ---- configuration helpers --------------------------------------------- */

const char *
resolve_param(const char *name, const char *dflt)
{
    const char *value = config_lookup(name);

    return value ? value : dflt;
}

int
resolve_param_bool(const char *name, int dflt)
{
    const char *value = config_lookup(name);
    int     result;

    if (value == NULL || *value == 0 || config_parse_bool(value, &result) < 0)
        return dflt;
    return result;
}

/* Is name listed in parent_domain_matches_subdomains? */
static int
resolve_parent_matches(const char *param)
{
    ARGV   *list = argv_split_list(resolve_param("parent_domain_matches_subdomains",
        "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,"
        "qmqpd_authorized_clients,relay_domains,smtpd_access_maps"));
    int     found = 0;

    for (size_t i = 0; i < list->argc && !found; i++)
        found = (strcasecmp(list->argv[i], param) == 0);
    argv_free(list);
    return found;
}

/* ---- tables, opened once per spec --------------------------------------- */

#define RESOLVE_MAPS_CACHE 16

static struct {
    char   *spec;
    MAPS   *maps;
} maps_cache[RESOLVE_MAPS_CACHE];

MAPS   *
resolve_maps(const char *title, const char *spec)
{
    int     i;

    for (i = 0; i < RESOLVE_MAPS_CACHE && maps_cache[i].spec; i++)
        if (strcmp(maps_cache[i].spec, spec) == 0)
            return maps_cache[i].maps;
    if (i == RESOLVE_MAPS_CACHE) {                  /* full: recycle the last */
        i = RESOLVE_MAPS_CACHE - 1;
        maps_free(maps_cache[i].maps);
        mem_free(maps_cache[i].spec);
    }
    maps_cache[i].spec = mem_strdup(spec);
    maps_cache[i].maps = maps_create(title, spec, 0);
    return maps_cache[i].maps;
}

/* ---- domain lists --------------------------------------------------------- */

static int domain_list_match_argv(const char *title, ARGV *list, const char *domain,
                                  int parent_ok, int depth, int *fail);

/* Match one "/file" entry: the file holds more list entries. */
static int
domain_list_match_file(const char *title, const char *path, const char *domain,
                       int parent_ok, int depth, int *fail)
{
    FILE   *fp;
    char    line[1024];
    ARGV   *list = argv_alloc();
    int     ret;

    if ((fp = fopen(path, "r")) == NULL) {
        msg_warn("%s: open %s: %m", title, path);
        *fail = 1;
        argv_free(list);
        return 0;
    }
    while (fgets(line, sizeof(line), fp)) {
        char   *hash = strchr(line, '#');
        ARGV   *words;

        if (hash)
            *hash = 0;
        words = argv_split_list(line);
        for (size_t i = 0; i < words->argc; i++)
            argv_add(list, words->argv[i]);
        argv_free(words);
    }
    fclose(fp);
    ret = domain_list_match_argv(title, list, domain, parent_ok, depth + 1, fail);
    argv_free(list);
    return ret;
}

/* Match a "type:table" entry: the domain (and parents when allowed) as keys. */
static int
domain_list_match_table(const char *title, const char *spec, const char *domain,
                        int parent_ok, int *fail)
{
    MAPS   *maps = resolve_maps(title, spec);
    const char *value;
    const char *key = domain;
    int     ret;

    while (key) {
        if ((ret = maps_find(maps, key, &value)) == MAP_FOUND)
            return 1;
        if (ret == MAP_FAIL) {
            *fail = 1;
            return 0;
        }
        if (!parent_ok)
            break;
        key = strchr(key + 1, '.');
    }
    return 0;
}

/* Match one plain name pattern. */
static int
domain_pattern_match(const char *pattern, const char *domain, int parent_ok)
{
    size_t  dlen = strlen(domain);
    size_t  plen;

    if (*pattern == '.') {                      /* ".example.com": subdomains */
        plen = strlen(pattern);
        return dlen > plen && strcasecmp(domain + dlen - plen, pattern) == 0;
    }
    if (strcasecmp(pattern, domain) == 0)
        return 1;
    plen = strlen(pattern);
    return parent_ok && dlen > plen + 1 && domain[dlen - plen - 1] == '.'
        && strcasecmp(domain + dlen - plen, pattern) == 0;
}

static int
domain_list_match_argv(const char *title, ARGV *list, const char *domain,
                       int parent_ok, int depth, int *fail)
{
    if (depth > RESOLVE_LIST_DEPTH) {
        msg_warn("%s: lists nested too deeply", title);
        return 0;
    }
    for (size_t i = 0; i < list->argc; i++) {
        const char *pat = list->argv[i];
        int     negate = 0;
        int     hit;

        while (*pat == '!') {
            negate = !negate;
            pat++;
        }
        if (*pat == '/')
            hit = domain_list_match_file(title, pat, domain, parent_ok, depth, fail);
        else if (*pat != '[' && strchr(pat, ':'))
            hit = domain_list_match_table(title, pat, domain, parent_ok, fail);
        else
            hit = domain_pattern_match(pat, domain, parent_ok);
        if (*fail)
            return 0;
        if (hit)
            return !negate;
    }
    return 0;
}

/* Does domain match the list in parameter param? *fail set on table errors. */
int
resolve_domain_list(const char *param, const char *domain, int *fail)
{
    ARGV   *list = config_list(param);
    int     ret;

    ret = domain_list_match_argv(param, list, domain, resolve_parent_matches(param), 0, fail);
    argv_free(list);
    return ret;
}

/* ---- socket address helpers ---------------------------------------------- */

static int
resolve_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return 0;
    if (a->ss_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *) a)->sin_addr,
                      &((const struct sockaddr_in *) b)->sin_addr, sizeof(struct in_addr)) == 0;
    if (a->ss_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *) a)->sin6_addr,
                      &((const struct sockaddr_in6 *) b)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return 0;
}

/* ---- our own addresses ---------------------------------------------------- */

/*
 * This host's addresses per inet_interfaces and proxy_interfaces, looked
 * up once per value of those two parameters (interface lists and name
 * lookups are too slow to repeat for every address a client checks).
 */
static struct {
    char   *key;                /* "inet_interfaces\nproxy_interfaces" */
    struct sockaddr_storage *addr;
    size_t  count, cap;
} resolve_own;

static void
resolve_own_add(const struct sockaddr *sa, size_t len)
{
    if (resolve_own.count == resolve_own.cap) {
        resolve_own.cap = resolve_own.cap ? resolve_own.cap * 2 : 8;
        resolve_own.addr = mem_realloc_array(resolve_own.addr, resolve_own.cap,
                                             sizeof(*resolve_own.addr));
    }
    memset(&resolve_own.addr[resolve_own.count], 0, sizeof(*resolve_own.addr));
    memcpy(&resolve_own.addr[resolve_own.count++], sa,
           len < sizeof(*resolve_own.addr) ? len : sizeof(*resolve_own.addr));
}

/* inet_interfaces = all: every interface address. */
static void
resolve_own_add_interfaces(void)
{
    struct ifaddrs *list, *ifa;

    if (getifaddrs(&list) < 0)
        return;
    for (ifa = list; ifa; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == NULL)
            continue;
        if (ifa->ifa_addr->sa_family == AF_INET)
            resolve_own_add(ifa->ifa_addr, sizeof(struct sockaddr_in));
        else if (ifa->ifa_addr->sa_family == AF_INET6)
            resolve_own_add(ifa->ifa_addr, sizeof(struct sockaddr_in6));
    }
    freeifaddrs(list);
}

/* A host name or address ("[addr]" too): its addresses. */
static void
resolve_own_add_name(const char *name)
{
    DNS_ADDR_LIST list;
    char    host[256];
    size_t  len = strlen(name);

    if (*name == '[' && len > 2 && name[len - 1] == ']')
        snprintf(host, sizeof(host), "%.*s", (int) (len - 2), name + 1);
    else
        snprintf(host, sizeof(host), "%s", name);
    dns_addr_list_init(&list);
    if (dns_host_addrs(host, AF_UNSPEC, 0, &list, NULL) == DNS_OK)
        for (int i = 0; i < list.count; i++)
            resolve_own_add((struct sockaddr *) &list.addr[i].sa, list.addr[i].len);
    dns_addr_list_free(&list);
}

static void
resolve_own_load(void)
{
    const char *inet = resolve_param("inet_interfaces", "all");
    const char *proxy = resolve_param("proxy_interfaces", "");
    char   *key = mem_printf("%s\n%s", inet, proxy);
    const char *lists[2] = {inet, proxy};

    if (resolve_own.key && strcmp(resolve_own.key, key) == 0) {
        mem_free(key);
        return;
    }
    mem_free(resolve_own.key);
    resolve_own.key = key;
    resolve_own.count = 0;
    for (int p = 0; p < 2; p++) {
        ARGV   *list = argv_split_list(lists[p]);

        for (size_t i = 0; i < list->argc; i++) {
            if (strcasecmp(list->argv[i], "all") == 0)
                resolve_own_add_interfaces();
            else if (strcasecmp(list->argv[i], "loopback-only") == 0) {
                resolve_own_add_name("127.0.0.1");
                resolve_own_add_name("::1");
            }
            else
                resolve_own_add_name(list->argv[i]);
        }
        argv_free(list);
    }
}

int
resolve_own_addr(const struct sockaddr_storage *sa)
{
    resolve_own_load();
    for (size_t i = 0; i < resolve_own.count; i++)
        if (resolve_sockaddr_equal(&resolve_own.addr[i], sa))
            return 1;
    return 0;
}

/* Parse "[1.2.3.4]" or "[IPv6:...]" into sa; 0 or -1. */
int
resolve_literal_parse(const char *domain, struct sockaddr_storage *sa)
{
    char    text[INET6_ADDRSTRLEN + 8];
    size_t  len = strlen(domain);
    const char *start = domain + 1;

    if (len < 3 || domain[0] != '[' || domain[len - 1] != ']')
        return -1;
    len -= 2;
    if (len > 5 && strncasecmp(start, "ipv6:", 5) == 0) {
        start += 5;
        len -= 5;
    }
    if (len >= sizeof(text))
        return -1;
    memcpy(text, start, len);
    text[len] = 0;
    memset(sa, 0, sizeof(*sa));
    if (inet_pton(AF_INET, text, &((struct sockaddr_in *) sa)->sin_addr) == 1) {
        sa->ss_family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, text, &((struct sockaddr_in6 *) sa)->sin6_addr) == 1) {
        sa->ss_family = AF_INET6;
        return 0;
    }
    return -1;
}

static int
resolve_literal_local(const char *domain)
{
    struct sockaddr_storage sa;

    if (resolve_literal_parse(domain, &sa) < 0)
        return 0;
    return resolve_own_addr(&sa);
}

int
resolve_local(const char *domain)
{
    int     fail = 0;

    if (domain == NULL || *domain == 0)
        return 1;
    if (*domain == '[')
        return resolve_literal_local(domain);
    return resolve_domain_list("mydestination", domain, &fail);
}
