/*
 * dict_sql_get.c - the lookup driver of the SQL table types: open a
 * configuration file, check the domain restriction, pick a host, expand
 * and run the query, collect the result (dict_sql.h).
 *
 * Hosts: each lookup tries the hosts in random order, those with an open
 * connection first. A host that cannot be reached is logged and not
 * tried again for retry_interval seconds; a connection unused for more
 * than idle_interval seconds is closed and made anew. A query that fails
 * on a connection that had already served (the server restarted) is
 * tried once more on a new connection to the same host. When no host
 * answers, the lookup fails (MAP_FAIL: the caller defers); once a server
 * is back, the next lookup after its retry time uses it, with no reload.
 *
 * A key outside the domain restriction, or whose query is suppressed by
 * the expansion, is "not found" without a query (also with every server
 * down).
 *
 * Results: every non-NULL, non-empty field of every row is expanded
 * with result_format and the elements are joined with ","; more than
 * expansion_limit elements (when not 0) fail the lookup. No element:
 * not found.
 *
 * SECURITY: see dict_sql.h (the key reaches SQL only through the
 * backend's quote function).
 *
 * DIAGNOSTICS: warnings: a host that cannot be reached or whose
 * connection broke, a query the server refused, the expansion limit;
 * the lookup then fails with the reason in dict_error().
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dict_sql.h"
#include "mem.h"
#include "msg.h"

#define SQL_QUERY_MAX   (64 * 1024)
#define SQL_RESULT_MAX  (1024 * 1024)

/* ---- domain restriction ------------------------------------------------ */

/* domain = /path: the names in the file (white space or commas between,
 * "#" to the end of a line a comment). */
static int
sql_domain_file(DICT_SQL *s, const char *path)
{
    FILE   *fp = fopen(path, "re");
    char    line[1024];
    ARGV   *words;

    if (fp == 0) {
        dict_set_error(s->dict, "%s: domain file %s: %m", s->dict->spec, path);
        return -1;
    }
    while (fgets(line, sizeof(line), fp) != 0) {
        line[strcspn(line, "#")] = 0;
        words = argv_split(line, " \t\r\n,");
        for (size_t i = 0; i < words->argc; i++)
            argv_add(s->domains, words->argv[i]);
        argv_free(words);
    }
    (void) fclose(fp);
    return 0;
}

static int
sql_domain_conf(DICT_SQL *s, const char *spec)
{
    ARGV   *list = argv_split_list(spec);
    char   *err;
    DICT   *m;
    size_t  i;
    int     ret = 0;

    s->domains = argv_alloc();
    s->domain_maps = mem_array(list->argc + 1, sizeof(DICT *));
    for (i = 0; i < list->argc && ret == 0; i++) {
        const char *item = list->argv[i];

        if (strchr(item, ':') != 0 && *item != '/') {
            if ((m = dict_open(item, 0, &err)) == 0) {
                dict_set_error(s->dict, "%s: domain table %s: %s", s->dict->spec, item, err);
                mem_free(err);
                ret = -1;
            } else {
                s->domain_maps[s->domain_map_count++] = m;
            }
        } else if (*item == '/') {
            ret = sql_domain_file(s, item);
        } else {
            argv_add(s->domains, item);
        }
    }
    argv_free(list);
    for (i = 0; i < s->domains->argc; i++)
        for (char *p = s->domains->argv[i]; *p; p++)
            *p = (char) tolower((unsigned char) *p);
    return ret;
}

int
sql_domain_ok(DICT_SQL *s, const char *key)
{
    const char *at = strrchr(key, '@');
    const char *value;
    size_t  i;
    int     st;

    if (s->domains == 0 || (s->domains->argc == 0 && s->domain_map_count == 0))
        return 1;
    if (at == 0 || at == key || at[1] == 0)
        return 0;
    for (i = 0; i < s->domains->argc; i++)
        if (strcasecmp(s->domains->argv[i], at + 1) == 0)
            return 1;
    for (i = 0; i < s->domain_map_count; i++) {
        if ((st = dict_get(s->domain_maps[i], at + 1, &value)) == MAP_FOUND)
            return 1;
        if (st == MAP_FAIL) {
            dict_set_error(s->dict, "%s: domain table %s: %s", s->dict->spec,
                           dict_spec(s->domain_maps[i]), dict_error(s->domain_maps[i]));
            return -1;
        }
    }
    return 0;
}

/* ---- results ------------------------------------------------------------ */

void
sql_result_add(DICT_SQL *s, const char *value)
{
    if (s->over_limit || value == 0 || *value == 0)
        return;
    if (!sql_expand(s->elem, s->result_format, value, s->key, NULL, NULL))
        return;
    if (s->expansion_limit > 0 && ++s->count > s->expansion_limit) {
        s->over_limit = 1;
        return;
    }
    if (LEN(s->result) > 0)
        vstring_addch(s->result, ',');
    vstring_ncat(s->result, STR(s->elem), LEN(s->elem));
}

