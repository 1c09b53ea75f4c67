/*
 * test_maps.c - unit tests for lib/maps.c and the table types
 * (dict_db.c, dict_simple.c, dict_source.c).
 */
#include <db.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "unit.h"
#include "vstring.h"

static char tmpdir[] = "/tmp/test_maps.XXXXXX";

static int
rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    return remove(path);
}

static void
rm_tmpdir(void)
{
    (void) nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* tmp_path - a path in this test's scratch directory (see rm_tmpdir) */

static char *
tmp_path(const char *name)
{
    static int made;

    /* not "ends in X": mkdtemp's random suffix may end in X too (1 in 62) */
    if (!made) {
        if (mkdtemp(tmpdir) == 0)
            abort();
        made = 1;
    }
    return mem_printf("%s/%s", tmpdir, name);
}

static void
write_file(const char *path, const char *text)
{
    FILE   *fp = fopen(path, "w");

    if (fp == 0)
        abort();
    fputs(text, fp);
    fclose(fp);
}

/* build - a db table with two entries; returns its spec */

static char *
build(const char *type, const char *name, int flags)
{
    char   *path = tmp_path(name);
    char   *spec = mem_printf("%s:%s", type, path);
    char   *err = 0;
    DICT   *d = dict_open(spec, MAP_CREATE | MAP_DUP_WARN | flags, &err);

    CHECK(d != 0);
    if (d == 0)
        return spec;
    CHECK_INT(dict_put(d, "Alice@Example.COM", "alice-value"), 0);
    CHECK_INT(dict_put(d, "bob", "bob value with spaces"), 0);
    CHECK_INT(dict_put(d, "bob", "duplicate, ignored"), 0);
    CHECK_INT(dict_commit(d, &err), 0);
    mem_free(path);
    return spec;
}

static void
db_round_trip(const char *type)
{
    char   *spec = build(type, type, 0);
    char   *err = 0;
    DICT   *d = dict_open(spec, 0, &err);
    const char *value;
    const char *key;
    int     n = 0;

    CHECK(d != 0);
    if (d == 0)
        return;
    CHECK_INT(dict_get(d, "alice@example.com", &value), MAP_FOUND);
    CHECK_STR(value, "alice-value");
    CHECK_INT(dict_get(d, "ALICE@example.com", &value), MAP_FOUND);
    CHECK_INT(dict_get(d, "bob", &value), MAP_FOUND);
    CHECK_STR(value, "bob value with spaces");
    CHECK_INT(dict_get(d, "carol", &value), MAP_NOTFOUND);
    CHECK_INT(dict_changed(d), 0);
    while (dict_seq(d, n == 0, &key, &value) == MAP_FOUND)
        n++;
    CHECK_INT(n, 2);
    dict_close(d);

    /* Stored with the trailing NUL: a NUL-less lookup does not find it. */
    d = dict_open(spec, MAP_NUL_OFF, &err);
    CHECK(d != 0);
    CHECK_INT(dict_get(d, "bob", &value), MAP_NOTFOUND);
    dict_close(d);
    d = dict_open(spec, MAP_NUL_ON, &err);
    CHECK_INT(dict_get(d, "bob", &value), MAP_FOUND);
    dict_close(d);
    mem_free(spec);
}

UNIT_TEST(test_hash_round_trip)
{
    db_round_trip("hash");
    rm_tmpdir();
}

UNIT_TEST(test_btree_round_trip)
{
    db_round_trip("btree");
    rm_tmpdir();
}

/* The raw file holds "bob\0" -> "bob value with spaces\0", as Postfix. */

UNIT_TEST(test_hash_raw_format)
{
    char   *spec = build("hash", "raw", 0);
    char   *path = tmp_path("raw.db");
    DB     *db;
    DBT     k, v;

    CHECK_INT(db_create(&db, 0, 0), 0);
    CHECK_INT(db->open(db, 0, path, 0, DB_HASH, DB_RDONLY, 0), 0);
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    k.data = "bob";
    k.size = 4;
    CHECK_INT(db->get(db, 0, &k, &v, 0), 0);
    CHECK_INT(v.size, strlen("bob value with spaces") + 1);
    db->close(db, 0);
    mem_free(spec);
    mem_free(path);
    rm_tmpdir();
}

UNIT_TEST(test_no_nul_table)
{
    char   *spec = build("hash", "nonul", MAP_NUL_OFF);
    char   *err;
    DICT   *d = dict_open(spec, 0, &err);
    const char *value;

    CHECK_INT(dict_get(d, "bob", &value), MAP_FOUND);
    CHECK_STR(value, "bob value with spaces");
    dict_close(d);
    mem_free(spec);
    rm_tmpdir();
}

UNIT_TEST(test_fold_none)
{
    char   *path = tmp_path("nofold");
    char   *spec = mem_printf("hash:%s", path);
    char   *err;
    DICT   *d = dict_open(spec, MAP_CREATE | MAP_FOLD_NONE, &err);
    const char *value;

    CHECK_INT(dict_put(d, "MixedCase", "v"), 0);
    CHECK_INT(dict_commit(d, &err), 0);
    d = dict_open(spec, MAP_FOLD_NONE, &err);
    CHECK_INT(dict_get(d, "MixedCase", &value), MAP_FOUND);
    CHECK_INT(dict_get(d, "mixedcase", &value), MAP_NOTFOUND);
    dict_close(d);
    d = dict_open(spec, 0, &err);       /* folded lookup of a mixed-case key */
    CHECK_INT(dict_get(d, "MixedCase", &value), MAP_NOTFOUND);
    dict_close(d);
    mem_free(path);
    mem_free(spec);
    rm_tmpdir();
}

UNIT_TEST(test_update_delete_changed)
{
    char   *spec = build("hash", "upd", 0);
    char   *err;
    DICT   *reader = dict_open(spec, 0, &err);
    DICT   *w = dict_open(spec, MAP_WRITE | MAP_DUP_REPLACE, &err);
    const char *value;

    CHECK(w != 0);
    CHECK_INT(dict_put(w, "bob", "new"), 0);
    CHECK_INT(dict_del(w, "alice@example.com"), MAP_FOUND);
    CHECK_INT(dict_del(w, "nobody"), MAP_NOTFOUND);
    dict_close(w);
    CHECK_INT(dict_changed(reader), 1);
    dict_close(reader);
    reader = dict_open(spec, 0, &err);
    CHECK_INT(dict_get(reader, "bob", &value), MAP_FOUND);
    CHECK_STR(value, "new");
    CHECK_INT(dict_get(reader, "alice@example.com", &value), MAP_NOTFOUND);
    dict_close(reader);
    mem_free(build("hash", "upd", 0));  /* rebuilt: new inode */
    mem_free(spec);
    rm_tmpdir();
}

UNIT_TEST(test_missing_db)
{
    char   *err = 0;
    DICT   *d = dict_open("hash:/nonexistent/table", 0, &err);
    MAPS   *m;
    const char *value;

    CHECK(d == 0);
    CHECK_STR(err, "open database /nonexistent/table.db: No such file or directory");
    mem_free(err);
    m = maps_create("test_maps", "hash:/nonexistent/table", 0);
    CHECK_INT(maps_find(m, "key", &value), MAP_FAIL);
    CHECK_INT(maps_changed(m), 0);
    maps_free(m);
}

UNIT_TEST(test_inline)
{
    char   *err = 0;
    DICT   *d = dict_open("inline:{ Key1=value1, key2 = x, { key3 = text with spaces } }",
                          0, &err);
    const char *value;

    CHECK(d == 0);                      /* "key2 = x" is three elements */
    mem_free(err);
    d = dict_open("inline:{ Key1=value1, { key3 = text with spaces }, {k4=}}", 0, &err);
    CHECK(d != 0);
    if (d == 0)
        return;
    CHECK_INT(dict_get(d, "key1", &value), MAP_FOUND);
    CHECK_STR(value, "value1");
    CHECK_INT(dict_get(d, "KEY3", &value), MAP_FOUND);
    CHECK_STR(value, "text with spaces");
    CHECK_INT(dict_get(d, "k4", &value), MAP_FOUND);
    CHECK_STR(value, "");
    CHECK_INT(dict_get(d, "key2", &value), MAP_NOTFOUND);
    dict_close(d);
    CHECK(dict_open("inline:key=value", 0, &err) == 0);
    mem_free(err);
}

UNIT_TEST(test_static_fail_proxy)
{
    char   *err;
    DICT   *d = dict_open("static:OK", 0, &err);
    const char *value;

    CHECK_INT(dict_get(d, "anything", &value), MAP_FOUND);
    CHECK_STR(value, "OK");
    dict_close(d);
    d = dict_open("static:{ text with spaces }", 0, &err);
    CHECK_INT(dict_get(d, "x", &value), MAP_FOUND);
    CHECK_STR(value, "text with spaces");
    dict_close(d);
    d = dict_open("proxy:static:x", 0, &err);    /* looked up by proxymap */
    CHECK_STR(dict_type(d), "proxy");
    CHECK_STR(dict_name(d), "static:x");
    dict_close(d);
    d = dict_open("fail:broken", 0, &err);
    CHECK_INT(dict_get(d, "x", &value), MAP_FAIL);
    dict_close(d);
    CHECK(dict_open("nosuchtype:x", 0, &err) == 0);
    CHECK_STR(err, "unsupported dictionary type: nosuchtype");
    mem_free(err);
}

UNIT_TEST(test_texthash)
{
    char   *path = tmp_path("text");
    char   *spec = mem_printf("texthash:%s", path);
    char   *err;
    DICT   *d;
    const char *value;

    write_file(path, "# comment\n"
               "Key1   value one  \n"
               "key2 first\n"
               "  continued\n"
               "\n"
               "   # indented comment\n"
               "  more\n"
               "badline\n"
               "key1 duplicate\n"
               "\"quoted key\" q\n");
    d = dict_open(spec, 0, &err);
    CHECK(d != 0);
    if (d == 0)
        return;
    CHECK_INT(dict_get(d, "KEY1", &value), MAP_FOUND);
    CHECK_STR(value, "value one");
    CHECK_INT(dict_get(d, "key2", &value), MAP_FOUND);
    CHECK_STR(value, "first  continued  more");
    CHECK_INT(dict_get(d, "badline", &value), MAP_NOTFOUND);
    CHECK_INT(dict_get(d, "\"quoted key\"", &value), MAP_FOUND);
    CHECK_INT(dict_changed(d), 0);
    sleep(0);
    write_file(path, "other value\n");
    CHECK_INT(dict_changed(d), 1);
    dict_close(d);
    mem_free(path);
    mem_free(spec);
    rm_tmpdir();
}

static int
collect(const char *key, const char *value, int lineno, void *ctx)
{
    VSTRING *out = ctx;

    vstring_sprintf_append(out, "[%s|%s|%d]", key, value, lineno);
    return 0;
}

UNIT_TEST(test_alias_source)
{
    char   *path = tmp_path("aliases");
    VSTRING *out = vstring_alloc(VSTRING_UNLIMITED);

    write_file(path, "postmaster: root\n"
               "\"john doe\": john, jane,\n"
               "\tbob\n"
               "bad line without colon\n"
               "remote@example.com: x\n"
               "Root:   |\"/usr/bin/prog arg\"  \n"
               "empty:\n");
    CHECK_INT(map_source_read(path, 1, collect, out), 0);
    CHECK_STR(STR(out), "[postmaster|root|1][john doe|john, jane,\tbob|2]"
              "[Root||\"/usr/bin/prog arg\"|6]");
    CHECK_INT(map_source_read("/nonexistent/aliases", 1, collect, out), -1);
    vstring_free(out);
    mem_free(path);
    rm_tmpdir();
}

UNIT_TEST(test_unix_passwd)
{
    char   *err;
    DICT   *d = dict_open("unix:passwd.byname", 0, &err);
    const char *value;

    CHECK(d != 0);
    CHECK_INT(dict_get(d, "ROOT", &value), MAP_FOUND);
    CHECK(strncmp(value, "root:", 5) == 0 && strstr(value, ":0:0:") != 0);
    CHECK_INT(dict_get(d, "no-such-user-here", &value), MAP_NOTFOUND);
    dict_close(d);
    CHECK(dict_open("unix:shadow.byname", 0, &err) == 0);
    mem_free(err);
}

UNIT_TEST(test_maps_order)
{
    MAPS   *m = maps_create("test_maps", "inline:{a=1}, inline:{a=2, b=3}", 0);
    const char *value;

    CHECK_INT(maps_find(m, "a", &value), MAP_FOUND);
    CHECK_STR(value, "1");
    CHECK_INT(maps_find(m, "B", &value), MAP_FOUND);
    CHECK_STR(value, "3");
    CHECK_INT(maps_find(m, "c", &value), MAP_NOTFOUND);
    CHECK_INT(maps_is_empty(m), 0);
    maps_free(m);
    m = maps_create("empty", "", 0);
    CHECK_INT(maps_is_empty(m), 1);
    CHECK_INT(maps_find(m, "a", &value), MAP_NOTFOUND);
    maps_free(m);
    m = maps_create("failing", "fail:x, static:y", 0);
    CHECK_INT(maps_find(m, "a", &value), MAP_FAIL);
    maps_free(m);
}

/*
 * dict_changed_name() names the first open table whose file changed; the
 * table watches the file it read through a descriptor, so a path that no
 * longer resolves (as after chroot) is no change, and a file renamed
 * over the old one (postmap, postalias) is.
 */
UNIT_TEST(test_changed_name)
{
    char   *spec = build("hash", "watched", 0);
    char   *moved = mem_printf("%s.moved", tmpdir);
    char   *respec;
    MAPS   *m = maps_create("test_maps", spec, 0);

    CHECK(dict_changed_name() == 0);
    CHECK_INT(rename(tmpdir, moved), 0);
    CHECK(dict_changed_name() == 0);            /* the path is gone, the file is not */
    CHECK_INT(rename(moved, tmpdir), 0);
    respec = build("hash", "watched", 0);       /* rebuilt: renamed over */
    CHECK(dict_changed_name() != 0);
    if (dict_changed_name())
        CHECK_STR(dict_changed_name(), spec);
    CHECK_INT(maps_changed(m), 1);
    maps_free(m);
    CHECK(dict_changed_name() == 0);            /* closed tables are forgotten */
    mem_free(respec);
    mem_free(moved);
    mem_free(spec);
    rm_tmpdir();
}

UNIT_TEST(test_types)
{
    ARGV   *a = dict_types();

    CHECK(a->argc >= 7);
    CHECK_STR(a->argv[0], "hash");
    argv_free(a);
}

UNIT_TESTS {
    {"hash_round_trip", test_hash_round_trip},
    {"btree_round_trip", test_btree_round_trip},
    {"hash_raw_format", test_hash_raw_format},
    {"no_nul_table", test_no_nul_table},
    {"fold_none", test_fold_none},
    {"update_delete_changed", test_update_delete_changed},
    {"missing_db", test_missing_db},
    {"inline", test_inline},
    {"static_fail_proxy", test_static_fail_proxy},
    {"texthash", test_texthash},
    {"alias_source", test_alias_source},
    {"unix_passwd", test_unix_passwd},
    {"maps_order", test_maps_order},
    {"changed_name", test_changed_name},
    {"types", test_types},
    UNIT_END
};
