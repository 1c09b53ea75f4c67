/*
 * test_dict_sql.c - unit tests for the SQL tables' shared code
 * (lib/dict/dict_sql.c): the configuration file parser, %-expansion of
 * query and result_format with quoting, host specifications, the old
 * select_field/table/where_field form; and dict_plugin.c: a type whose
 * shared object is not installed is an "unsupported dictionary type".
 */
#include <stdlib.h>
#include <string.h>

#include "dict_sql.h"
#include "maps.h"
#include "mem.h"
#include "unit.h"

static SQL_CFG *
cfg_of(const char *text)
{
    return sql_cfg_parse(text, strlen(text));
}

UNIT_TEST(test_cfg_parse)
{
    SQL_CFG *cfg = cfg_of("# comment\n"
                          "hosts = inet:db1:5432 unix:/run/pg/.s.PGSQL.5432\n"
                          "query = SELECT x\n"
                          "    FROM t\n"
                          "  # a comment inside\n"
                          "\tWHERE k = '%s'\n"
                          "user=mail\n"
                          "user = last wins  \n"
                          "no equals sign here\n"
                          " = no name\n"
                          "empty =\n");
    int     n;
    VSTRING *why = vstring_alloc(100);

    CHECK_STR(sql_cfg_str(cfg, "hosts", 0), "inet:db1:5432 unix:/run/pg/.s.PGSQL.5432");
    CHECK_STR(sql_cfg_str(cfg, "query", 0), "SELECT x FROM t WHERE k = '%s'");
    CHECK_STR(sql_cfg_str(cfg, "user", 0), "last wins");
    CHECK_STR(sql_cfg_str(cfg, "empty", "def"), "");
    CHECK(sql_cfg_str(cfg, "password", 0) == 0);
    CHECK_INT(sql_cfg_int(cfg, "expansion_limit", 7, 0, 100, &n, why), 0);
    CHECK_INT(n, 7);
    sql_cfg_free(cfg);
    cfg = cfg_of("expansion_limit = 3x\nretry_interval = 30\nflag = yes\n");
    CHECK_INT(sql_cfg_int(cfg, "expansion_limit", 0, 0, 100, &n, why), -1);
    CHECK(strstr(STR(why), "expansion_limit = 3x") != 0);
    CHECK_INT(sql_cfg_int(cfg, "retry_interval", 60, 0, 100, &n, why), 0);
    CHECK_INT(n, 30);
    CHECK_INT(sql_cfg_int(cfg, "retry_interval", 60, 0, 10, &n, why), -1);
    CHECK_INT(sql_cfg_bool(cfg, "flag", 0, &n, why), 0);
    CHECK_INT(n, 1);
    sql_cfg_free(cfg);
    vstring_free(why);
}

/* A quote function that doubles single quotes and brackets its output. */
static void
test_quote(void *ctx, VSTRING *out, const char *s, size_t len)
{
    vstring_addch(out, '[');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'')
            vstring_addch(out, '\'');
        vstring_addch(out, s[i]);
    }
    vstring_addch(out, ']');
}

typedef struct EXP_ROW {
    const char *fmt;
    const char *value;
    const char *key;            /* NULL: a query */
    const char *want;           /* NULL: suppressed */
} EXP_ROW;

UNIT_TEST(test_expand)
{
    static const EXP_ROW rows[] = {
        {"k = '%s'", "o'q@mail.example.com", 0, "k = '[o''q@mail.example.com]'"},
        {"%u|%d", "user@mail.example.com", 0, "[user]|[mail.example.com]"},
        {"%1.%2.%3", "user@mail.example.com", 0, "[com].[example].[mail]"},
        {"%4", "user@mail.example.com", 0, 0},
        {"%d", "bare.example.com", 0, 0},
        {"%1", "bare", 0, 0},
        {"%u", "bare", 0, "[bare]"},
        {"%u", "@example.com", 0, 0},
        {"%S %U %D", "a@b.c", 0, "[a@b.c] [a] [b.c]"},
        {"100%% %s", "x", 0, "100% [x]"},
        {"%s", "", 0, 0},
        {"trailing %", "x", 0, 0},
        /* result_format: lower case the result, upper case and digits the key */
        {"%s", "r@dest.example", "k@key.example", "r@dest.example"},
        {"%u/%d", "r@dest.example", "k@key.example", "r/dest.example"},
        {"%d", "noat", "k@key.example", 0},
        {"%D/%U/%S/%1/%2", "v", "k@key.example", "key.example/k/k@key.example/example/key"},
        {"smtp:[%s]", "relay.example", "k", "smtp:[relay.example]"},
    };
    VSTRING *out = vstring_alloc(1000);

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const EXP_ROW *r = &rows[i];
        int     ok = sql_expand(out, r->fmt, r->value, r->key,
                                r->key ? NULL : test_quote, NULL);

        unit_case = r->fmt;
        CHECK_INT(ok, r->want != 0);
        if (r->want && ok)
            CHECK_STR(STR(out), r->want);
    }
    unit_case = 0;
    vstring_free(out);
}

UNIT_TEST(test_expand_overflow)
{
    VSTRING *out = vstring_alloc(8);

    CHECK_INT(sql_expand(out, "%s%s", "abcdef", 0, 0, 0), 0);
    vstring_free(out);
}

