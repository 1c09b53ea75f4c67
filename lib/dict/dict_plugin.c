/*
 * dict_plugin.c - table types in shared objects, loaded when first used.
 *
 * The SQL types (pgsql, mysql, sqlite) need a client library each; they
 * are built as "dict_<type>.so" (lib/dict/plugin/) and installed in
 * $daemon_directory, so a daemon links libpq, libmariadb or libsqlite3
 * only when a table of that type is opened (as Postfix's dynamicmaps.cf
 * does). The programs load hash: and btree: (Berkeley DB, libdb) the same
 * way, from dict_db.so (dict_plugin_db(), called by the stub
 * lib/dict/stub/dict_db_stub.c; the unit tests link dict_db.c itself).
 * The object exports "dict_<type>_ops", a DICT_OPS; it calls back
 * into the program for mem_*, msg_*, vstring_*, argv_* and dict_* (the
 * programs export those: Makefile, lib/dict/plugin/exports.list).
 *
 * Interface (dict_impl.h): dict_plugin_config(dir) sets the directory
 * (mail_params_init and postmap pass $daemon_directory);
 * dict_plugin_find(type, &err) returns the type's DICT_OPS, loading it on
 * first use, or NULL with an allocated error: a type that is not a
 * plugin type, or whose object is missing or does not load, is an
 * "unsupported dictionary type" (the table is then unavailable and every
 * lookup a temporary failure). dict_plugin_types() adds the installed
 * ones to postconf -m's list.
 *
 * SECURITY: only the fixed type names below are loaded, through
 * lib/util/plugin.c (the configured directory only; the file must be
 * owned by root or by the process's effective user and must not be
 * writable by group or others).
 *
 * DIAGNOSTICS: none here (the error text goes to the caller).
 */
#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>

#include "dict_impl.h"
#include "mem.h"
#include "plugin.h"

static const char *const plugin_types[] = {"pgsql", "mysql", "sqlite"};

#define NPLUGINS (sizeof(plugin_types) / sizeof(plugin_types[0]))

static const DICT_OPS *plugin_ops[NPLUGINS];

void
dict_plugin_config(const char *dir)
{
    plugin_config(dir);
}

static int
dict_plugin_index(const char *type)
{
    for (size_t i = 0; i < NPLUGINS; i++)
        if (strcmp(plugin_types[i], type) == 0)
            return (int) i;
    return -1;
}

/* Load the object file of a plugin type: its DICT_OPS, or NULL with *err. */
static const DICT_OPS *
dict_plugin_load(const char *type, const char *name, char **err)
{
    char   *file = mem_printf("dict_%s.so", name);
    char   *sym = mem_printf("dict_%s_ops", type);
    char   *why;
    int     missing;
    void   *handle;
    const DICT_OPS *ops = 0;

    if ((handle = plugin_open(file, &missing, &why)) != 0) {
        if ((ops = plugin_sym(handle, file, sym, &why)) != 0 && strcmp(ops->type, type) != 0) {
            why = mem_printf("%s: no %s", file, sym);
            ops = 0;
        }
        if (ops == 0)
            (void) dlclose(handle);
    }
    if (ops == 0)
        *err = mem_printf("unsupported dictionary type: %s (%s%s%s%s)", type, why,
                          missing ? "; is the " : "", missing ? type : "",
                          missing ? " table support installed?" : "");
    mem_free(why);
    mem_free(file);
    mem_free(sym);
    return ops;
}

const DICT_OPS *
dict_plugin_find(const char *type, char **err)
{
    int     i = dict_plugin_index(type);

    *err = 0;
    if (i < 0) {
        *err = mem_printf("unsupported dictionary type: %s", type);
        return 0;
    }
    if (plugin_ops[i] == 0)
        plugin_ops[i] = dict_plugin_load(type, type, err);
    return plugin_ops[i];
}

/* hash: and btree: are both in dict_db.so. */
const DICT_OPS *
dict_plugin_db(const char *type, char **err)
{
    static const DICT_OPS *hash_ops, *btree_ops;
    const DICT_OPS **slot = strcmp(type, "hash") == 0 ? &hash_ops : &btree_ops;

    *err = 0;
    if (*slot == 0)
        *slot = dict_plugin_load(type, "db", err);
    return *slot;
}

void
dict_plugin_types(ARGV *list)
{
    struct stat st;
    char   *file, *path;

    for (size_t i = 0; i < NPLUGINS; i++) {
        file = mem_printf("dict_%s.so", plugin_types[i]);
        path = plugin_path(file);
        if (stat(path, &st) == 0)
            argv_add(list, plugin_types[i]);
        mem_free(path);
        mem_free(file);
    }
}
