/*
 * dict_sql.h - what the SQL table types (pgsql:, mysql:, sqlite:) share:
 * their configuration file, the %-expansion of query and result_format,
 * the domain restriction, the list of hosts with failover, and the lookup
 * driver that ties them to one client library.
 *
 * The client-library part of each type (lib/dict/plugin/dict_pgsql.c,
 * dict_mysql.c, dict_sqlite.c) is built as a shared object that maps.c
 * loads with dlopen() the first time the type is opened (dict_plugin.c),
 * so libpq, libmariadb and libsqlite3 are never linked into a daemon that
 * does not use them. This file's code is compiled into each shared
 * object and into libdict.a (unit tests, fuzzing).
 *
 * Configuration file ("pgsql:/etc/postfix/x.cf"): main.cf syntax, one
 * "name = value" a line, "#" comment lines, a line that starts with white
 * space continues the previous one. No $name expansion. Names not used
 * by a type are ignored, as Postfix does.
 *
 * Expansion (sql_expand): in a query the key is quoted with the client
 * library's escape function; %s the key, %u its local part (the whole key
 * when it has no "@"; an empty local part suppresses the query), %d its
 * domain (no domain: suppressed), %1..%9 the domain's labels from the
 * right (%1 = "com" for user@mail.example.com; too few: suppressed),
 * %S %U %D as the lower-case forms, %% a "%". In result_format the same
 * letters expand the result value (not quoted), while the upper-case
 * ones and %1..%9 expand the lookup key.
 *
 * domain: names, /file paths (names in the file) and type:table entries;
 * when set, only keys "user@domain" with a listed domain are looked up.
 *
 * SECURITY: the key comes from the network. It reaches SQL only through
 * the backend's quote function (escaping single quotes and backslashes
 * as the server expects), and only into a query given by the
 * administrator. A result value is not quoted: it goes to the caller as a
 * table result. The configuration file is trusted (it is the
 * administrator's), but its parser is bounded (file size, line length).
 *
 * DIAGNOSTICS: configuration errors make the open fail (the table is then
 * "unavailable": every lookup is a temporary failure); a host that cannot
 * be reached is a warning and is skipped for retry_interval seconds; when
 * no host answers, the lookup fails (MAP_FAIL: the caller defers).
 */
#ifndef POSTHORN_DICT_SQL_H
#define POSTHORN_DICT_SQL_H

#include <stddef.h>
#include <time.h>

#include "argv.h"
#include "dict_impl.h"
#include "vstring.h"

/* ---- configuration file --------------------------------------------- */

typedef struct SQL_CFG SQL_CFG;

#define SQL_CFG_MAX_SIZE   (1024 * 1024)

/* Parse text (len bytes, need not be NUL-terminated); never fails. */
SQL_CFG *sql_cfg_parse(const char *text, size_t len);
/* Read and parse a file: NULL with *why set when it cannot be read. */
SQL_CFG *sql_cfg_read(const char *path, VSTRING *why);
void    sql_cfg_free(SQL_CFG *cfg);
/* The value of name (the last one given), or def. */
const char *sql_cfg_str(const SQL_CFG *cfg, const char *name, const char *def);
/* A number in [min, max]; -1 with *why set for a bad value. */
int     sql_cfg_int(const SQL_CFG *cfg, const char *name, int def, int min, int max,
                    int *value, VSTRING *why);
/* A yes/no value; -1 with *why set otherwise. */
int     sql_cfg_bool(const SQL_CFG *cfg, const char *name, int def, int *value, VSTRING *why);

/* ---- expansion ------------------------------------------------------- */

/* Append the quoted form of s (len bytes) to out. */
typedef void (*SQL_QUOTE_FN)(void *ctx, VSTRING *out, const char *s, size_t len);

#define SQL_FMT_QUERY   1
#define SQL_FMT_RESULT  2

/* Check a query or result_format: 0, or -1 with *why naming the bad %. */
int     sql_format_check(const char *fmt, int kind, VSTRING *why);
/*
 * Expand fmt into out (replacing it). value is the key (query) or the
 * result (result_format); key is the lookup key for the upper-case
 * letters and %1-%9 of a result_format, NULL in a query (they then
 * expand value). quote NULL: no quoting. Returns 1, or 0 when the
 * expansion is suppressed (see above) or out overflowed.
 */
