/*
 * dict_sqlite.c - "sqlite:/path" tables: an SQLite database file read
 * through libsqlite3, with the configuration file of Postfix's
 * sqlite_table(5). Built as dict_sqlite.so and loaded on first use
 * (dict_plugin.c).
 *
 * Settings: dbpath (the database file, opened read-only when the first
 * lookup needs it), and those of dict_sql.h: query, result_format,
 * domain, expansion_limit, the old table/select_field/where_field/
 * additional_conditions. A database that cannot be opened fails the
 * lookup (temporary failure) and is tried again at the next lookup.
 *
 * Interface: dict_sqlite_ops (looked up with dlsym()).
 *
 * SECURITY: the key is quoted with sqlite3_mprintf("%q").
 *
 * DIAGNOSTICS: as dict_sql_get.c; SQLite's error text is logged.
 */
#include <sqlite3.h>
#include <string.h>

#include "dict_sql.h"
#include "mem.h"
#include "msg.h"

static int
lite_configure(DICT_SQL *s, const SQL_CFG *cfg)
{
    s->retry_interval = 0;      /* a file: try it at every lookup */
    return 0;
}

static void *
lite_connect(DICT_SQL *s, SQL_HOST *h, VSTRING *why)
{
    sqlite3 *db = 0;

    if (sqlite3_open_v2(h->name, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        vstring_strcpy(why, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return 0;
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static void
lite_disconnect(void *conn)
{
    sqlite3_close(conn);
}

static void
lite_quote(void *ctx, VSTRING *out, const char *s, size_t len)
{
    char   *copy = mem_strndup(s, len);
    char   *q = sqlite3_mprintf("%q", copy);

    if (q)
        vstring_cat(out, q);
    sqlite3_free(q);
    mem_free(copy);
}

static int
lite_query(DICT_SQL *s, void *conn, const char *sql, VSTRING *why)
{
    sqlite3 *db = conn;
    sqlite3_stmt *stmt = 0;
    int     rc, n;

    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK) {
        vstring_strcpy(why, sqlite3_errmsg(db));
        sqlite3_finalize(stmt);
        return SQL_QUERY_FAIL;
    }
    n = sqlite3_column_count(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        for (int i = 0; i < n; i++)
            sql_result_add(s, (const char *) sqlite3_column_text(stmt, i));
    if (rc != SQLITE_DONE)
        vstring_strcpy(why, sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    return rc == SQLITE_DONE ? SQL_QUERY_OK : SQL_QUERY_FAIL;
}

static const SQL_BACKEND lite_backend = {
    .type = "sqlite", .uses_hosts = 0, .configure = lite_configure,
    .connect = lite_connect, .disconnect = lite_disconnect, .quote = lite_quote,
    .query = lite_query,
};

static int
lite_open(DICT *d)
{
    return dict_sql_open(d, &lite_backend);
}

const DICT_OPS dict_sqlite_ops = {
    .type = "sqlite", .needs_name = 1, .open = lite_open,
    .get = dict_sql_get, .close = dict_sql_close,
};
