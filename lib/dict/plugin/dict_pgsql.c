/*
 * dict_pgsql.c - "pgsql:/path" tables: PostgreSQL through libpq, with
 * the configuration file of Postfix's pgsql_table(5). Built as
 * dict_pgsql.so and loaded on first use (lib/dict/dict_plugin.c).
 *
 * Settings (besides those of dict_sql.h: query, result_format, domain,
 * expansion_limit, retry_interval, idle_interval, the old table/
 * select_field/where_field/additional_conditions):
 *     hosts          inet:host:port, host:port, host, unix:/socket-dir
 *                    (or the socket file /dir/.s.PGSQL.NNNN), or a
 *                    postgresql:// URI (then user, password and dbname
 *                    here are not used); default localhost
 *     user, password, dbname
 *     encoding       client encoding (default UTF8)
 *     select_function  no query: "SELECT function('%s')"
 * A connection attempt gives up after 10 seconds.
 *
 * Interface: dict_pgsql_ops (looked up with dlsym()).
 *
 * SECURITY: the key is quoted with PQescapeStringConn() on the
 * connection that runs the query (so the server's encoding and
 * standard_conforming_strings are respected); a key it cannot quote
 * (invalid in the client encoding) fails the lookup.
 *
 * DIAGNOSTICS: as dict_sql_get.c; the server's error text is logged.
 */
#include <libpq-fe.h>
#include <string.h>
#include <sys/stat.h>

#include "dict_sql.h"
#include "mem.h"
#include "msg.h"

typedef struct PG_PRIV {
    const char *user;
    const char *password;
    const char *dbname;
    const char *encoding;
} PG_PRIV;

typedef struct PG_CONN {
    PGconn *pg;
    int     quote_error;
} PG_CONN;

