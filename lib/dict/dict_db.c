/*
 * dict_db.c - hash: and btree: tables in Berkeley DB files (name.db).
 *
 * Interface: dict_hash_ops, dict_btree_ops (dict_impl.h), used through
 * dict_open() in maps.c. The unit tests link this file; the programs
 * load it as dict_db.so from $daemon_directory when they first open a
 * hash: or btree: table (lib/dict/stub/dict_db_stub.c), so that a
 * process without such a table does not map libdb (its relocated pages
 * cost ~40 kB of private memory per process, docs/PERFORMANCE.md). The file format is Berkeley DB 5's plain DB_HASH
 * or DB_BTREE database without an environment, the format Postfix's
 * postmap writes; keys and values are written with a trailing NUL unless
 * MAP_NUL_OFF, and looked up with and then without the NUL (see maps.h).
 *
 * Locking: a separate descriptor on the .db file carries the locks
 * (flock for readers; flock and an fcntl lock for writers, see
 * dict_db_lock()):
 * shared around each lookup and for a whole dict_seq() walk, exclusive
 * for the whole life of a table opened for writing (MAP_LOCK_OP, a
 * daemon's cache: exclusive around each update, which is then synced,
 * shared around each lookup). MAP_CREATE writes a
 * temporary "name.db.tmp.<pid>" that close/commit renames over name.db,
 * so readers never see a half-built table; they notice the new file
 * through dict_changed() (the old one has no links left).
 *
 * SECURITY: lookup keys may come from the network; they are passed to
 * Berkeley DB as counted byte strings and never interpreted. Values are
 * copied out with a length bound (DICT_DB_VALUE_MAX).
 *
 * DIAGNOSTICS: nothing is fatal; a database that cannot be opened, read or
 * written is an error return with the reason in the table's error text
 * (maps.c warns with it). A duplicate key while building is a warning
 * unless MAP_DUP_IGNORE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <db.h>

#include "dict_impl.h"
#include "mem.h"
#include "msg.h"

#define DICT_DB_VALUE_MAX   (64 * 1024 * 1024)
#define DICT_DB_NELEM       4096        /* hash table size hint when creating */

typedef struct DICT_DB {
    DB     *db;
    DBC    *cursor;
    char   *path;               /* name.db */
    char   *tmp;                /* MAP_CREATE: the file being built */
    int     lock_fd;
    int     writer;             /* holds the exclusive lock */
    int     per_op;             /* MAP_LOCK_OP: writes lock (and sync) each time */
    int     seq_locked;         /* shared lock held during a dict_seq walk */
    int     try_nul;            /* 1: try with NUL */
    int     try_plain;          /* 1: try without NUL */
    VSTRING *key;
    VSTRING *val;
} DICT_DB;

/* Berkeley DB would print its own diagnostics on stderr; we report ours. */

static void
dict_db_errcall(const DB_ENV *env, const char *prefix, const char *text)
{
    if (msg_verbose)
        msg_info("Berkeley DB: %s", text);
}

/*
 * dict_db_lock - F_RDLCK, F_WRLCK or F_UNLCK; 0 or -1. Readers take the
 * flock() lock only: that is what Postfix itself takes on Linux, it is
 * per open file description (two tables on one file in one process do
 * not release each other's locks), and every writer takes it too. A
 * writer (F_WRLCK, held until close) also takes an exclusive open-file-
 * description fcntl lock, so it excludes readers that lock with fcntl.
 * A writer's locks go with its descriptor, except a MAP_LOCK_OP table's,
 * which F_UNLCK releases after each update (both locks).
 */
