/*
 * dict_simple.c - the table types that need no database library:
 *
 *   texthash:/path        a postmap source file read into memory at open
 *   inline:{ k=v, { k = text with spaces } }
 *   static:value          every key maps to value; static:{ text }
 *   unix:passwd.byname    getpwnam(): "name:passwd:uid:gid:gecos:dir:shell";
 *                         keys with '@' are not found without a look-up
 *   unix:group.byname     getgrnam(): "name:passwd:gid:member,member"
 *   fail:reason           every lookup fails (tests, deliberate deferral)
 *
 * Interface: the DICT_OPS tables and the DICT_MEM in-memory table declared
 * in dict_impl.h; callers use dict_open() (maps.h).
 *
 * SECURITY: lookup keys may come from the network; they are only hashed
 * and compared. The texthash source and inline text come from the
 * administrator and are bounded by map_source_read() / the parameter.
 *
 * DIAGNOSTICS: nothing is fatal; a table source that cannot be read is an
 * error return; a duplicate key is a warning (with the line for texthash)
 * unless MAP_DUP_IGNORE.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>

#include "dict_impl.h"
#include "htable.h"
#include "mem.h"
#include "msg.h"

/* ---- DICT_MEM: a hash table (htable.h) with insertion-ordered walking -- */

typedef struct DICT_MEM_ENT {
    char   *key;                        /* the htable's copy */
    char   *value;
    size_t  order;                      /* index in the order array */
} DICT_MEM_ENT;

struct DICT_MEM {
    HTABLE *table;                      /* key -> DICT_MEM_ENT */
    DICT_MEM_ENT **order;               /* insertion order; NULL = deleted */
    size_t  norder;
    size_t  cap;
    size_t  walk;
};

DICT_MEM *
dict_mem_alloc(void)
{
    DICT_MEM *t = mem_alloc(sizeof(*t));

    t->table = htable_create(64);
    return t;
}

static void
dict_mem_free_ent(void *ptr)
{
    DICT_MEM_ENT *e = ptr;

    mem_free(e->value);
    mem_free(e);
}

void
dict_mem_free(DICT_MEM *t)
{
    if (t == 0)
        return;
    htable_free(t->table, dict_mem_free_ent);
    mem_free(t->order);
    mem_free(t);
}

int
dict_mem_put(DICT_MEM *t, const char *key, const char *value, int replace)
{
    DICT_MEM_ENT *e = htable_find(t->table, key);

    if (e) {
        if (replace) {
            mem_free(e->value);
            e->value = mem_strdup(value);
        }
        return 0;
    }
    e = mem_alloc(sizeof(*e));
    e->value = mem_strdup(value);
    e->key = htable_enter(t->table, key, e)->key;
    if (t->norder == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->order = mem_realloc_array(t->order, t->cap, sizeof(*t->order));
    }
    e->order = t->norder;
    t->order[t->norder++] = e;
    return 1;
}

const char *
dict_mem_get(DICT_MEM *t, const char *key)
{
    DICT_MEM_ENT *e = htable_find(t->table, key);

    return e ? e->value : 0;
}

int
dict_mem_del(DICT_MEM *t, const char *key)
{
    DICT_MEM_ENT *e = htable_find(t->table, key);

    if (e == 0)
        return MAP_NOTFOUND;
    t->order[e->order] = 0;
    (void) htable_delete(t->table, key, dict_mem_free_ent);
    return MAP_FOUND;
}

int
dict_mem_seq(DICT_MEM *t, int first, const char **key, const char **value)
{
    if (first)
        t->walk = 0;
    while (t->walk < t->norder && t->order[t->walk] == 0)
        t->walk++;
    if (t->walk >= t->norder)
        return MAP_NOTFOUND;
    *key = t->order[t->walk]->key;
    *value = t->order[t->walk]->value;
    t->walk++;
    return MAP_FOUND;
}

/* ---- methods shared by the in-memory types ---------------------------- */

typedef struct DICT_MEMTYPE {
    DICT_MEM *table;
} DICT_MEMTYPE;

static int
dict_memtype_get(DICT *d, const char *key, const char **value)
{
    DICT_MEMTYPE *p = d->priv;

    *value = dict_mem_get(p->table, key);
    return *value ? MAP_FOUND : MAP_NOTFOUND;
}

static int
dict_memtype_seq(DICT *d, int first, const char **key, const char **value)
{
    DICT_MEMTYPE *p = d->priv;

    return dict_mem_seq(p->table, first, key, value);
}