static void
pg_why(VSTRING *why, const char *text)
{
    vstring_strcpy(why, text && *text ? text : "unknown error");
    while (LEN(why) > 0 && (STR(why)[LEN(why) - 1] == '\n' || STR(why)[LEN(why) - 1] == ' '))
        vstring_truncate(why, LEN(why) - 1);
    for (char *p = STR(why); *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
}

static int
pg_configure(DICT_SQL *s, const SQL_CFG *cfg)
{
    PG_PRIV *p = mem_alloc(sizeof(*p));
    const char *fn;

    p->user = sql_cfg_str(cfg, "user", 0);
    p->password = sql_cfg_str(cfg, "password", 0);
    p->dbname = sql_cfg_str(cfg, "dbname", 0);
    p->encoding = sql_cfg_str(cfg, "encoding", "UTF8");
    s->priv = p;
    if (sql_cfg_str(cfg, "query", 0) == 0 && (fn = sql_cfg_str(cfg, "select_function", 0)) != 0)
        s->query = mem_printf("SELECT %s('%%s')", fn);
    if ((p->dbname == 0 || *p->dbname == 0)
        && strstr(sql_cfg_str(cfg, "hosts", ""), "://") == 0) {
        dict_set_error(s->dict, "%s: missing \"dbname\"", s->dict->spec);
        return -1;
    }
    return 0;
}

/* unix:/dir or unix:/dir/.s.PGSQL.5432 -> the directory and port. */
static void
pg_unix(const SQL_HOST *h, char **dir, char **port)
{
    struct stat st;
    const char *slash = strrchr(h->name, '/');

    if (stat(h->name, &st) == 0 && S_ISSOCK(st.st_mode) && slash
        && strncmp(slash + 1, ".s.PGSQL.", 9) == 0) {
        *dir = mem_strndup(h->name, slash == h->name ? 1 : (size_t) (slash - h->name));
        *port = mem_strdup(slash + 10);
    } else {
        *dir = mem_strdup(h->name);
        *port = h->port ? mem_strdup(h->port) : 0;
    }
}

static void *
pg_connect(DICT_SQL *s, SQL_HOST *h, VSTRING *why)
{
    PG_PRIV *p = s->priv;
    const char *kw[8];
    const char *val[8];
    char   *dir = 0, *port = 0;
    int     n = 0;
    PGconn *pg;
    PG_CONN *c;

#define PG_KW(k, v) do { if (v) { kw[n] = (k); val[n++] = (v); } } while (0)
    if (h->kind == SQL_HOST_URI) {
        PG_KW("dbname", h->name);
    } else {
        if (h->kind == SQL_HOST_UNIX)
            pg_unix(h, &dir, &port);
        PG_KW("host", h->kind == SQL_HOST_UNIX ? dir : h->name);
        PG_KW("port", h->kind == SQL_HOST_UNIX ? port : h->port);
        PG_KW("dbname", p->dbname);
        PG_KW("user", p->user);
        PG_KW("password", p->password);
    }
    PG_KW("connect_timeout", "10");
    kw[n] = val[n] = 0;
    pg = PQconnectdbParams(kw, val, h->kind == SQL_HOST_URI);
    mem_free(dir);
    mem_free(port);
    if (pg == 0 || PQstatus(pg) != CONNECTION_OK) {
        pg_why(why, pg ? PQerrorMessage(pg) : "out of memory");
        PQfinish(pg);
        return 0;
    }
    if (p->encoding && *p->encoding && PQsetClientEncoding(pg, p->encoding) != 0) {
        vstring_sprintf(why, "cannot set the encoding to %s", p->encoding);
        PQfinish(pg);
        return 0;
    }
    c = mem_alloc(sizeof(*c));
    c->pg = pg;
    return c;
}

static void
pg_disconnect(void *conn)
{
    PG_CONN *c = conn;

    PQfinish(c->pg);
    mem_free(c);
}

static void
pg_quote(void *ctx, VSTRING *out, const char *s, size_t len)
{
    PG_CONN *c = ctx;
    char   *buf;
    int     err = 0;

    if (len > 64 * 1024) {
        c->quote_error = 1;
        return;
    }
    buf = mem_alloc(2 * len + 1);
    (void) PQescapeStringConn(c->pg, buf, s, len, &err);
    if (err)
        c->quote_error = 1;
    else
        vstring_cat(out, buf);
    mem_free(buf);
}

static int
pg_query(DICT_SQL *s, void *conn, const char *sql, VSTRING *why)
{
    PG_CONN *c = conn;
    PGresult *r;
    int     st = SQL_QUERY_OK;

    if (c->quote_error) {
        c->quote_error = 0;
        vstring_strcpy(why, "cannot quote the key");
        return SQL_QUERY_FAIL;
    }
    r = PQexec(c->pg, sql);
    switch (r ? PQresultStatus(r) : PGRES_FATAL_ERROR) {
    case PGRES_TUPLES_OK:
        for (int row = 0; row < PQntuples(r); row++)
            for (int col = 0; col < PQnfields(r); col++)
                if (!PQgetisnull(r, row, col))
                    sql_result_add(s, PQgetvalue(r, row, col));
        break;
    case PGRES_COMMAND_OK:
        break;
    default:
        pg_why(why, r ? PQresultErrorMessage(r) : PQerrorMessage(c->pg));
        st = PQstatus(c->pg) == CONNECTION_BAD ? SQL_QUERY_DOWN : SQL_QUERY_FAIL;
        break;
    }
    PQclear(r);
    return st;
}

static const SQL_BACKEND pg_backend = {
    .type = "pgsql", .uses_hosts = 1, .configure = pg_configure,
    .connect = pg_connect, .disconnect = pg_disconnect, .quote = pg_quote,
    .query = pg_query, .free_priv = mem_free,
};

static int
pg_open(DICT *d)
{
    return dict_sql_open(d, &pg_backend);
}

const DICT_OPS dict_pgsql_ops = {
    .type = "pgsql", .needs_name = 1, .open = pg_open,
    .get = dict_sql_get, .close = dict_sql_close,
};