static int
dict_db_lock(int fd, short type)
{
    struct flock lk;
    int     op = type == F_RDLCK ? LOCK_SH : type == F_WRLCK ? LOCK_EX : LOCK_UN;

    if (type == F_WRLCK || type == F_UNLCK) {
        memset(&lk, 0, sizeof(lk));
        lk.l_type = type;
        lk.l_whence = SEEK_SET;
        while (fcntl(fd, F_OFD_SETLKW, &lk) < 0) {
            if (errno != EINTR)
                return -1;
        }
    }
    while (flock(fd, op) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

static int
dict_db_open_db(DICT *d, DICT_DB *p, DBTYPE type, const char *file,
                u_int32_t db_flags)
{
    int     ret;

    if ((ret = db_create(&p->db, 0, 0)) != 0) {
        dict_set_error(d, "create DB database handle: %s", db_strerror(ret));
        return -1;
    }
    p->db->set_errcall(p->db, dict_db_errcall);
    if ((ret = p->db->set_cachesize(p->db, 0, (u_int32_t)
                                    dict_db_cache_get(db_flags & DB_CREATE), 0)) != 0) {
        dict_set_error(d, "set DB cache size: %s", db_strerror(ret));
        return -1;
    }
    if (type == DB_HASH && (db_flags & DB_CREATE))
        (void) p->db->set_h_nelem(p->db, DICT_DB_NELEM);
    if ((ret = p->db->open(p->db, 0, file, 0, type, db_flags, 0644)) != 0) {
        dict_set_error(d, "open database %s: %s", p->path, db_strerror(ret));
        errno = ret > 0 ? ret : EINVAL;
        return -1;
    }
    return 0;
}

static int dict_db_open_existing(DICT *d, DICT_DB *p, DBTYPE type);

/*
 * dict_db_truncate - rebuild name.db in place: the fallback when the
 * directory is not writable but the existing table is (as Postfix, which
 * always rebuilds in place under its lock).
 */
static int
dict_db_truncate(DICT *d, DICT_DB *p, DBTYPE type)
{
    u_int32_t count;
    int     ret;

    if (p->db)
        (void) p->db->close(p->db, 0);
    p->db = 0;
    mem_free(p->tmp);
    p->tmp = 0;
    d->flags |= MAP_WRITE;
    if (dict_db_open_existing(d, p, type) < 0)
        return -1;
    if ((ret = p->db->truncate(p->db, 0, &count, 0)) != 0) {
        dict_set_error(d, "truncate database %s: %s", p->path, db_strerror(ret));
        return -1;
    }
    return 0;
}

/* dict_db_open_create - start a new table in a temporary file */

static int
dict_db_open_create(DICT *d, DICT_DB *p, DBTYPE type)
{
    p->tmp = mem_printf("%s.tmp.%ld", p->path, (long) getpid());
    (void) unlink(p->tmp);              /* a leftover of ours */
    if (dict_db_open_db(d, p, type, p->tmp, DB_CREATE | DB_EXCL) < 0) {
        if ((errno == EACCES || errno == EPERM || errno == EROFS)
            && faccessat(AT_FDCWD, p->path, W_OK, AT_EACCESS) == 0)
            return dict_db_truncate(d, p, type);
        return -1;
    }
    if ((p->lock_fd = open(p->tmp, O_RDWR | O_CLOEXEC)) < 0
        || dict_db_lock(p->lock_fd, F_WRLCK) < 0) {
        dict_set_error(d, "open database %s: %m", p->tmp);
        return -1;
    }
    p->writer = 1;
    return 0;
}

static int
dict_db_open_existing(DICT *d, DICT_DB *p, DBTYPE type)
{
    int     wr = (d->flags & MAP_WRITE) != 0;
    int     per_op = wr && (d->flags & MAP_LOCK_OP);

    if (per_op && access(p->path, F_OK) < 0 && errno == ENOENT
        && dict_db_open_db(d, p, type, p->path, DB_CREATE) == 0) {
        (void) p->db->close(p->db, 0);  /* an empty table, then as usual */
        p->db = 0;
    }
    if ((p->lock_fd = open(p->path, (wr ? O_RDWR : O_RDONLY) | O_CLOEXEC)) < 0) {
        dict_set_error(d, "open database %s: %m", p->path);
        return -1;
    }
    dict_watch_file(d, p->path);
    if (dict_db_lock(p->lock_fd, wr ? F_WRLCK : F_RDLCK) < 0) {
        dict_set_error(d, "lock database %s: %m", p->path);
        return -1;
    }
    if (dict_db_open_db(d, p, type, p->path, wr ? 0 : DB_RDONLY) < 0)
        return -1;
    p->per_op = per_op;
    if (wr && !per_op)
        p->writer = 1;
    else if (dict_db_lock(p->lock_fd, F_UNLCK) < 0) {
        dict_set_error(d, "unlock database %s: %m", p->path);
        return -1;
    }
    return 0;
}

static int dict_db_close(DICT *d, int commit);

static int
dict_db_open(DICT *d, DBTYPE type)
{
    DICT_DB *p = mem_alloc(sizeof(*p));
    int     status;

    d->priv = p;
    p->lock_fd = -1;
    p->path = mem_printf("%s.db", d->name);
    p->key = vstring_alloc(VSTRING_UNLIMITED);
    p->val = vstring_alloc(DICT_DB_VALUE_MAX);
    p->try_nul = (d->flags & MAP_NUL_OFF) == 0;
    p->try_plain = (d->flags & MAP_NUL_ON) == 0;
    if (!p->try_nul && !p->try_plain)
        p->try_nul = p->try_plain = 1;
    if (d->flags & MAP_CREATE)
        status = dict_db_open_create(d, p, type);
    else
        status = dict_db_open_existing(d, p, type);
    if (status < 0)
        (void) dict_db_close(d, 0);
    return status;
}

static int
dict_hash_open(DICT *d)
{
    return dict_db_open(d, DB_HASH);
}

static int
dict_btree_open(DICT *d)
{
    return dict_db_open(d, DB_BTREE);
}

/* dict_db_fill - a DBT for key with or without its trailing NUL */

static void
dict_db_fill(DBT *dbt, const char *str, int with_nul)
{
    memset(dbt, 0, sizeof(*dbt));
    dbt->data = (void *) str;
    dbt->size = (u_int32_t) strlen(str) + (with_nul ? 1 : 0);
}

/* dict_db_copy - copy a DBT into buf, dropping one trailing NUL */

static int
dict_db_copy(VSTRING *buf, const DBT *dbt)
{
    size_t  len = dbt->size;

    if (len > 0 && ((const char *) dbt->data)[len - 1] == 0)
        len--;
    return vstring_ncpy(buf, dbt->data, len);
}

/*
 * dict_db_try - one get or del attempt per allowed NUL form. Once a form
 * matched, only that form is used from then on (as Postfix).
 */
static int
dict_db_try(DICT *d, const char *key, DBT *val, int del)
{
    DICT_DB *p = d->priv;
    DBT     k;
    int     form;
    int     ret;

    for (form = 1; form >= 0; form--) {
        if ((form == 1 && !p->try_nul) || (form == 0 && !p->try_plain))
            continue;
        dict_db_fill(&k, key, form);
        memset(val, 0, sizeof(*val));
        ret = del ? p->db->del(p->db, 0, &k, 0) : p->db->get(p->db, 0, &k, val, 0);
        if (ret == 0) {
            p->try_nul = form;
            p->try_plain = !form;
            return MAP_FOUND;
        }
        if (ret != DB_NOTFOUND) {
            dict_set_error(d, "table %s: %s error: %s", d->spec,
                           del ? "delete" : "query", db_strerror(ret));
            return MAP_FAIL;
        }
    }
    return MAP_NOTFOUND;
}

static int
dict_db_get(DICT *d, const char *key, const char **value)
{
    DICT_DB *p = d->priv;
    DBT     val;
    int     status;

    if (!p->writer && !p->seq_locked && dict_db_lock(p->lock_fd, F_RDLCK) < 0) {
        dict_set_error(d, "lock database %s: %m", p->path);
        return MAP_FAIL;
    }
    status = dict_db_try(d, key, &val, 0);
    if (status == MAP_FOUND && dict_db_copy(p->val, &val) < 0) {
        dict_set_error(d, "table %s: value too long", d->spec);
        status = MAP_FAIL;
    }
    if (!p->writer && !p->seq_locked)
        (void) dict_db_lock(p->lock_fd, F_UNLCK);
    if (status == MAP_FOUND)
        *value = STR(p->val);
    return status;
}

static int
dict_db_put(DICT *d, const char *key, const char *value)
{
    DICT_DB *p = d->priv;
    int     with_nul = (d->flags & MAP_NUL_OFF) == 0;
    int     replace = (d->flags & MAP_DUP_REPLACE)
        || (d->flags & (MAP_DUP_WARN | MAP_DUP_IGNORE)) == 0;
    DBT     k;
    DBT     v;
    int     ret;

    dict_db_fill(&k, key, with_nul);
    dict_db_fill(&v, value, with_nul);
    if (p->per_op && dict_db_lock(p->lock_fd, F_WRLCK) < 0) {
        dict_set_error(d, "lock database %s: %m", p->path);
        return -1;
    }
    ret = p->db->put(p->db, 0, &k, &v, replace ? 0 : DB_NOOVERWRITE);
    if (p->per_op) {
        if (ret == 0)
            ret = p->db->sync(p->db, 0);
        (void) dict_db_lock(p->lock_fd, F_UNLCK);
    }
    if (ret == DB_KEYEXIST) {
        if ((d->flags & MAP_DUP_IGNORE) == 0)
            msg_warn("%s: duplicate entry: \"%s\"", d->spec, key);
        return 0;
    }
    if (ret != 0) {
        dict_set_error(d, "table %s: write error: %s", d->spec,
                       db_strerror(ret));
        return -1;
    }
    return 0;
}

static int
dict_db_del(DICT *d, const char *key)
{
    DICT_DB *p = d->priv;
    DBT     val;
    int     status;

    if (p->per_op && dict_db_lock(p->lock_fd, F_WRLCK) < 0) {
        dict_set_error(d, "lock database %s: %m", p->path);
        return MAP_FAIL;
    }
    status = dict_db_try(d, key, &val, 1);
    if (p->per_op) {
        if (status == MAP_FOUND && p->db->sync(p->db, 0) != 0)
            status = MAP_FAIL;
        (void) dict_db_lock(p->lock_fd, F_UNLCK);
    }
    return status;
}

static void
dict_db_seq_end(DICT_DB *p)
{
    if (p->cursor) {
        (void) p->cursor->close(p->cursor);
        p->cursor = 0;
    }
    if (p->seq_locked) {
        (void) dict_db_lock(p->lock_fd, F_UNLCK);
        p->seq_locked = 0;
    }
}

static int
dict_db_seq(DICT *d, int first, const char **key, const char **value)
{
    DICT_DB *p = d->priv;
    DBT     k;
    DBT     v;
    int     ret;

    if (first || p->cursor == 0) {
        dict_db_seq_end(p);
        if (!p->writer) {
            if (dict_db_lock(p->lock_fd, F_RDLCK) < 0) {
                dict_set_error(d, "lock database %s: %m", p->path);
                return MAP_FAIL;
            }
            p->seq_locked = 1;
        }
        if ((ret = p->db->cursor(p->db, 0, &p->cursor, 0)) != 0) {
            dict_set_error(d, "table %s: sequence error: %s", d->spec,
                           db_strerror(ret));
            dict_db_seq_end(p);
            return MAP_FAIL;
        }
    }
    memset(&k, 0, sizeof(k));
    memset(&v, 0, sizeof(v));
    ret = p->cursor->get(p->cursor, &k, &v, DB_NEXT);
    if (ret == DB_NOTFOUND) {
        dict_db_seq_end(p);
        return MAP_NOTFOUND;
    }
    if (ret != 0 || dict_db_copy(p->key, &k) < 0 || dict_db_copy(p->val, &v) < 0) {
        dict_set_error(d, "table %s: sequence error: %s", d->spec,
                       ret ? db_strerror(ret) : "record too long");
        dict_db_seq_end(p);
        return MAP_FAIL;
    }
    *key = STR(p->key);
    *value = STR(p->val);
    return MAP_FOUND;
}

static int
dict_db_sync(DICT *d)
{
    DICT_DB *p = d->priv;
    int     ret;

    if ((ret = p->db->sync(p->db, 0)) != 0) {
        dict_set_error(d, "table %s: sync error: %s", d->spec, db_strerror(ret));
        return -1;
    }
    return 0;
}

/* dict_db_publish - fsync the finished temporary file, rename it in place */

static int
dict_db_publish(DICT *d, DICT_DB *p)
{
    struct stat old;
    char   *slash;
    char   *dir;
    int     dfd;

    if (stat(p->path, &old) == 0) {     /* keep the existing file's owner/mode */
        (void) fchmod(p->lock_fd, old.st_mode & 07777);
        if (geteuid() == 0)
            (void) fchown(p->lock_fd, old.st_uid, old.st_gid);
    }
    if (fsync(p->lock_fd) < 0 || rename(p->tmp, p->path) < 0) {
        dict_set_error(d, "table %s: cannot install %s: %m", d->spec, p->path);
        return -1;
    }
    dir = mem_strdup(p->path);
    if ((slash = strrchr(dir, '/')) != 0) {
        slash[slash == dir ? 1 : 0] = 0;
        if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
            (void) fsync(dfd);
            (void) close(dfd);
        }
    }
    mem_free(dir);
    return 0;
}

static int
dict_db_close(DICT *d, int commit)
{
    DICT_DB *p = d->priv;
    int     status = 0;
    int     ret;

    if (p == 0)
        return 0;
    dict_db_seq_end(p);
    if (p->db && (ret = p->db->close(p->db, 0)) != 0 && p->tmp) {
        dict_set_error(d, "table %s: close error: %s", d->spec, db_strerror(ret));
        status = -1;
    }
    if (p->tmp) {
        if (commit && status == 0 && p->lock_fd >= 0)
            status = dict_db_publish(d, p);
        if (!commit || status < 0)
            (void) unlink(p->tmp);
    }
    if (p->lock_fd >= 0)
        (void) close(p->lock_fd);       /* releases the lock */
    mem_free(p->path);
    mem_free(p->tmp);
    vstring_free(p->key);
    vstring_free(p->val);
    mem_free(p);
    d->priv = 0;
    return status;
}

const DICT_OPS dict_hash_ops = {
    .type = "hash", .needs_name = 1, .open = dict_hash_open,
    .get = dict_db_get, .put = dict_db_put, .del = dict_db_del,
    .seq = dict_db_seq, .sync = dict_db_sync,
    .close = dict_db_close,
};

const DICT_OPS dict_btree_ops = {
    .type = "btree", .needs_name = 1, .open = dict_btree_open,
    .get = dict_db_get, .put = dict_db_put, .del = dict_db_del,
    .seq = dict_db_seq, .sync = dict_db_sync,
    .close = dict_db_close,
};