int     sql_expand(VSTRING *out, const char *fmt, const char *value, const char *key,
                   SQL_QUOTE_FN quote, void *ctx);
/* Whether the key has every part that fmt (a result_format) takes from
 * it (%S %U %D %1-%9): 0 means the lookup is suppressed. */
int     sql_key_parts_ok(const char *fmt, const char *key);
/* The old form: "SELECT select_field FROM table WHERE where_field =
 * '%s' additional_conditions", or NULL with *why when a part is missing. */
char   *sql_legacy_query(const SQL_CFG *cfg, VSTRING *why);

/* ---- hosts ------------------------------------------------------------ */

#define SQL_HOST_INET   1
#define SQL_HOST_UNIX   2
#define SQL_HOST_URI    3       /* postgresql://... passed as it is */

typedef struct SQL_HOST {
    char   *spec;               /* as configured, for log lines */
    int     kind;               /* SQL_HOST_* */
    char   *name;               /* host name, socket path or URI */
    char   *port;               /* NULL: the library's default */
    void   *conn;               /* the backend's connection, or NULL */
    time_t  dead_until;         /* not tried before this time */
    time_t  last_used;          /* for idle_interval */
} SQL_HOST;

/* Parse "inet:host:port", "unix:/path", "host:port", "host", "/path",
 * "[v6addr]:port"; -1 with *why for an empty or malformed one. */
int     sql_host_parse(const char *spec, SQL_HOST *h, VSTRING *why);

/* ---- the lookup driver ------------------------------------------------- */

typedef struct DICT_SQL DICT_SQL;

/* Query outcome of a backend's query method. */
#define SQL_QUERY_OK      0
#define SQL_QUERY_DOWN  (-1)    /* connection lost: try another host */
#define SQL_QUERY_FAIL  (-2)    /* the server refused it: fail the lookup */

typedef struct SQL_BACKEND {
    const char *type;           /* "pgsql" */
    int     uses_hosts;         /* 0: one pseudo-host (sqlite dbpath) */
    /* Read the type's own settings: 0, or -1 with dict_set_error(). */
    int     (*configure)(DICT_SQL *s, const SQL_CFG *cfg);
    /* A new connection, or NULL with *why set. */
    void   *(*connect)(DICT_SQL *s, SQL_HOST *h, VSTRING *why);
    void    (*disconnect)(void *conn);
    /* The connection's quote function (context: conn). */
    SQL_QUOTE_FN quote;
    /* Run sql; each non-NULL field goes to sql_result_add(). */
    int     (*query)(DICT_SQL *s, void *conn, const char *sql, VSTRING *why);
    void    (*free_priv)(void *priv);
} SQL_BACKEND;

struct DICT_SQL {
    DICT   *dict;
    const SQL_BACKEND *be;
    SQL_CFG *cfg;
    char   *query;              /* the query template */
    char   *result_format;
    ARGV   *domains;            /* domain = names (lowercase) */
    DICT  **domain_maps;        /* ... and type:table entries */
    size_t  domain_map_count;
    int     expansion_limit;
    int     retry_interval;
    int     idle_interval;
    SQL_HOST *hosts;
    size_t  host_count;
    void   *priv;               /* the backend's settings */
    /* per lookup */
    const char *key;
    VSTRING *sql;
    VSTRING *elem;
    VSTRING *result;
    int     count;              /* result elements so far */
    int     over_limit;
};

/* Open d (d->name: the configuration file) for backend be. */
int     dict_sql_open(DICT *d, const SQL_BACKEND *be);
int     dict_sql_get(DICT *d, const char *key, const char **value);
int     dict_sql_close(DICT *d, int commit);
/* One field of a result row (a backend's query method calls this). */
void    sql_result_add(DICT_SQL *s, const char *value);

/* Is key eligible under domain = ...? 1 yes, 0 no, -1 a table failed. */
int     sql_domain_ok(DICT_SQL *s, const char *key);

#endif
