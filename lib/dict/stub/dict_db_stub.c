/*
 * dict_db_stub.c - hash: and btree: in the programs: dict_db.so, loaded
 * when the first such table is opened.
 *
 * Interface: dict_hash_ops, dict_btree_ops (dict_impl.h), in place of
 * dict_db.c, which the programs do not link (Makefile: libdictprog.a).
 * The open method loads dict_db.so from $daemon_directory through
 * dict_plugin_db() (once per process), hands the table to the object's
 * DICT_OPS (d->ops) and opens it there; every later call on the table
 * goes straight to the object. A process that opens no such table never
 * maps libdb: its relocated data cost every process ~40 kB of private
 * memory (docs/PERFORMANCE.md, section 18). The daemons open their tables
 * before chroot (as Postfix does), so the object is loaded while
 * $daemon_directory is still visible.
 *
 * SECURITY: dict_plugin.c and lib/util/plugin.c load only dict_db.so from
 * the configured directory, owned by root (or the effective user) and not
 * writable by others.
 *
 * DIAGNOSTICS: an object that is missing or does not load makes the open
 * fail with "unsupported dictionary type: hash (...)" (the table is then
 * unavailable, as for a table type that is not installed).
 */
#include "dict_impl.h"
#include "mem.h"

static int
dict_db_stub_open(DICT *d, const char *type)
{
    char   *err;
    const DICT_OPS *ops = dict_plugin_db(type, &err);

    if (ops == 0) {
        dict_set_error(d, "%s", err);
        mem_free(err);
        return -1;
    }
    d->ops = ops;
    return ops->open(d);
}

static int
dict_hash_stub_open(DICT *d)
{
    return dict_db_stub_open(d, "hash");
}

static int
dict_btree_stub_open(DICT *d)
{
    return dict_db_stub_open(d, "btree");
}

/* Never called: after open, d->ops is the object's. Here for dict_open()'s
 * "does the type support updates" check before the open. */
static int
dict_db_stub_put(DICT *d, const char *key, const char *value)
{
    dict_set_error(d, "%s:%s: table not open", d->type, d->name);
    return -1;
}

const DICT_OPS dict_hash_ops = {
    .type = "hash", .needs_name = 1, .open = dict_hash_stub_open, .put = dict_db_stub_put,
};

const DICT_OPS dict_btree_ops = {
    .type = "btree", .needs_name = 1, .open = dict_btree_stub_open, .put = dict_db_stub_put,
};
