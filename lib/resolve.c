/*
 * resolve.c - in-process address rewriting and resolution, the logic
 * behind the trivial-rewrite service (and usable by unit tests).
 *
 * Interface (rewrite_clnt.h):
 *   rewrite_addr(rule, addr, out)    qualify an address: "local" uses
 *       myorigin/mydomain, "remote" uses remote_header_rewrite_domain
 *       (empty: remote addresses are left alone).
 *   resolve_addr(sender, addr, reply) classify a recipient: LOCAL
 *       (mydestination, our interface addresses), ALIAS
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
 * Everything is bounded by ADDRESS_MAX (longer input gets
 * RESOLVE_FLAG_ERROR); the percent-hack / source-route loop is bounded.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "address.h"
#include "argv.h"
#include "config.h"
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

static int
resolve_sockaddr_loopback(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *) sa)->sin6_addr);
    return 0;
}

/* inet_interfaces = all: is want one of the interface addresses? */
static int
resolve_ifaddr_match(const struct sockaddr_storage *want)
{
    struct ifaddrs *list, *ifa;
    int     found = 0;

    if (getifaddrs(&list) < 0)
        return 0;
    for (ifa = list; ifa && !found; ifa = ifa->ifa_next) {
        struct sockaddr_storage ss;

        if (ifa->ifa_addr == NULL)
            continue;
        if (ifa->ifa_addr->sa_family == AF_INET)
            memcpy(&ss, ifa->ifa_addr, sizeof(struct sockaddr_in));
        else if (ifa->ifa_addr->sa_family == AF_INET6)
            memcpy(&ss, ifa->ifa_addr, sizeof(struct sockaddr_in6));
        else
            continue;
        found = resolve_sockaddr_equal(&ss, want);
    }
    freeifaddrs(list);
    return found;
}

/* ---- our own addresses ---------------------------------------------------- */

/* Does the numeric address text equal one of this host's addresses? */
static int
resolve_own_addr_list(const char *param, const char *dflt, const struct sockaddr_storage *want)
{
    ARGV   *list = argv_split_list(resolve_param(param, dflt));
    int     found = 0;

    for (size_t i = 0; i < list->argc && !found; i++) {
        const char *name = list->argv[i];
        struct addrinfo hints, *res, *ai;
        char    host[256];
        size_t  len;

        if (strcasecmp(name, "all") == 0) {
            found = resolve_ifaddr_match(want);
            continue;
        }
        if (strcasecmp(name, "loopback-only") == 0)
            name = "localhost";
        /* "[addr]" and "host:port" forms are not used here; strip brackets. */
        len = strlen(name);
        if (*name == '[' && len > 2 && name[len - 1] == ']')
            snprintf(host, sizeof(host), "%.*s", (int) (len - 2), name + 1);
        else
            snprintf(host, sizeof(host), "%s", name);
        memset(&hints, 0, sizeof(hints));
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(host, NULL, &hints, &res) != 0)
            continue;
        for (ai = res; ai && !found; ai = ai->ai_next) {
            struct sockaddr_storage ss;

            memset(&ss, 0, sizeof(ss));
            memcpy(&ss, ai->ai_addr, ai->ai_addrlen < sizeof(ss) ? ai->ai_addrlen : sizeof(ss));
            found = resolve_sockaddr_equal(&ss, want);
        }
        freeaddrinfo(res);
    }
    argv_free(list);
    return found;
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
    if (resolve_sockaddr_loopback(&sa))
        return 1;
    return resolve_own_addr_list("inet_interfaces", "all", &sa)
        || resolve_own_addr_list("proxy_interfaces", "", &sa);
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
