/*
 * resolve.c - the shared half of in-process address rewriting and
 * resolution (the logic behind the trivial-rewrite service, usable by
 * unit tests): parameters, domain lists, tables, this host's addresses.
 *
 * Interface (resolve.h):
 *   resolve_params_init()  read the parameters once (resolve.h lists
 *       them) and split the domain lists; resolve_params_need() does it
 *       on first use.
 *   resolve_local(domain)  1 when the domain is ours: in mydestination,
 *       or an address literal [addr] whose addr is one of
 *       inet_interfaces/proxy_interfaces ("all": the addresses of every
 *       interface; "loopback-only": 127.0.0.1 and ::1).
 *   resolve_domain_list(), resolve_maps(), resolve_maps_preopen(),
 *   resolve_own_addr(), resolve_literal_parse(): for resolve_addr.c
 *   (rewrite_addr, resolve_addr), resolve_route.c (transport_maps, the
 *   sender-dependent tables), the trivial-rewrite service and smtp.
 *
 * Domain lists accept names, ".parent" (subdomains), "!name" (exclude),
 * "/file" (one entry per line) and "type:table" (the domain, then its
 * parents as "parent" or ".parent" (see domain_list_match_table), are looked up
 * as a key), as Postfix's domain lists do.
 *
 * SECURITY: addresses come from SMTP clients through smtpd and cleanup.
 * Tables are opened with MAP_NO_REGSUB, as Postfix's trivial-rewrite
 * does: a regexp:/pcre: transport_maps or sender-dependent rule cannot
 * copy $1 (a part of an address) into a transport or next hop.
 * An address literal is local only for the addresses this host listens
 * on, not for any loopback address: [127.0.0.9] on a server that
 * listens on 127.0.0.1 only is somebody else's (relay control).
 * Everything is bounded by ADDRESS_MAX (longer input gets
 * RESOLVE_FLAG_ERROR); the percent-hack / source-route loop is bounded.
 *
 * DIAGNOSTICS: a bad parameter value is fatal (config_read_vars); asking
 * for a domain list that does not exist is a programming error (panic). A
 * list file that cannot be opened is a warning and the lookup fails (the
 * caller defers); lists nested too deeply are a warning and match nothing.
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

#define RESOLVE_LIST_DEPTH  5

/* ---- parameters, read once ------------------------------------------------ */

RESOLVE_PARAMS resolve_params;

#define RP (&resolve_params)

static const char *var_parent_matches;

/* The domain lists, split once; parent_ok from parent_domain_matches_subdomains. */
static struct RESOLVE_LIST {
    const char *name;
    const char *value;
    ARGV   *argv;
    int     parent_ok;
} resolve_lists[] = {
    {"mydestination", NULL, NULL, 0},
    {"relay_domains", NULL, NULL, 0},
    {"virtual_alias_domains", NULL, NULL, 0},
    {"virtual_mailbox_domains", NULL, NULL, 0},
    {"fast_flush_domains", NULL, NULL, 0},     /* flush_clnt.c, flush/ */
};

#define RESOLVE_LIST_COUNT (sizeof(resolve_lists) / sizeof(resolve_lists[0]))

static const CONFIG_VAR resolve_vars[] = {
    CONFIG_VAR_STR("myhostname", &RP->myhostname),
    CONFIG_VAR_STR("myorigin", &RP->myorigin),
    CONFIG_VAR_STR("mydomain", &RP->mydomain),
    CONFIG_VAR_STR("remote_header_rewrite_domain", &RP->remote_rewrite_domain),
    CONFIG_VAR_BOOL("append_at_myorigin", &RP->append_at_myorigin),
    CONFIG_VAR_BOOL("append_dot_mydomain", &RP->append_dot_mydomain),
    CONFIG_VAR_BOOL("swap_bangpath", &RP->swap_bangpath),
    CONFIG_VAR_BOOL("allow_percent_hack", &RP->allow_percent_hack),
    CONFIG_VAR_STR("inet_interfaces", &RP->inet_interfaces),
    CONFIG_VAR_STR("proxy_interfaces", &RP->proxy_interfaces),
    CONFIG_VAR_STR("relayhost", &RP->relayhost),
    CONFIG_VAR_STR("local_transport", &RP->local_transport),
    CONFIG_VAR_STR("default_transport", &RP->default_transport),
    CONFIG_VAR_STR("relay_transport", &RP->relay_transport),
    CONFIG_VAR_STR("virtual_transport", &RP->virtual_transport),
    CONFIG_VAR_STR("error_service_name", &RP->error_transport),
    CONFIG_VAR_STR("transport_maps", &RP->transport_maps),
    CONFIG_VAR_STR("recipient_delimiter", &RP->recipient_delimiter),
    CONFIG_VAR_STR("sender_dependent_relayhost_maps", &RP->snd_relay_maps),
    CONFIG_VAR_STR("sender_dependent_default_transport_maps", &RP->snd_transport_maps),
    CONFIG_VAR_STR("empty_address_relayhost_maps_lookup_key", &RP->empty_relay_key),
    CONFIG_VAR_STR("empty_address_default_transport_maps_lookup_key",
                   &RP->empty_transport_key),
    CONFIG_VAR_STR("parent_domain_matches_subdomains", &var_parent_matches),
    CONFIG_VAR_STR("mydestination", &resolve_lists[0].value),
    CONFIG_VAR_STR("relay_domains", &resolve_lists[1].value),
    CONFIG_VAR_STR("virtual_alias_domains", &resolve_lists[2].value),
    CONFIG_VAR_STR("virtual_mailbox_domains", &resolve_lists[3].value),
    CONFIG_VAR_STR("fast_flush_domains", &resolve_lists[4].value),
    CONFIG_VAR_END,
};