static int
dict_memtype_close(DICT *d, int commit)
{
    DICT_MEMTYPE *p = d->priv;

    if (p) {
        dict_mem_free(p->table);
        mem_free(p);
    }
    return 0;
}

/* dict_memtype_add - add one entry, folded and duplicate-checked */

static void
dict_memtype_add(DICT *d, const char *key, const char *value,
                 const char *where, int lineno)
{
    DICT_MEMTYPE *p = d->priv;
    VSTRING *folded = vstring_alloc(VSTRING_UNLIMITED);
    int     replace = (d->flags & MAP_DUP_REPLACE) != 0;

    vstring_strcpy(folded, key);
    if ((d->flags & MAP_FOLD_NONE) == 0)
        vstring_lowercase(folded);
    if (dict_mem_put(p->table, STR(folded), value, replace) == 0
        && (d->flags & (MAP_DUP_REPLACE | MAP_DUP_IGNORE)) == 0) {
        if (lineno > 0)
            msg_warn("%s, line %d: duplicate entry: \"%s\"", where, lineno,
                     STR(folded));
        else
            msg_warn("%s: duplicate entry: \"%s\"", where, STR(folded));
    }
    vstring_free(folded);
}

/* ---- texthash: ---------------------------------------------------------- */

static int
dict_texthash_line(const char *key, const char *value, int lineno, void *ctx)
{
    DICT   *d = ctx;

    dict_memtype_add(d, key, value, d->name, lineno);
    return 0;
}

static int
dict_texthash_open(DICT *d)
{
    DICT_MEMTYPE *p = mem_alloc(sizeof(*p));

    d->priv = p;
    p->table = dict_mem_alloc();
    dict_watch_file(d, d->name);
    if (map_source_read(d->name, 0, dict_texthash_line, d) < 0) {
        dict_set_error(d, "open database %s: %m", d->name);
        dict_memtype_close(d, 0);
        d->priv = 0;
        return -1;
    }
    return 0;
}

const DICT_OPS dict_texthash_ops = {
    .type = "texthash", .needs_name = 1, .open = dict_texthash_open,
    .get = dict_memtype_get, .seq = dict_memtype_seq,
    .close = dict_memtype_close,
};

/* ---- inline: ------------------------------------------------------------ */

/* dict_unbrace - "{ text }" -> "text" (in place); other text is trimmed */

static char *
dict_unbrace(char *text)
{
    char   *end;

    while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
        text++;
    end = text + strlen(text);
    while (end > text && strchr(" \t\r\n", end[-1]))
        *--end = 0;
    if (*text == '{' && end > text && end[-1] == '}') {
        end[-1] = 0;
        return dict_unbrace(text + 1);
    }
    return text;
}

static int
dict_inline_element(DICT *d, char *elem)
{
    char   *text;
    char   *eq;
    char   *key;
    char   *value;

    text = (*elem == '{') ? dict_unbrace(elem) : elem;
    if ((eq = strchr(text, '=')) == 0) {
        dict_set_error(d, "%s: \"%s\": missing '=' after attribute name",
                       d->spec, text);
        return -1;
    }
    *eq = 0;
    key = dict_unbrace(text);
    value = dict_unbrace(eq + 1);
    if (*key == 0) {
        dict_set_error(d, "%s: \"=%s\": missing attribute name", d->spec, value);
        return -1;
    }
    dict_memtype_add(d, key, value, d->spec, 0);
    return 0;
}

static int
dict_inline_open(DICT *d)
{
    DICT_MEMTYPE *p = mem_alloc(sizeof(*p));
    char   *copy = mem_strdup(d->name);
    char   *body;
    ARGV   *list;
    size_t  i;
    int     status = 0;
    size_t  len = strlen(copy);

    d->priv = p;
    p->table = dict_mem_alloc();
    if (len < 2 || copy[0] != '{' || copy[len - 1] != '}') {
        dict_set_error(d, "bad syntax: \"%s\"; need \"inline:{name=value...}\"",
                       d->spec);
        status = -1;
    } else {
        copy[len - 1] = 0;
        body = copy + 1;
        list = argv_split_list(body);
        for (i = 0; status == 0 && i < list->argc; i++)
            status = dict_inline_element(d, list->argv[i]);
        argv_free(list);
    }
    mem_free(copy);
    if (status < 0) {
        dict_memtype_close(d, 0);
        d->priv = 0;
    }
    return status;
}

