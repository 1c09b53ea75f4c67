/*
 * plugin.c - shared objects loaded on demand (see plugin.h).
 *
 * SECURITY: the ownership and mode checks in plugin_safe() come before
 * every dlopen(); RTLD_LOCAL keeps one object's symbols from another.
 */
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "plugin.h"

#define PLUGIN_DIR "/usr/libexec/posthorn"

static char *plugin_dir;

void
plugin_config(const char *dir)
{
    mem_free(plugin_dir);
    plugin_dir = dir && *dir ? mem_strdup(dir) : NULL;
}

char   *
plugin_path(const char *file)
{
    return mem_printf("%s/%s", plugin_dir ? plugin_dir : PLUGIN_DIR, file);
}

/* The object may be loaded: 0, or -1 with *err. */
static int
plugin_safe(const char *path, int *missing, char **err)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        *missing = 1;
        *err = mem_printf("%s: %m", path);
        return -1;
    }
    if ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        *err = mem_printf("%s: not owned by root, or writable by group or others", path);
        return -1;
    }
    return 0;
}

void   *
plugin_open(const char *file, int *missing, char **err)
{
    char   *path = plugin_path(file);
    void   *handle = 0;

    *missing = 0;
    *err = 0;
    if (plugin_safe(path, missing, err) == 0
        && (handle = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == 0)
        *err = mem_strdup(dlerror());
    mem_free(path);
    return handle;
}

void   *
plugin_sym(void *handle, const char *file, const char *name, char **err)
{
    void   *addr;

    *err = 0;
    if ((addr = dlsym(handle, name)) == 0)
        *err = mem_printf("%s: no %s", file, name);
    return addr;
}
