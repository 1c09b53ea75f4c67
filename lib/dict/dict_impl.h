/*
 * dict_impl.h - private interface between maps.c and the table types
 * (dict_db.c, dict_simple.c). Not for use outside lib/dict_*.c and maps.c.
 *
 * maps.c parses "type:name" ("proxy:type:name" is type proxy), folds keys to lowercase
 * (unless MAP_FOLD_NONE) and then calls the type's methods through
 * DICT_OPS. A type's open method fills d->priv; every method may set the
 * error text with dict_set_error() before returning MAP_FAIL / -1.
 *
 * DIAGNOSTICS: none (declarations shared by the table types).
 */
#ifndef POSTHORN_DICT_IMPL_H
#define POSTHORN_DICT_IMPL_H

#include <sys/stat.h>

#include "maps.h"
#include "vstring.h"

typedef struct DICT_OPS {
    const char *type;
    int     needs_name;         /* 1: "type:" with an empty name is an error */
    /* 0 on success; -1 with dict_set_error() text on failure. */
    int     (*open)(DICT *d);
    int     (*get)(DICT *d, const char *key, const char **value);
    int     (*put)(DICT *d, const char *key, const char *value);
    int     (*del)(DICT *d, const char *key);
    int     (*seq)(DICT *d, int first, const char **key, const char **value);
    int     (*sync)(DICT *d);
    int     (*changed)(DICT *d);
    /* Release everything; commit 0: discard a MAP_CREATE table. Returns
     * 0, or -1 with dict_set_error() text when committing failed. */
    int     (*close)(DICT *d, int commit);
} DICT_OPS;

struct DICT {
    char   *spec;               /* "type:name" */
    char   *type;
    char   *name;
    int     flags;              /* MAP_* */
    const DICT_OPS *ops;
    void   *priv;               /* the type's state */
    VSTRING *error;             /* last error text */
    VSTRING *fold;              /* lowercased key */
    int     watch_fd;           /* the file behind the table, or -1 */
    struct stat watch_st;       /* ... as it was when the table was read */
    struct DICT *next;          /* every open table (dict_changed_name) */
    struct DICT *prev;
};

void    dict_set_error(DICT *d, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
/* Remember the file behind a table opened for reading (call before the
 * file is read): an open descriptor, so that dict_changed() also works
 * after chroot. A file that cannot be opened is simply not watched. */
void    dict_watch_file(DICT *d, const char *path);

extern const DICT_OPS dict_hash_ops;
extern const DICT_OPS dict_btree_ops;
extern const DICT_OPS dict_texthash_ops;
extern const DICT_OPS dict_inline_ops;
extern const DICT_OPS dict_static_ops;
extern const DICT_OPS dict_unix_ops;
extern const DICT_OPS dict_fail_ops;
extern const DICT_OPS dict_proxy_ops;

/* maps.c: the Berkeley DB cache size for a table opened now (dict_db.c). */
size_t  dict_db_cache_get(int create);

/* dict_plugin.c: types in shared objects (pgsql, mysql, sqlite). */
const DICT_OPS *dict_plugin_find(const char *type, char **err);
/* hash and btree in dict_db.so (the programs' dict_db_stub.c). */
const DICT_OPS *dict_plugin_db(const char *type, char **err);
void    dict_plugin_types(ARGV *list);

/* dict_simple.c: the in-memory table under texthash: and inline:. */
typedef struct DICT_MEM DICT_MEM;
DICT_MEM *dict_mem_alloc(void);
void    dict_mem_free(DICT_MEM *t);
/* 1 added, 0 key existed (value replaced when replace is set). */
int     dict_mem_put(DICT_MEM *t, const char *key, const char *value, int replace);
const char *dict_mem_get(DICT_MEM *t, const char *key);
int     dict_mem_del(DICT_MEM *t, const char *key);
int     dict_mem_seq(DICT_MEM *t, int first, const char **key, const char **value);

#endif
