/*
 * plugin.h - shared objects loaded on demand from one trusted directory.
 *
 *   plugin_config(dir)        the directory ($daemon_directory; NULL or
 *                             "": the built-in /usr/libexec/posthorn)
 *   plugin_path(file)         "dir/file", allocated
 *   plugin_open(file, &missing, &err)
 *                             dlopen(dir/file) after the safety checks;
 *                             the handle, or NULL with an allocated
 *                             *err ("path: reason") and *missing set
 *                             when the file does not exist
 *   plugin_sym(handle, file, name, &err)
 *                             the address of name, or NULL with *err
 *
 * Users: the table types in shared objects (lib/dict/dict_plugin.c) and
 * the TLS support, posthorn-tls.so (lib/tls/stub/tls_load.c).
 *
 * SECURITY: only a file in the configured directory is loaded, and only
 * when it is owned by root or by the process's effective user and is
 * not writable by group or others (a daemon running as root would
 * otherwise run another user's code). The callers pass fixed names.
 *
 * DIAGNOSTICS: none here (the error text goes to the caller).
 */
#ifndef POSTHORN_PLUGIN_H
#define POSTHORN_PLUGIN_H

void    plugin_config(const char *dir);
char   *plugin_path(const char *file);
void   *plugin_open(const char *file, int *missing, char **err);
void   *plugin_sym(void *handle, const char *file, const char *name, char **err);

#endif