static int resolve_params_read;

/* Is name listed in parent_domain_matches_subdomains? */
static int
resolve_parent_matches(ARGV *parents, const char *name)
{
    for (size_t i = 0; i < parents->argc; i++)
        if (strcasecmp(parents->argv[i], name) == 0)
            return 1;
    return 0;
}

void
resolve_params_init(void)
{
    ARGV   *parents;

    config_read_vars(resolve_vars);
    RP->compat_dot_mydomain = RP->append_dot_mydomain
        && config_compat_break("append_dot_mydomain", "1");
    parents = argv_split_list(var_parent_matches);
    for (size_t i = 0; i < RESOLVE_LIST_COUNT; i++) {
        argv_free(resolve_lists[i].argv);
        resolve_lists[i].argv = argv_split_list(resolve_lists[i].value);
        resolve_lists[i].parent_ok = resolve_parent_matches(parents, resolve_lists[i].name);
    }
    RP->transport_parent_ok = resolve_parent_matches(parents, "transport_maps");
    argv_free(parents);
    resolve_params_read = 1;
}

void
resolve_params_need(void)
{
    if (!resolve_params_read)
        resolve_params_init();
}

static struct RESOLVE_LIST *
resolve_list(const char *param)
{
    resolve_params_need();
    for (size_t i = 0; i < RESOLVE_LIST_COUNT; i++)
        if (strcmp(resolve_lists[i].name, param) == 0)
            return &resolve_lists[i];
    msg_panic("resolve_list: unknown domain list \"%s\"", param);
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
    maps_cache[i].maps = maps_create(title, spec, MAP_NO_REGSUB);
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

/*
 * Match a "type:table" entry: the domain, then its parents as keys:
 * "parent" when parent_ok (parent_domain_matches_subdomains names the
 * list), else ".parent" (only an explicit ".example.com" key matches
 * subdomains).
 */
static int
domain_list_match_table(const char *title, const char *spec, const char *domain,
                        int parent_ok, int *fail)
{
    MAPS   *maps = resolve_maps(title, spec);
    const char *value;
    const char *key = domain;
    const char *dot = domain;
    int     ret;

    for (;;) {                          /* parents: not in regexp:/pcre: tables */
        ret = key == domain ? maps_find(maps, key, &value) : maps_find_fixed(maps, key, &value);
        if (ret == MAP_FOUND)
            return 1;
        if (ret == MAP_FAIL) {
            *fail = 1;
            return 0;
        }
        if ((dot = strchr(dot + 1, '.')) == NULL || dot[1] == 0)
            return 0;
        key = parent_ok ? dot + 1 : dot;
    }
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
    struct RESOLVE_LIST *list = resolve_list(param);

    return domain_list_match_argv(param, list->argv, domain, list->parent_ok, 0, fail);
}

/* Open transport_maps, the sender-dependent tables and the "type:table"
 * entries of the domain lists. */
void
resolve_maps_preopen(void)
{
    resolve_params_need();
    if (*resolve_params.transport_maps)
        (void) resolve_maps("transport_maps", resolve_params.transport_maps);
    if (*resolve_params.snd_relay_maps)
        (void) resolve_maps("sender_dependent_relayhost_maps", resolve_params.snd_relay_maps);
    if (*resolve_params.snd_transport_maps)
        (void) resolve_maps("sender_dependent_default_transport_maps",
                            resolve_params.snd_transport_maps);
    for (size_t i = 0; i < RESOLVE_LIST_COUNT; i++) {
        ARGV   *list = resolve_lists[i].argv;

        for (size_t j = 0; j < list->argc; j++) {
            const char *pat = list->argv[j] + strspn(list->argv[j], "!");

            if (*pat != '/' && *pat != '[' && strchr(pat, ':'))
                (void) resolve_maps(resolve_lists[i].name, pat);
        }
    }
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
    const char *inet, *proxy;
    char   *key;

    resolve_params_need();
    inet = resolve_params.inet_interfaces;
    proxy = resolve_params.proxy_interfaces;
    key = mem_printf("%s\n%s", inet, proxy);
    const char *lists[2];

    lists[0] = inet;
    lists[1] = proxy;
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
