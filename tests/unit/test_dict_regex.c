/*
 * test_dict_regex.c - unit tests for the pattern tables: regexp:
 * (dict_regexp.c, also the shared rule-file engine), pcre: (dict_pcre.c)
 * and cidr: (dict_cidr.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "maps.h"
#include "mem.h"
#include "unit.h"

/* A table from text in a scratch file; the spec is "type:/tmp/...". */
static DICT *
table_flags(const char *type, const char *text, int flags)
{
    char    path[] = "/tmp/test_dict_regex.XXXXXX";
    int     fd = mkstemp(path);
    FILE   *fp;
    char   *spec, *err = NULL;
    DICT   *d;

    if (fd < 0 || (fp = fdopen(fd, "w")) == NULL)
        abort();
    fputs(text, fp);
    fclose(fp);
    spec = mem_printf("%s:%s", type, path);
    d = dict_open(spec, flags, &err);
    if (d == NULL) {
        fprintf(stderr, "open %s: %s\n", spec, err);
        abort();
    }
    unlink(path);
    mem_free(spec);
    return d;
}

static DICT *
table(const char *type, const char *text)
{
    return table_flags(type, text, 0);
}

/* The value for key, "-" when not found, "FAIL" on failure. */
static const char *
get(DICT *d, const char *key)
{
    const char *value;
    int     st = dict_get(d, key, &value);

    return st == MAP_FOUND ? value : st == MAP_NOTFOUND ? "-" : "FAIL";
}

/* Each row: a key and get()'s answer for it, in order; the last row {0}. */
static void
check_lookups(DICT *d, const char *const (*rows)[2])
{
    for (; rows[0][0]; rows++) {
        unit_case = rows[0][0];
        CHECK_STR(get(d, rows[0][0]), rows[0][1]);
    }
    unit_case = 0;
}

static void
check_regex_basics(const char *type)
{
    DICT   *d = table(type,
                      "# comment\n"
                      "/^user@(.*)\\.example$/ OK $1\n"
                      "/^Case@x$/i case-sensitive\n"
                      "/^case@x$/ folded\n"
                      "!/\\./ no-dot\n"
                      "/^(a+)(b+)$/ ${2}-$(1) $$5\n"
                      "/multi/\n"
                      "  continued result\n"
                      "/^last/ last\n");

    check_lookups(d, (const char *const[][2]) {
        {"user@foo.example", "OK foo"},
        {"USER@Foo.Example", "OK Foo"},
        {"Case@x", "case-sensitive"},
        {"CASE@X", "folded"},
        {"nodots", "no-dot"},
        {"a.aabbb", "-"},
        {"multi.x", "continued result"},
        {"last.x", "last"},
        {"nothing.here", "-"},
        {0},
    });
    dict_close(d);
    d = table(type, "/^(a+)(b+)$/ ${2}-$(1) $$5\n");
    CHECK_STR(get(d, "aabbb"), "bbb-aa $5");
    dict_close(d);
}

UNIT_TEST(test_regexp_basics)
{
    check_regex_basics("regexp");
}

UNIT_TEST(test_pcre_basics)
{
    check_regex_basics("pcre");
}

static void
check_if_endif(const char *type)
{
    DICT   *d = table(type,
                      "if /\\.example$/\n"
                      "/^admin@/ admin-of-example\n"
                      "if !/^spam/\n"
                      "/^(.*)@b\\.example$/ b:$1\n"
                      "endif\n"
                      "endif\n"
                      "/^admin@/ other-admin\n"
                      "/./ any\n");

    check_lookups(d, (const char *const[][2]) {
        {"admin@a.example", "admin-of-example"},
        {"admin@a.test", "other-admin"},
        {"joe@b.example", "b:joe"},
        {"spammer@b.example", "any"},
        {0},
    });
    dict_close(d);
}

UNIT_TEST(test_regexp_if_endif)
{
    check_if_endif("regexp");
}

UNIT_TEST(test_pcre_if_endif)
{
    check_if_endif("pcre");
}

UNIT_TEST(test_bad_rules_skipped)
{
    /* bad syntax, missing result, $n in a negated rule, out-of-range $n */
    DICT   *d = table("pcre",
                      "/(unclosed/ broken\n"
                      "/no-result/\n"
                      "!/x/ $1\n"
                      "/(y)/ $2\n"
                      "/nodelim ok\n"
                      "/y/q unknown-flag\n"
                      "/good/ fine\n"
                      "endif\n");

    check_lookups(d, (const char *const[][2]) {
        {"good", "fine"},
        {"y", "-"},
        {"no-result", "-"},
        {0},
    });
    dict_close(d);
    d = table("regexp", "/a[/ broken\n/b/ fine\n");
    CHECK_STR(get(d, "b"), "fine");
    dict_close(d);
}

