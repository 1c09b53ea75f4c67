/*
 * maps.c - lookup tables: "type:name" dispatch, case folding, table lists.
 *
 * Interface: lib/maps.h (dict_*, maps_*). The table types live in
 * dict_db.c (hash, btree; in the daemons dict_db.so, loaded on first use
 * through stub/dict_db_stub.c, with the Berkeley DB cache sizes kept
 * here: dict_db_cache_size/get), dict_simple.c (texthash, inline, static,
 * unix, fail), dict_proxy.c (proxy: through the proxymap service),
 * dict_plugin.c (pgsql, mysql, sqlite: shared objects loaded on first
 * use); the source file parser in dict_source.c.
 *
 * A MAPS holds its tables in list order; a table that could not be
 * opened is replaced by an "unavailable" stand-in that fails every lookup
 * (so the caller defers) and reports changed once its file appears.
 *
 * SECURITY: keys come from the network (addresses). They are only
 * copied into bounded buffers and passed to the table; the length of a
 * key is limited by MAP_KEY_MAX (longer keys are "not found").
 *
 * DIAGNOSTICS: nothing is fatal here (programs that cannot do without a
 * table make that fatal themselves). A table that cannot be opened becomes
 * an "unavailable" table and is a warning ("X is unavailable. reason")
 * when opened and at each lookup; a lookup error is a warning naming the
 * table and key; a failed commit after writing is a warning with the
 * reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dict_impl.h"
#include "dict_rx.h"
#include "mem.h"
#include "msg.h"

#define MAP_KEY_MAX     (64 * 1024)

static const DICT_OPS *const dict_types_table[] = {
    &dict_hash_ops, &dict_btree_ops, &dict_texthash_ops, &dict_inline_ops,
    &dict_static_ops, &dict_unix_ops, &dict_fail_ops,
    &dict_cidr_ops, &dict_pcre_ops, &dict_regexp_ops, &dict_proxy_ops,
};

#define NTYPES (sizeof(dict_types_table) / sizeof(dict_types_table[0]))

static size_t dict_db_read_cache = 128 * 1024;          /* db_read_buffer_size */
static size_t dict_db_create_cache = 16 * 1024 * 1024;  /* db_create_buffer_size */

void
dict_db_cache_size(size_t read_size, size_t create_size)
{
    if (read_size >= 20 * 1024)
        dict_db_read_cache = read_size;
    if (create_size >= 20 * 1024)
        dict_db_create_cache = create_size;
}

size_t
dict_db_cache_get(int create)
{
    return create ? dict_db_create_cache : dict_db_read_cache;
}

void
dict_set_error(DICT *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf(d->error, fmt, ap);
    va_end(ap);
}

/* Every open table, for dict_changed_name(). */
static DICT *dict_open_list;

void
dict_watch_file(DICT *d, const char *path)
{
    if (d->flags & (MAP_CREATE | MAP_WRITE))
        return;
    if (d->watch_fd >= 0)
        (void) close(d->watch_fd);
    d->watch_fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (d->watch_fd >= 0 && fstat(d->watch_fd, &d->watch_st) < 0) {
        (void) close(d->watch_fd);
        d->watch_fd = -1;
    }
}

/*
 * The watched file was modified in place (size or mtime), or replaced
 * (postmap renames a new file over it: the old one has no links left).
 * fstat() on the descriptor works inside a chroot jail too.
 */
static int
dict_watch_changed(const DICT *d)
{
    struct stat now;

    if (d->watch_fd < 0)
        return 0;
    if (fstat(d->watch_fd, &now) < 0)
        return 1;
    return now.st_nlink == 0 || now.st_size != d->watch_st.st_size
        || now.st_mtim.tv_sec != d->watch_st.st_mtim.tv_sec
        || now.st_mtim.tv_nsec != d->watch_st.st_mtim.tv_nsec;
}

static const DICT_OPS *
dict_find_type(const char *type)
{
    size_t  i;

    for (i = 0; i < NTYPES; i++)
        if (strcmp(dict_types_table[i]->type, type) == 0)
            return dict_types_table[i];
    return 0;
}

static DICT *
dict_alloc(const char *type, const char *name, int flags)
{
    DICT   *d = mem_alloc(sizeof(*d));

    d->type = mem_strdup(type);
    d->name = mem_strdup(name);
    d->spec = mem_printf("%s:%s", type, name);
    d->flags = flags;
    d->error = vstring_alloc(1024);
    d->fold = vstring_alloc(MAP_KEY_MAX);
    d->watch_fd = -1;
    if ((d->next = dict_open_list) != 0)
        d->next->prev = d;
    dict_open_list = d;
    return d;
}

static void
dict_free(DICT *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        dict_open_list = d->next;
    if (d->next)
        d->next->prev = d->prev;
    if (d->watch_fd >= 0)
        (void) close(d->watch_fd);
    mem_free(d->spec);
    mem_free(d->type);
    mem_free(d->name);
    vstring_free(d->error);
    vstring_free(d->fold);
    mem_free(d);
}