UNIT_TEST(test_key_parts)
{
    CHECK_INT(sql_key_parts_ok("%s", "bare"), 1);
    CHECK_INT(sql_key_parts_ok("%d/%u", "bare"), 1);        /* the result's parts */
    CHECK_INT(sql_key_parts_ok("%D/%s", "bare"), 0);
    CHECK_INT(sql_key_parts_ok("%D/%s", "u@example.com"), 1);
    CHECK_INT(sql_key_parts_ok("%3.%2.%1", "u@example.com"), 0);
    CHECK_INT(sql_key_parts_ok("%U", "@example.com"), 0);
    CHECK_INT(sql_key_parts_ok("100%%", "bare"), 1);
}

UNIT_TEST(test_format_check)
{
    VSTRING *why = vstring_alloc(100);

    CHECK_INT(sql_format_check("SELECT '%s' '%u' '%d' %1 %9 %S %U %D %%", SQL_FMT_QUERY, why), 0);
    CHECK_INT(sql_format_check("SELECT '%x'", SQL_FMT_QUERY, why), -1);
    CHECK(strstr(STR(why), "\"%x\"") != 0);
    CHECK_INT(sql_format_check("%0", SQL_FMT_RESULT, why), -1);
    CHECK_INT(sql_format_check("%", SQL_FMT_RESULT, why), -1);
    vstring_free(why);
}

UNIT_TEST(test_hosts)
{
    VSTRING *why = vstring_alloc(100);
    SQL_HOST h;

#define HOST_FREE(h) do { mem_free((h).spec); mem_free((h).name); mem_free((h).port); } while (0)
    CHECK_INT(sql_host_parse("inet:db.example:5433", &h, why), 0);
    CHECK_INT(h.kind, SQL_HOST_INET);
    CHECK_STR(h.name, "db.example");
    CHECK_STR(h.port, "5433");
    HOST_FREE(h);
    CHECK_INT(sql_host_parse("db.example", &h, why), 0);
    CHECK(h.port == 0);
    HOST_FREE(h);
    CHECK_INT(sql_host_parse("[::1]:3306", &h, why), 0);
    CHECK_STR(h.name, "::1");
    CHECK_STR(h.port, "3306");
    HOST_FREE(h);
    CHECK_INT(sql_host_parse("unix:/run/mysqld/mysqld.sock", &h, why), 0);
    CHECK_INT(h.kind, SQL_HOST_UNIX);
    CHECK_STR(h.name, "/run/mysqld/mysqld.sock");
    HOST_FREE(h);
    CHECK_INT(sql_host_parse("postgresql://u@h/db", &h, why), 0);
    CHECK_INT(h.kind, SQL_HOST_URI);
    HOST_FREE(h);
    CHECK_INT(sql_host_parse("db:port", &h, why), -1);
    HOST_FREE(h);
    CHECK_INT(sql_host_parse("unix:relative", &h, why), -1);
    HOST_FREE(h);
    CHECK_INT(sql_host_parse("inet::5432", &h, why), -1);
    HOST_FREE(h);
    vstring_free(why);
}

UNIT_TEST(test_legacy_query)
{
    SQL_CFG *cfg = cfg_of("table = users\nselect_field = dest\nwhere_field = addr\n"
                          "additional_conditions = AND active = 1\n");
    VSTRING *why = vstring_alloc(100);
    char   *q = sql_legacy_query(cfg, why);

    CHECK_STR(q, "SELECT dest FROM users WHERE addr = '%s' AND active = 1");
    mem_free(q);
    sql_cfg_free(cfg);
    cfg = cfg_of("table = users\n");
    CHECK(sql_legacy_query(cfg, why) == 0);
    sql_cfg_free(cfg);
    vstring_free(why);
}

UNIT_TEST(test_domain_restriction)
{
    DICT_SQL s;

    memset(&s, 0, sizeof(s));
    CHECK_INT(sql_domain_ok(&s, "anything"), 1);      /* no domain = */
    s.domains = argv_split_list("example.com, example.net");
    CHECK_INT(sql_domain_ok(&s, "user@example.com"), 1);
    CHECK_INT(sql_domain_ok(&s, "user@EXAMPLE.NET"), 1);
    CHECK_INT(sql_domain_ok(&s, "user@sub.example.com"), 0);
    CHECK_INT(sql_domain_ok(&s, "user@example.org"), 0);
    CHECK_INT(sql_domain_ok(&s, "@example.com"), 0);
    CHECK_INT(sql_domain_ok(&s, "example.com"), 0);
    CHECK_INT(sql_domain_ok(&s, "user@"), 0);
    argv_free(s.domains);
}

UNIT_TEST(test_plugin_missing)
{
    char   *err;

    dict_plugin_config("/nonexistent-posthorn-dir");
    CHECK(dict_open("pgsql:/etc/postfix/x.cf", 0, &err) == 0);
    CHECK(strncmp(err, "unsupported dictionary type: pgsql", 34) == 0);
    mem_free(err);
    CHECK(dict_open("oracle:/x", 0, &err) == 0);
    CHECK_STR(err, "unsupported dictionary type: oracle");
    mem_free(err);
}

UNIT_TESTS {
    {"cfg_parse", test_cfg_parse},
    {"expand", test_expand},
    {"expand_overflow", test_expand_overflow},
    {"key_parts", test_key_parts},
    {"format_check", test_format_check},
    {"hosts", test_hosts},
    {"legacy_query", test_legacy_query},
    {"domain_restriction", test_domain_restriction},
    {"plugin_missing", test_plugin_missing},
    UNIT_END
};