const DICT_OPS dict_inline_ops = {
    .type = "inline", .needs_name = 1, .open = dict_inline_open,
    .get = dict_memtype_get, .seq = dict_memtype_seq,
    .close = dict_memtype_close,
};

/* ---- static: ------------------------------------------------------------ */

static int
dict_static_open(DICT *d)
{
    char   *copy = mem_strdup(d->name);
    size_t  len = strlen(copy);

    if (copy[0] == '{' && (len < 2 || copy[len - 1] != '}')) {
        dict_set_error(d, "bad syntax: \"%s\"; need \"static:{value}\"", d->spec);
        mem_free(copy);
        return -1;
    }
    d->priv = mem_strdup(dict_unbrace(copy));
    mem_free(copy);
    return 0;
}

static int
dict_static_get(DICT *d, const char *key, const char **value)
{
    *value = d->priv;
    return MAP_FOUND;
}

static int
dict_static_close(DICT *d, int commit)
{
    mem_free(d->priv);
    return 0;
}

const DICT_OPS dict_static_ops = {
    .type = "static", .open = dict_static_open,
    .get = dict_static_get, .close = dict_static_close,
};

/* ---- unix: ---------------------------------------------------------------- */

static int
dict_unix_open(DICT *d)
{
    if (strcmp(d->name, "passwd.byname") != 0
        && strcmp(d->name, "group.byname") != 0) {
        dict_set_error(d, "unknown table: unix:%s", d->name);
        return -1;
    }
    d->priv = vstring_alloc(VSTRING_UNLIMITED);
    return 0;
}

/* dict_unix_error - was a NULL result "no such entry" or a failure? */

static int
dict_unix_error(int err)
{
    return err == EIO || err == EINTR || err == EMFILE || err == ENFILE
        || err == ENOMEM;
}

static int
dict_unix_get(DICT *d, const char *key, const char **value)
{
    VSTRING *buf = d->priv;
    struct passwd *pw;
    struct group *gr;
    char  **mem;

    errno = 0;
    if (strcmp(d->name, "passwd.byname") == 0) {
        /*
         * A login name never contains '@': callers such as smtpd's
         * local_recipient_maps check try "user@domain" before "user", and
         * that miss would otherwise walk every NSS source (systemd userdb
         * probes half a dozen paths) for each recipient.
         */
        if (strchr(key, '@') != 0)
            return MAP_NOTFOUND;
        if ((pw = getpwnam(key)) == 0)
            goto missing;
        vstring_sprintf(buf, "%s:%s:%ld:%ld:%s:%s:%s", pw->pw_name,
                        pw->pw_passwd, (long) pw->pw_uid, (long) pw->pw_gid,
                        pw->pw_gecos, pw->pw_dir, pw->pw_shell);
    } else {
        if ((gr = getgrnam(key)) == 0)
            goto missing;
        vstring_sprintf(buf, "%s:%s:%ld:", gr->gr_name, gr->gr_passwd,
                        (long) gr->gr_gid);
        for (mem = gr->gr_mem; *mem; mem++)
            vstring_sprintf_append(buf, "%s%s", mem == gr->gr_mem ? "" : ",", *mem);
    }
    *value = STR(buf);
    return MAP_FOUND;

missing:
    if (dict_unix_error(errno)) {
        dict_set_error(d, "unix:%s: lookup of \"%s\" failed: %m", d->name, key);
        return MAP_FAIL;
    }
    return MAP_NOTFOUND;
}

static int
dict_unix_close(DICT *d, int commit)
{
    vstring_free(d->priv);
    return 0;
}

const DICT_OPS dict_unix_ops = {
    .type = "unix", .needs_name = 1, .open = dict_unix_open,
    .get = dict_unix_get, .close = dict_unix_close,
};

/* ---- fail: ---------------------------------------------------------------- */

static int
dict_fail_open(DICT *d)
{
    dict_set_error(d, "table %s: deliberate lookup failure", d->spec);
    return 0;
}

static int
dict_fail_get(DICT *d, const char *key, const char **value)
{
    dict_set_error(d, "table %s: deliberate lookup failure", d->spec);
    return MAP_FAIL;
}

const DICT_OPS dict_fail_ops = {
    .type = "fail", .open = dict_fail_open, .get = dict_fail_get,
};