UNIT_TEST(test_pcre_flags)
{
    DICT   *d = table("pcre",
                      "/^a.c$/s dotall\n"
                      "/^ x y $/x extended\n"
                      "/a+?/U greedy\n");

    CHECK_STR(get(d, "a\nc"), "dotall");
    CHECK_STR(get(d, "xy"), "extended");
    dict_close(d);
    d = table("pcre", "/^(a+?)/U $1\n");
    CHECK_STR(get(d, "aaa"), "aaa");
    dict_close(d);
}

UNIT_TEST(test_regexp_no_folding_by_maps)
{
    /* maps must not lowercase keys for pattern tables: $1 keeps the case */
    DICT   *d = table("regexp", "/^(.*)$/ <$1>\n");

    CHECK_STR(get(d, "MiXeD"), "<MiXeD>");
    dict_close(d);
}

/* MAP_NO_REGSUB (local's alias_maps): rules with $n are skipped at open. */
static void
check_no_regsub(const char *type)
{
    DICT   *d = table_flags(type,
                            "/^run-(.*)$/ |$1\n"
                            "/^run-(.*)$/ ${1}\n"
                            "/^run-/ fallback $$1\n", MAP_NO_REGSUB);

    CHECK_STR(get(d, "run-touch /tmp/x"), "fallback $1");
    dict_close(d);
}

UNIT_TEST(test_no_regsub)
{
    check_no_regsub("regexp");
    check_no_regsub("pcre");
}

UNIT_TEST(test_cidr)
{
    DICT   *d = table("cidr",
                      "# networks\n"
                      "127.0.0.5 REJECT five\n"
                      "127.0.0.0/29 OK low\n"
                      "10.0.0.0/8 DUNNO ten\n"
                      "192.168.1.1/24 skipped (host bits)\n"
                      "2001:db8::/32 v6 doc\n"
                      "[::1] v6 loopback\n"
                      "!127.0.0.0/8 not-loopback $1\n");

    check_lookups(d, (const char *const[][2]) {
        {"127.0.0.5", "REJECT five"},
        {"127.0.0.6", "OK low"},
        {"127.0.0.9", "-"},
        {"10.200.1.1", "DUNNO ten"},
        {"192.168.1.7", "not-loopback $1"},
        {"2001:DB8:1::5", "v6 doc"},
        {"::1", "v6 loopback"},
        {"2001:db9::1", "not-loopback $1"},
        {"not an address", "-"},
        {0},
    });
    dict_close(d);
}

UNIT_TEST(test_cidr_if_endif)
{
    DICT   *d = table("cidr",
                      "if 10.0.0.0/8\n"
                      "10.1.0.0/16 ten-one\n"
                      "if !10.2.0.0/16\n"
                      "10.0.0.0/8 ten-other\n"
                      "endif\n"
                      "endif\n"
                      "0.0.0.0/0 world\n");

    check_lookups(d, (const char *const[][2]) {
        {"10.1.2.3", "ten-one"},
        {"10.3.2.3", "ten-other"},
        {"10.2.2.3", "world"},
        {"8.8.8.8", "world"},
        {0},
    });
    dict_close(d);
}

UNIT_TEST(test_missing_file)
{
    char   *err = NULL;

    CHECK(dict_open("pcre:/nonexistent/file", 0, &err) == NULL);
    CHECK(err && strstr(err, "/nonexistent/file"));
    mem_free(err);
    err = NULL;
    CHECK(dict_open("cidr:/nonexistent/file", 0, &err) == NULL);
    mem_free(err);
}

UNIT_TESTS {
    {"regexp_basics", test_regexp_basics},
    {"pcre_basics", test_pcre_basics},
    {"regexp_if_endif", test_regexp_if_endif},
    {"pcre_if_endif", test_pcre_if_endif},
    {"bad_rules_skipped", test_bad_rules_skipped},
    {"pcre_flags", test_pcre_flags},
    {"regexp_no_folding_by_maps", test_regexp_no_folding_by_maps},
    {"no_regsub", test_no_regsub},
    {"cidr", test_cidr},
    {"cidr_if_endif", test_cidr_if_endif},
    {"missing_file", test_missing_file},
    UNIT_END
};