/* ---- hosts --------------------------------------------------------------- */

static void
sql_disconnect(DICT_SQL *s, SQL_HOST *h)
{
    if (h->conn) {
        s->be->disconnect(h->conn);
        h->conn = 0;
    }
}

/* The hosts in the order to try: connected ones first, each group in
 * random order. */
static void
sql_host_order(DICT_SQL *s, size_t *order)
{
    size_t  n = 0, i, j, first, tmp;

    for (int pass = 0; pass < 2; pass++) {
        first = n;
        for (i = 0; i < s->host_count; i++)
            if ((s->hosts[i].conn != 0) == (pass == 0))
                order[n++] = i;
        for (i = n; i > first + 1; i--) {
            j = first + (size_t) random() % (i - first);
            tmp = order[i - 1];
            order[i - 1] = order[j];
            order[j] = tmp;
        }
    }
}

static void
sql_host_down(DICT_SQL *s, SQL_HOST *h, const char *what, const char *why)
{
    if (s->be->uses_hosts)
        msg_warn("%s: %s %s server %s: %s", s->dict->spec, what, s->be->type, h->spec, why);
    else
        msg_warn("%s: cannot open %s database %s: %s", s->dict->spec, s->be->type, h->spec, why);
    sql_disconnect(s, h);
    h->dead_until = time(0) + s->retry_interval;
}

/*
 * One query on host h: MAP_FOUND / MAP_NOTFOUND / MAP_FAIL, or 2 when
 * the host is down (try the next one).
 */
static int
sql_query_host(DICT_SQL *s, SQL_HOST *h, const char *key, VSTRING *why)
{
    int     reused;
    int     st;

    for (int attempt = 0; attempt < 2; attempt++) {
        time_t  now = time(0);

        if (h->conn && s->idle_interval > 0 && now - h->last_used > s->idle_interval)
            sql_disconnect(s, h);
        if ((reused = (h->conn != 0)) == 0) {
            if ((h->conn = s->be->connect(s, h, why)) == 0) {
                sql_host_down(s, h, "connect to", STR(why));
                return 2;
            }
        }
        h->last_used = now;
        if (!sql_expand(s->sql, s->query, key, NULL, s->be->quote, h->conn))
            return MAP_NOTFOUND;        /* suppressed */
        vstring_reset(s->result);
        s->count = s->over_limit = 0;
        s->key = key;
        st = s->be->query(s, h->conn, STR(s->sql), why);
        if (st == SQL_QUERY_OK)
            break;
        if (st == SQL_QUERY_FAIL) {
            msg_warn("%s: query failed on %s: %s", s->dict->spec, h->spec, STR(why));
            dict_set_error(s->dict, "%s: query failed: %s", s->dict->spec, STR(why));
            return MAP_FAIL;
        }
        if (!reused || attempt > 0) {
            sql_host_down(s, h, "lost connection to", STR(why));
            return 2;
        }
        sql_disconnect(s, h);   /* a stale connection: one more try */
    }
    if (s->over_limit) {
        msg_warn("%s: Expansion limit exceeded for key: '%s'", s->dict->spec, key);
        dict_set_error(s->dict, "%s: expansion limit exceeded", s->dict->spec);
        return MAP_FAIL;
    }
    return LEN(s->result) > 0 ? MAP_FOUND : MAP_NOTFOUND;
}

int
dict_sql_get(DICT *d, const char *key, const char **value)
{
    DICT_SQL *s = d->priv;
    VSTRING *why = vstring_alloc(1024);
    size_t *order = mem_array(s->host_count + 1, sizeof(size_t));
    time_t  now = time(0);
    size_t  i;
    int     st;

    if ((st = sql_domain_ok(s, key)) <= 0) {
        st = st < 0 ? MAP_FAIL : MAP_NOTFOUND;
        goto out;
    }
    /* A suppressed query (%d of a key without a domain, or a
     * result_format's %D...) is "not found" whether or not a server
     * answers. */
    if (!sql_expand(s->sql, s->query, key, NULL, NULL, NULL)
        || !sql_key_parts_ok(s->result_format, key)) {
        st = MAP_NOTFOUND;
        goto out;
    }
    sql_host_order(s, order);
    for (st = 2, i = 0; st == 2 && i < s->host_count; i++) {
        SQL_HOST *h = &s->hosts[order[i]];

        if (h->conn == 0 && h->dead_until > now)
            continue;
        st = sql_query_host(s, h, key, why);
    }
    if (st == 2) {
        dict_set_error(d, "%s: no %s server is available", d->spec, s->be->type);
        st = MAP_FAIL;
    }
    if (st == MAP_FOUND)
        *value = STR(s->result);
out:
    mem_free(order);
    vstring_free(why);
    return st;
}