/* dict_split - "type:name" -> type, name (pointers into a copy); for
 * "proxy:type:name" the type is "proxy" and the name "type:name". */

static char *
dict_split(const char *spec, char **name)
{
    char   *copy;
    char   *type;
    char   *colon;

    copy = mem_strdup(spec);
    type = copy;
    if ((colon = strchr(copy, ':')) == 0) {
        mem_free(copy);
        return 0;
    }
    *colon = 0;
    *name = colon + 1;
    return type;
}

DICT   *
dict_open(const char *spec, int flags, char **err)
{
    const DICT_OPS *ops;
    char   *copy;
    char   *name;
    DICT   *d;

    *err = 0;
    if ((copy = dict_split(spec, &name)) == 0) {
        *err = mem_printf("need dictionary type:name, got \"%s\"", spec);
        return 0;
    }
    if ((ops = dict_find_type(copy)) == 0 && (ops = dict_plugin_find(copy, err)) == 0) {
        mem_free(copy);
        return 0;
    }
    if (ops->needs_name && *name == 0) {
        *err = mem_printf("table %s: missing name", spec);
        mem_free(copy);
        return 0;
    }
    if ((flags & (MAP_CREATE | MAP_WRITE)) && ops->put == 0) {
        *err = mem_printf("%s:%s: table type does not support updates",
                          copy, name);
        mem_free(copy);
        return 0;
    }
    d = dict_alloc(copy, name, flags);
    mem_free(copy);
    d->ops = ops;
    if (ops->open(d) < 0) {
        *err = mem_strdup(STR(d->error));
        dict_free(d);
        return 0;
    }
    return d;
}

int
dict_commit(DICT *d, char **err)
{
    int     status = 0;

    if (err)
        *err = 0;
    if (d == 0)
        return 0;
    if (d->ops->close && (status = d->ops->close(d, 1)) < 0 && err)
        *err = mem_strdup(STR(d->error));
    dict_free(d);
    return status;
}

void
dict_close(DICT *d)
{
    char   *err;

    if (dict_commit(d, &err) < 0) {
        msg_warn("%s", err);
        mem_free(err);
    }
}

void
dict_abort(DICT *d)
{
    if (d == 0)
        return;
    if (d->ops->close)
        (void) d->ops->close(d, 0);
    dict_free(d);
}

/* dict_key - the key as the table sees it (folded unless MAP_FOLD_NONE) */

static const char *
dict_key(DICT *d, const char *key)
{
    if (d->flags & MAP_FOLD_NONE)
        return key;
    if (vstring_strcpy(d->fold, key) < 0)
        return 0;
    vstring_lowercase(d->fold);
    return STR(d->fold);
}

int
dict_get(DICT *d, const char *key, const char **value)
{
    const char *k;

    *value = 0;
    if ((k = dict_key(d, key)) == 0)
        return MAP_NOTFOUND;
    return d->ops->get(d, k, value);
}

int
dict_put(DICT *d, const char *key, const char *value)
{
    const char *k;

    if (d->ops->put == 0) {
        dict_set_error(d, "table %s: update not supported", d->spec);
        return -1;
    }
    if ((k = dict_key(d, key)) == 0) {
        dict_set_error(d, "table %s: key too long", d->spec);
        return -1;
    }
    return d->ops->put(d, k, value);
}

int
dict_del(DICT *d, const char *key)
{
    const char *k;

    if (d->ops->del == 0) {
        dict_set_error(d, "table %s: delete not supported", d->spec);
        return MAP_FAIL;
    }
    if ((k = dict_key(d, key)) == 0)
        return MAP_NOTFOUND;
    return d->ops->del(d, k);
}

int
dict_seq(DICT *d, int first, const char **key, const char **value)
{
    *key = *value = 0;
    if (d->ops->seq == 0) {
        dict_set_error(d, "table %s: sequential access not supported",
                       d->spec);
        return MAP_FAIL;
    }
    return d->ops->seq(d, first, key, value);
}

int
dict_sync(DICT *d)
{
    return d->ops->sync ? d->ops->sync(d) : 0;
}

int
dict_changed(DICT *d)
{
    return dict_watch_changed(d) || (d->ops->changed && d->ops->changed(d));
}

const char *
dict_changed_name(void)
{
    DICT   *d;

    for (d = dict_open_list; d; d = d->next)
        if (!(d->flags & (MAP_CREATE | MAP_WRITE)) && dict_changed(d))
            return d->spec;
    return 0;
}

const char *
dict_spec(const DICT *d)
{
    return d->spec;
}

const char *
dict_type(const DICT *d)
{
    return d->type;
}

const char *
dict_name(const DICT *d)
{
    return d->name;
}

int
dict_get_flags(const DICT *d)
{
    return d->flags;
}

