/*
 * dict_mysql.c - "mysql:/path" tables: MySQL/MariaDB through
 * libmariadb, with the configuration file of Postfix's mysql_table(5).
 * Built as dict_mysql.so and loaded on first use (dict_plugin.c).
 *
 * Settings (besides those of dict_sql.h: query, result_format, domain,
 * expansion_limit, retry_interval, idle_interval, the old table/
 * select_field/where_field/additional_conditions):
 *     hosts          inet:host:port, host:port, host, unix:/socket
 *                    (default localhost; a port means TCP)
 *     user, password, dbname
 *     option_file, option_group (default "client")
 *     tls_cert_file, tls_key_file, tls_CAfile, tls_CApath, tls_ciphers,
 *     tls_verify_cert (default no)
 *     require_result_set (default yes): a query that returns no result
 *                    set fails the lookup; with "no" it is not found
 * Connection attempts give up after 10 seconds, reads and writes after
 * 30.
 *
 * Interface: dict_mysql_ops (looked up with dlsym()).
 *
 * SECURITY: the key is quoted with mysql_real_escape_string() on the
 * connection that runs the query (its character set).
 *
 * DIAGNOSTICS: as dict_sql_get.c; the server's error text is logged.
 */
#include <errmsg.h>
#include <mysql.h>
#include <stdlib.h>
#include <string.h>

#include "dict_sql.h"
#include "mem.h"
#include "msg.h"

typedef struct MY_PRIV {
    const char *user;
    const char *password;
    const char *dbname;
    const char *option_file;
    const char *option_group;
    const char *tls[5];         /* key, cert, CA file, CA path, ciphers */
    int     tls_verify;
    int     require_result_set;
} MY_PRIV;

static int
my_configure(DICT_SQL *s, const SQL_CFG *cfg)
{
    MY_PRIV *p = mem_alloc(sizeof(*p));
    static const char *const tls_names[5] = {
        "tls_key_file", "tls_cert_file", "tls_CAfile", "tls_CApath", "tls_ciphers",
    };

    s->priv = p;
    p->user = sql_cfg_str(cfg, "user", 0);
    p->password = sql_cfg_str(cfg, "password", 0);
    p->dbname = sql_cfg_str(cfg, "dbname", 0);
    p->option_file = sql_cfg_str(cfg, "option_file", 0);
    p->option_group = sql_cfg_str(cfg, "option_group", "client");
    for (int i = 0; i < 5; i++)
        p->tls[i] = sql_cfg_str(cfg, tls_names[i], 0);
    if (sql_cfg_bool(cfg, "tls_verify_cert", 0, &p->tls_verify, s->dict->error) < 0
        || sql_cfg_bool(cfg, "require_result_set", 1, &p->require_result_set,
                        s->dict->error) < 0)
        return -1;
    return 0;
}

static void
my_options(MY_PRIV *p, MYSQL *m, const SQL_HOST *h)
{
    unsigned int connect_timeout = 10, rw_timeout = 30;
    my_bool verify = (my_bool) p->tls_verify;

    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rw_timeout);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rw_timeout);
    if (p->option_file && *p->option_file)
        mysql_options(m, MYSQL_READ_DEFAULT_FILE, p->option_file);
    if (p->option_group && *p->option_group)
        mysql_options(m, MYSQL_READ_DEFAULT_GROUP, p->option_group);
    if (h->kind == SQL_HOST_INET && h->port) {
        unsigned int proto = MYSQL_PROTOCOL_TCP;

        mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
    }
    if (p->tls[0] || p->tls[1] || p->tls[2] || p->tls[3] || p->tls[4]) {
        mysql_ssl_set(m, p->tls[0], p->tls[1], p->tls[2], p->tls[3], p->tls[4]);
        mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
    }
}

static void *
my_connect(DICT_SQL *s, SQL_HOST *h, VSTRING *why)
{
    MY_PRIV *p = s->priv;
    MYSQL  *m;
    int     unix_sock = h->kind == SQL_HOST_UNIX;

    if ((m = mysql_init(NULL)) == 0) {
        vstring_strcpy(why, "out of memory");
        return 0;
    }
    my_options(p, m, h);
    if (mysql_real_connect(m, unix_sock ? "localhost" : h->name, p->user, p->password,
                           p->dbname, h->port ? (unsigned) atoi(h->port) : 0,
                           unix_sock ? h->name : NULL, 0) == 0) {
        vstring_strcpy(why, mysql_error(m));
        mysql_close(m);
        return 0;
    }
    return m;
}

static void
my_disconnect(void *conn)
{
    mysql_close(conn);
}

static void
my_quote(void *ctx, VSTRING *out, const char *s, size_t len)
{
    char   *buf;

    if (len > 64 * 1024)
        len = 64 * 1024;        /* the query then overflows: suppressed */
    buf = mem_alloc(2 * len + 1);
    (void) mysql_real_escape_string(ctx, buf, s, (unsigned long) len);
    vstring_cat(out, buf);
    mem_free(buf);
}

/* A client error that means the connection is gone. */
static int
my_conn_lost(unsigned int err)
{
    return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST
        || err == CR_CONNECTION_ERROR || err == CR_CONN_HOST_ERROR;
}

static int
my_query(DICT_SQL *s, void *conn, const char *sql, VSTRING *why)
{
    MY_PRIV *p = s->priv;
    MYSQL  *m = conn;
    MYSQL_RES *res;
    MYSQL_ROW row;
    unsigned int n;

    if (mysql_real_query(m, sql, (unsigned long) strlen(sql)) != 0) {
        vstring_strcpy(why, mysql_error(m));
        return my_conn_lost(mysql_errno(m)) ? SQL_QUERY_DOWN : SQL_QUERY_FAIL;
    }
    if ((res = mysql_store_result(m)) == 0) {
        if (mysql_field_count(m) != 0) {
            vstring_strcpy(why, mysql_error(m));
            return my_conn_lost(mysql_errno(m)) ? SQL_QUERY_DOWN : SQL_QUERY_FAIL;
        }
        if (p->require_result_set) {
            vstring_strcpy(why, "the query returned no result set");
            return SQL_QUERY_FAIL;
        }
        return SQL_QUERY_OK;
    }
    n = mysql_num_fields(res);
    while ((row = mysql_fetch_row(res)) != 0)
        for (unsigned int i = 0; i < n; i++)
            sql_result_add(s, row[i]);
    mysql_free_result(res);
    while (mysql_next_result(m) == 0)           /* drain (stored procedures) */
        if ((res = mysql_store_result(m)) != 0)
            mysql_free_result(res);
    return SQL_QUERY_OK;
}

static const SQL_BACKEND my_backend = {
    .type = "mysql", .uses_hosts = 1, .configure = my_configure,
    .connect = my_connect, .disconnect = my_disconnect, .quote = my_quote,
    .query = my_query, .free_priv = mem_free,
};

static int
my_open(DICT *d)
{
    return dict_sql_open(d, &my_backend);
}

const DICT_OPS dict_mysql_ops = {
    .type = "mysql", .needs_name = 1, .open = my_open,
    .get = dict_sql_get, .close = dict_sql_close,
};