/* ---- open and close ---------------------------------------------------- */

static int
sql_open_hosts(DICT_SQL *s)
{
    ARGV   *list;
    size_t  i;

    if (!s->be->uses_hosts) {
        s->hosts = mem_array(1, sizeof(SQL_HOST));
        s->host_count = 1;
        s->hosts[0].spec = mem_strdup(sql_cfg_str(s->cfg, "dbpath", ""));
        s->hosts[0].name = mem_strdup(s->hosts[0].spec);
        if (*s->hosts[0].name == 0) {
            dict_set_error(s->dict, "%s: missing \"dbpath\"", s->dict->spec);
            return -1;
        }
        return 0;
    }
    list = argv_split_list(sql_cfg_str(s->cfg, "hosts", "localhost"));
    if (list->argc == 0)
        argv_add(list, "localhost");
    s->hosts = mem_array(list->argc, sizeof(SQL_HOST));
    for (i = 0; i < list->argc; i++) {
        if (sql_host_parse(list->argv[i], &s->hosts[i], s->dict->error) < 0) {
            s->host_count = i + 1;
            argv_free(list);
            return -1;
        }
    }
    s->host_count = list->argc;
    argv_free(list);
    return 0;
}

static int
sql_open_conf(DICT_SQL *s)
{
    VSTRING *why = s->dict->error;
    const char *q;

    if ((s->cfg = sql_cfg_read(s->dict->name, why)) == 0)
        return -1;
    if (sql_cfg_int(s->cfg, "expansion_limit", 0, 0, INT_MAX, &s->expansion_limit, why) < 0
        || sql_cfg_int(s->cfg, "retry_interval", 60, 0, INT_MAX, &s->retry_interval, why) < 0
        || sql_cfg_int(s->cfg, "idle_interval", 60, 0, INT_MAX, &s->idle_interval, why) < 0)
        return -1;
    if (s->be->configure && s->be->configure(s, s->cfg) < 0)
        return -1;
    if (s->query == 0 && (q = sql_cfg_str(s->cfg, "query", 0)) != 0)
        s->query = mem_strdup(q);
    if (s->query == 0 && (s->query = sql_legacy_query(s->cfg, why)) == 0)
        return -1;
    s->result_format = mem_strdup(sql_cfg_str(s->cfg, "result_format", "%s"));
    if (sql_format_check(s->query, SQL_FMT_QUERY, why) < 0
        || sql_format_check(s->result_format, SQL_FMT_RESULT, why) < 0)
        return -1;
    if (sql_domain_conf(s, sql_cfg_str(s->cfg, "domain", "")) < 0)
        return -1;
    return sql_open_hosts(s);
}

int
dict_sql_open(DICT *d, const SQL_BACKEND *be)
{
    DICT_SQL *s = mem_alloc(sizeof(*s));
    static int seeded;

    if (!seeded++)
        srandom((unsigned) time(0) ^ (unsigned) getpid());
    s->dict = d;
    s->be = be;
    s->sql = vstring_alloc(SQL_QUERY_MAX);
    s->elem = vstring_alloc(SQL_RESULT_MAX);
    s->result = vstring_alloc(SQL_RESULT_MAX);
    d->priv = s;
    if (*d->name != '/' && *d->name != '.') {
        dict_set_error(d, "%s: the configuration must be a file name (/path)", d->spec);
        (void) dict_sql_close(d, 0);
        return -1;
    }
    dict_watch_file(d, d->name);
    if (sql_open_conf(s) < 0) {
        (void) dict_sql_close(d, 0);
        return -1;
    }
    return 0;
}

int
dict_sql_close(DICT *d, int commit)
{
    DICT_SQL *s = d->priv;
    size_t  i;

    if (s == 0)
        return 0;
    for (i = 0; i < s->host_count; i++) {
        sql_disconnect(s, &s->hosts[i]);
        mem_free(s->hosts[i].spec);
        mem_free(s->hosts[i].name);
        mem_free(s->hosts[i].port);
    }
    mem_free(s->hosts);
    for (i = 0; i < s->domain_map_count; i++)
        dict_close(s->domain_maps[i]);
    mem_free(s->domain_maps);
    argv_free(s->domains);
    if (s->be->free_priv && s->priv)
        s->be->free_priv(s->priv);
    sql_cfg_free(s->cfg);
    mem_free(s->query);
    mem_free(s->result_format);
    vstring_free(s->sql);
    vstring_free(s->elem);
    vstring_free(s->result);
    mem_free(s);
    d->priv = 0;
    return 0;
}