void
dict_set_flags(DICT *d, int flags)
{
    d->flags = flags;
}

const char *
dict_error(const DICT *d)
{
    return STR(d->error);
}

ARGV   *
dict_types(void)
{
    ARGV   *a = argv_alloc();
    size_t  i;

    for (i = 0; i < NTYPES; i++)
        argv_add(a, dict_types_table[i]->type);
    dict_plugin_types(a);
    return a;
}

/*
 * The "unavailable" stand-in for a table that could not be opened. Its
 * priv is the path whose appearance counts as a change (or NULL).
 */

static int
dict_unavail_get(DICT *d, const char *key, const char **value)
{
    msg_warn("%s is unavailable. %s", d->spec, STR(d->error));
    return MAP_FAIL;
}

static int
dict_unavail_changed(DICT *d)
{
    struct stat st;

    return d->priv != 0 && stat((char *) d->priv, &st) == 0;
}

static int
dict_unavail_close(DICT *d, int commit)
{
    mem_free(d->priv);
    return 0;
}

static const DICT_OPS dict_unavail_ops = {
    .type = "unavailable",
    .get = dict_unavail_get,
    .changed = dict_unavail_changed,
    .close = dict_unavail_close,
};

static DICT *
dict_unavail(const char *spec, int flags, const char *why)
{
    DICT   *d;
    char   *name;
    char   *type;

    if ((type = dict_split(spec, &name)) == 0)
        d = dict_alloc("unknown", spec, flags);
    else {
        d = dict_alloc(type, name, flags);
        if (strcmp(type, "hash") == 0 || strcmp(type, "btree") == 0)
            d->priv = mem_printf("%s.db", name);
        else if (strcmp(type, "texthash") == 0)
            d->priv = mem_strdup(name);
        mem_free(type);
    }
    d->ops = &dict_unavail_ops;
    vstring_strcpy(d->error, why);
    return d;
}

/* ---- table lists ------------------------------------------------------ */

struct MAPS {
    char   *title;
    DICT  **dicts;
    size_t  count;
};

MAPS   *
maps_create(const char *title, const char *spec, int flags)
{
    MAPS   *m = mem_alloc(sizeof(*m));
    ARGV   *list = argv_split_list(spec ? spec : "");
    size_t  i;
    char   *err;
    DICT   *d;

    m->title = mem_strdup(title);
    m->dicts = mem_array(list->argc + 1, sizeof(DICT *));
    for (i = 0; i < list->argc; i++) {
        if ((d = dict_open(list->argv[i], flags & ~(MAP_CREATE | MAP_WRITE),
                           &err)) == 0) {
            d = dict_unavail(list->argv[i], flags, err);
            msg_warn("%s is unavailable. %s", d->spec, err);
            mem_free(err);
        }
        m->dicts[m->count++] = d;
    }
    argv_free(list);
    return m;
}

void
maps_free(MAPS *m)
{
    size_t  i;

    if (m == 0)
        return;
    for (i = 0; i < m->count; i++)
        dict_close(m->dicts[i]);
    mem_free(m->dicts);
    mem_free(m->title);
    mem_free(m);
}

/* A table of patterns (regexp:, pcre:, also behind proxy:): it is given
 * whole addresses only, never the partial keys derived from them. */
static int
maps_dict_is_pattern(const DICT *d)
{
    const char *spec = d->spec;

    if (strncmp(spec, "proxy:", 6) == 0)
        spec += 6;
    return strncmp(spec, "regexp:", 7) == 0 || strncmp(spec, "pcre:", 5) == 0;
}

/* The tables in order (fixed: not the pattern tables); MAP_*. */
static int
maps_search(MAPS *m, const char *key, const char **value, int fixed)
{
    size_t  i;
    int     status;

    *value = 0;
    for (i = 0; i < m->count; i++) {
        if (fixed && maps_dict_is_pattern(m->dicts[i]))
            continue;
        status = dict_get(m->dicts[i], key, value);
        if (status == MAP_FOUND)
            return MAP_FOUND;
        if (status == MAP_FAIL) {
            msg_warn("%s lookup error for \"%s\"", m->dicts[i]->spec, key);
            *value = 0;
            return MAP_FAIL;
        }
    }
    return MAP_NOTFOUND;
}

int
maps_find(MAPS *m, const char *key, const char **value)
{
    return maps_search(m, key, value, 0);
}

int
maps_find_fixed(MAPS *m, const char *key, const char **value)
{
    return maps_search(m, key, value, 1);
}

int
maps_is_empty(const MAPS *m)
{
    return m == 0 || m->count == 0;
}

int
maps_changed(MAPS *m)
{
    size_t  i;

    for (i = 0; m && i < m->count; i++)
        if (dict_changed(m->dicts[i]))
            return 1;
    return 0;
}

const char *
maps_title(const MAPS *m)
{
    return m->title;
}
