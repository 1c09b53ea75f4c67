/*
 * dict_plugin.c - table types in shared objects, loaded when first used.
 *
 * The SQL types (pgsql, mysql, sqlite) need a client library each; they
 * are built as "dict_<type>.so" (lib/dict/plugin/) and installed in
 * $daemon_directory, so a daemon links libpq, libmariadb or libsqlite3
 * only when a table of that type is opened (as Postfix's dynamicmaps.cf
 * does). The object exports "dict_<type>_ops", a DICT_OPS; it calls back
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
 * SECURITY: only the fixed type names below are loaded, from the
 * configured directory only; the file must be owned by root or by the
 * process's effective user and must not be writable by group or others
 * (a daemon running as root would otherwise run another user's code).
 *
 * DIAGNOSTICS: none here (the error text goes to the caller).
 */
#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict_impl.h"
#include "mem.h"

#define DICT_PLUGIN_DIR "/usr/libexec/posthorn"

static const char *const plugin_types[] = {"pgsql", "mysql", "sqlite"};

#define NPLUGINS (sizeof(plugin_types) / sizeof(plugin_types[0]))

static const DICT_OPS *plugin_ops[NPLUGINS];
static char *plugin_dir;

void
dict_plugin_config(const char *dir)
{
    mem_free(plugin_dir);
    plugin_dir = dir && *dir ? mem_strdup(dir) : NULL;
}

static char *
dict_plugin_path(const char *type)
{
    return mem_printf("%s/dict_%s.so", plugin_dir ? plugin_dir : DICT_PLUGIN_DIR, type);
}

static int
dict_plugin_index(const char *type)
{
    for (size_t i = 0; i < NPLUGINS; i++)
        if (strcmp(plugin_types[i], type) == 0)
            return (int) i;
    return -1;
}

/* The object may be loaded: 0, or -1 with *err. */
static int
dict_plugin_safe(const char *type, const char *path, char **err)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        *err = mem_printf("unsupported dictionary type: %s (%s: %m; is the "
                          "%s table support installed?)", type, path, type);
        return -1;
    }
    if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        *err = mem_printf("unsupported dictionary type: %s (%s: not owned by root, "
                          "or writable by group or others)", type, path);
        return -1;
    }
    return 0;
}

const DICT_OPS *
dict_plugin_find(const char *type, char **err)
{
    int     i = dict_plugin_index(type);
    char   *path;
    char   *sym;
    void   *handle;
    const DICT_OPS *ops = 0;

    *err = 0;
    if (i < 0) {
        *err = mem_printf("unsupported dictionary type: %s", type);
        return 0;
    }
    if (plugin_ops[i])
        return plugin_ops[i];
    path = dict_plugin_path(type);
    if (dict_plugin_safe(type, path, err) == 0) {
        if ((handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == 0) {
            *err = mem_printf("unsupported dictionary type: %s (%s)", type, dlerror());
        } else {
            sym = mem_printf("dict_%s_ops", type);
            if ((ops = dlsym(handle, sym)) == 0 || strcmp(ops->type, type) != 0) {
                *err = mem_printf("unsupported dictionary type: %s (%s: no %s)",
                                  type, path, sym);
                ops = 0;
                (void) dlclose(handle);
            }
            mem_free(sym);
        }
    }
    mem_free(path);
    return plugin_ops[i] = ops;
}

void
dict_plugin_types(ARGV *list)
{
    struct stat st;
    char   *path;

    for (size_t i = 0; i < NPLUGINS; i++) {
        path = dict_plugin_path(plugin_types[i]);
        if (stat(path, &st) == 0)
            argv_add(list, plugin_types[i]);
        mem_free(path);
    }
}
