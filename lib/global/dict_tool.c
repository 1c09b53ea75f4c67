/*
 * dict_tool.c - postmap(1), postalias(1) and newaliases: build, query,
 * dump and delete lookup tables.
 *
 * Interface: dict_tool_main() (dict_tool.h).
 *
 * Options (both commands): -c config_dir, -N/-n (with/without the
 * trailing NUL), -f (no case folding), -i (incremental, entries from
 * stdin), -o (do not run as the source file's owner), -p (do not copy
 * the source file's group/other permissions), -r (replace duplicates),
 * -w (ignore duplicates silently), -q key, -d key, -s, -v; postmap also
 * accepts -u (a no-op here: no SMTPUTF8 checks). Only one of -d -i -q -s.
 *
 * Building follows Postfix: the source file is opened first (fatal
 * "open <file>: <error>"); run by root, the command takes the source
 * file's owner and group (effective ids) unless -o, and the umask
 * removes the group/other permissions the source lacks unless -p. The
 * table is written to a temporary file and renamed in place (dict_db.c)
 * with SIGHUP/SIGINT/SIGQUIT/SIGTERM postponed meanwhile.
 *
 * SECURITY: run by root on files that other users may own; the effective
 * uid switch makes a user-owned source produce a user-owned table and
 * never lets a user's file redirect root's writes. Keys read from stdin
 * are bounded by MAP_SOURCE_LINE_MAX.
 *
 * Parameters (read once after main.cf): myhostname (YP_MASTER_NAME),
 * alias_database (newaliases), default_database_type (a file argument
 * without "type:"), berkeley_db_read_buffer_size,
 * berkeley_db_create_buffer_size.
 *
 * DIAGNOSTICS: as Postfix, fatal for what stops the command: a bad
 * parameter value, a usage error, a source file or table that cannot
 * be opened, read or written, an unsupported table type, a failed id
 * switch. Warnings for a duplicate or empty key or result in the source.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dict_tool.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "stream.h"
#include "vstring.h"

typedef struct TOOL {
    const char *prog;           /* "postmap", "postalias", "newaliases" */
    int     is_alias;
    int     flags;              /* MAP_* for dict_open */
    int     as_owner;           /* -o clears */
    int     save_perm;          /* -p clears */
    int     incremental;        /* -i */
    const char *db_type;        /* default_database_type */
} TOOL;

/* Parameters, read once after main.cf is loaded (dict_tool_main). */
static const char *var_myhostname;
static const char *var_alias_database;
static const char *var_default_database_type;
static long var_db_read_buffer_size;
static const char *var_daemon_directory;       /* dict_pgsql.so etc. */
static long var_db_create_buffer_size;

static const CONFIG_VAR tool_vars[] = {
    CONFIG_VAR_STR("myhostname", &var_myhostname),
    CONFIG_VAR_STR("alias_database", &var_alias_database),
    CONFIG_VAR_STR("default_database_type", &var_default_database_type),
    CONFIG_VAR_SIZE("berkeley_db_read_buffer_size", &var_db_read_buffer_size),
    CONFIG_VAR_SIZE("berkeley_db_create_buffer_size", &var_db_create_buffer_size),
    CONFIG_VAR_STR("daemon_directory", &var_daemon_directory),
    CONFIG_VAR_END,
};

/* tool_spec - "type:name" for an argument that may lack the type */

static char *
tool_spec(TOOL *t, const char *arg)
{
    if (strchr(arg, ':') != 0)         /* as Postfix: any colon = type:name */
        return mem_strdup(arg);
    return mem_printf("%s:%s", t->db_type, arg);
}

static DICT *
tool_open(const char *spec, int flags)
{
    char   *err;
    DICT   *d;

    if ((d = dict_open(spec, flags, &err)) == 0)
        msg_fatal("%s", err);
    return d;
}

static void
tool_empty_warn(DICT *d, const char *key, const char *value)
{
    if (*value == 0) {
        msg_warn("table %s: key %s: empty string result is not allowed",
                 dict_spec(d), key);
        msg_warn("table %s should return NO RESULT in case of NOT FOUND",
                 dict_spec(d));
    }
}

static void
tool_flush(void)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("write error on standard output: %m");
}

/* ---- building ------------------------------------------------------------- */

typedef struct BUILD {
    TOOL   *tool;
    DICT   *dict;
} BUILD;

static int
tool_build_entry(const char *key, const char *value, int lineno, void *ctx)
{
    BUILD  *b = ctx;

    if (dict_put(b->dict, key, value) < 0)
        return -2;                      /* stop; reported by the caller */
    return 0;
}

/* tool_become_owner - take the source file's owner/group, as Postfix */

static void
tool_become_owner(TOOL *t, const struct stat *st)
{
    if (!t->as_owner || getuid() != 0)
        return;
    if (st->st_uid == geteuid() && st->st_gid == getegid())
        return;
    if (setegid(st->st_gid) < 0 || seteuid(st->st_uid) < 0)
        msg_fatal("set effective uid/gid %ld/%ld: %m",
                  (long) st->st_uid, (long) st->st_gid);
}

static void
tool_restore_root(void)
{
    if (getuid() == 0 && (seteuid(0) < 0 || setegid(0) < 0))
        msg_fatal("restore root privileges: %m");
}

/* tool_alias_signatures - the "@" entry and NIS entries postalias adds */

static int
tool_alias_signatures(TOOL *t, DICT *d)
{
    int     flags = dict_get_flags(d);
    char    stamp[32];

    dict_set_flags(d, (flags & ~(MAP_DUP_WARN | MAP_DUP_IGNORE)) | MAP_DUP_REPLACE);
    if (dict_put(d, "@", "@") < 0)
        return -1;
    dict_set_flags(d, (flags & ~(MAP_DUP_WARN | MAP_DUP_IGNORE | MAP_NUL_ON))
                   | MAP_DUP_REPLACE | MAP_NUL_OFF | MAP_FOLD_NONE);
    snprintf(stamp, sizeof(stamp), "%010lld", (long long) time((time_t *) 0));
    if (dict_put(d, "YP_LAST_MODIFIED", stamp) < 0
        || dict_put(d, "YP_MASTER_NAME", var_myhostname) < 0)
        return -1;
    dict_set_flags(d, flags);
    return 0;
}

static void
tool_check_buildable(const char *spec)
{
    char   *copy = mem_strdup(spec);
    char   *colon = strchr(copy, ':');
    ARGV   *types = dict_types();
    size_t  i;
    int     known = 0;

    if (colon)
        *colon = 0;
    for (i = 0; i < types->argc; i++)
        known |= strcmp(types->argv[i], copy) == 0;
    argv_free(types);
    if (strcmp(copy, "proxy") == 0)
        msg_fatal("can't create maps via the proxy service");
    if (!known)
        msg_fatal("unsupported dictionary type: %s", copy);
    if (strcmp(copy, "hash") != 0 && strcmp(copy, "btree") != 0)
        msg_fatal("unsupported map type for this operation: %s", copy);
    mem_free(copy);
}

static void
tool_build(TOOL *t, const char *arg)
{
    char   *spec = tool_spec(t, arg);
    const char *path = strchr(spec, ':') + 1;
    char   *db_path = mem_printf("%s.db", path);
    struct stat st;
    sigset_t block, saved;
    mode_t  saved_mask = 0;
    int     fd;
    int     open_flags;
    int     status;
    BUILD   b;
    char   *err;

    tool_check_buildable(spec);
    if (t->incremental)
        fd = dup(0);
    else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        msg_fatal("open %s: %m", path);
    if (fd < 0 || fstat(fd, &st) < 0)
        msg_fatal("fstat %s: %m", t->incremental ? "stdin" : path);
    (void) close(fd);
    if (t->save_perm && S_ISREG(st.st_mode))
        saved_mask = umask(022 | (~st.st_mode & 077));
    tool_become_owner(t, &st);
    open_flags = t->flags | MAP_CREATE;
    if (t->incremental && access(db_path, F_OK) == 0)
        open_flags = t->flags | MAP_WRITE;
    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGQUIT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &saved);
    b.tool = t;
    b.dict = tool_open(spec, open_flags);
    if (t->save_perm && S_ISREG(st.st_mode))
        umask(saved_mask);
    status = map_source_read(t->incremental ? "-" : path, t->is_alias,
                             tool_build_entry, &b);
    if (status == 0 && t->is_alias)
        status = tool_alias_signatures(t, b.dict) < 0 ? -2 : 0;
    if (status != 0) {
        err = status == -2 ? mem_strdup(dict_error(b.dict))
            : mem_printf("read %s: %s", path, strerror(errno));
        dict_abort(b.dict);
        msg_fatal("%s", err);
    }
    if (dict_commit(b.dict, &err) < 0)
        msg_fatal("%s", err);
    sigprocmask(SIG_SETMASK, &saved, 0);
    tool_restore_root();
    mem_free(db_path);
    mem_free(spec);
}

/* ---- queries, deletes, dumps ------------------------------------------------ */

static int
tool_query(TOOL *t, char **maps, int count, const char *key)
{
    const char *value;
    char   *spec;
    DICT   *d;
    int     n;
    int     status;

    for (n = 0; n < count; n++) {
        spec = tool_spec(t, maps[n]);
        d = tool_open(spec, t->flags);
        mem_free(spec);
        if ((status = dict_get(d, key, &value)) == MAP_FOUND) {
            tool_empty_warn(d, key, value);
            printf("%s\n", value);
            tool_flush();
            dict_close(d);
            return 1;
        }
        if (status == MAP_FAIL)
            msg_fatal("table %s: query error: %s", dict_spec(d), dict_error(d));
        dict_close(d);
    }
    return 0;
}

/* tool_stdin_key - next line of stdin without its newline; 0 at EOF */

static int
tool_stdin_key(STREAM *in, VSTRING *key)
{
    ssize_t n = stream_gets(in, key, MAP_SOURCE_LINE_MAX);

    if (n <= 0)
        return 0;
    if (STR(key)[n - 1] == '\n')
        vstring_truncate(key, (size_t) n - 1);
    return 1;
}

static DICT **
tool_open_all(TOOL *t, char **maps, int count, int flags)
{
    DICT  **dicts = mem_array((size_t) count, sizeof(DICT *));
    char   *spec;
    int     n;

    for (n = 0; n < count; n++) {
        spec = tool_spec(t, maps[n]);
        dicts[n] = tool_open(spec, flags);
        mem_free(spec);
    }
    return dicts;
}

static void
tool_close_all(DICT **dicts, int count)
{
    int     n;

    for (n = 0; n < count; n++)
        dict_close(dicts[n]);
    mem_free(dicts);
}

static int
tool_queries(TOOL *t, char **maps, int count)
{
    STREAM *in = stream_fdopen(0);
    VSTRING *key = vstring_alloc(MAP_SOURCE_LINE_MAX);
    DICT  **dicts = tool_open_all(t, maps, count, t->flags);
    const char *value;
    int     found = 0;
    int     status;
    int     n;

    while (tool_stdin_key(in, key)) {
        for (n = 0; n < count; n++) {
            if ((status = dict_get(dicts[n], STR(key), &value)) == MAP_FOUND) {
                tool_empty_warn(dicts[n], STR(key), value);
                printf("%s%s\t%s\n", STR(key), t->is_alias ? ":" : "", value);
                found = 1;
                break;
            }
            if (status == MAP_FAIL)
                msg_fatal("table %s: query error: %s", dict_spec(dicts[n]),
                          dict_error(dicts[n]));
        }
    }
    tool_flush();
    tool_close_all(dicts, count);
    vstring_free(key);
    stream_free_keep_fd(in);
    return found;
}

static int
tool_delete_one(DICT **dicts, int count, const char *key)
{
    int     found = 0;
    int     status;
    int     n;

    for (n = 0; n < count; n++) {
        if ((status = dict_del(dicts[n], key)) == MAP_FAIL)
            msg_fatal("table %s: delete error: %s", dict_spec(dicts[n]),
                      dict_error(dicts[n]));
        found |= (status == MAP_FOUND);
    }
    return found;
}

static int
tool_delete(TOOL *t, char **maps, int count, const char *key)
{
    DICT  **dicts = tool_open_all(t, maps, count, t->flags | MAP_WRITE);
    STREAM *in;
    VSTRING *buf;
    int     found = 0;

    if (strcmp(key, "-") != 0) {
        found = tool_delete_one(dicts, count, key);
    } else {
        in = stream_fdopen(0);
        buf = vstring_alloc(MAP_SOURCE_LINE_MAX);
        while (tool_stdin_key(in, buf))
            found |= tool_delete_one(dicts, count, STR(buf));
        vstring_free(buf);
        stream_free_keep_fd(in);
    }
    tool_close_all(dicts, count);
    return found;
}

static void
tool_seq(TOOL *t, const char *arg)
{
    char   *spec = tool_spec(t, arg);
    DICT   *d;
    const char *key;
    const char *value;
    int     status;
    int     first = 1;

    if (strncmp(spec, "proxy:", 6) == 0)
        msg_fatal("can't sequence maps via the proxy service");
    d = tool_open(spec, t->flags);
    while ((status = dict_seq(d, first, &key, &value)) == MAP_FOUND) {
        first = 0;
        if (*key == 0)
            msg_warn("table %s: empty lookup key value is not allowed", spec);
        else
            tool_empty_warn(d, key, value);
        printf("%s%s\t%s\n", key, t->is_alias ? ":" : "", value);
    }
    if (status == MAP_FAIL)
        msg_fatal("table %s: sequence error: %s", spec, dict_error(d));
    tool_flush();
    dict_close(d);
    mem_free(spec);
}

/* ---- main --------------------------------------------------------------- */

static void
tool_usage(TOOL *t)
{
    msg_fatal("usage: %s [-%s] [-c config_dir] [-d key] [-q key] [map_type:]file...",
              t->prog, "Nfinoprsuvw");
}

static void
tool_stdio(void)
{
    struct stat st;
    int     fd;

    for (fd = 0; fd < 3; fd++)
        if (fstat(fd, &st) < 0 && open("/dev/null", O_RDWR) != fd)
            msg_fatal("open /dev/null: %m");
}

static void
tool_newaliases(TOOL *t)
{
    ARGV   *list = argv_split_list(var_alias_database);
    size_t  i;

    for (i = 0; i < list->argc; i++)
        tool_build(t, list->argv[i]);
    argv_free(list);
}

static void
tool_one_mode(int *mode, int ch)
{
    if (*mode)
        msg_fatal("specify only one of -d -i -q or -s");
    *mode = ch;
}

/* tool_options - parse the command line; returns the mode (0 = build) */

static int
tool_options(TOOL *t, int argc, char **argv, const char **key,
             const char **config_dir)
{
    int     ch;
    int     mode = 0;

    while ((ch = getopt(argc, argv, "Nc:d:finopq:rsuvw")) > 0) {
        switch (ch) {
        case 'N':
            t->flags = (t->flags & ~MAP_NUL_OFF) | MAP_NUL_ON;
            break;
        case 'n':
            t->flags = (t->flags & ~MAP_NUL_ON) | MAP_NUL_OFF;
            break;
        case 'c':
            *config_dir = optarg;
            break;
        case 'd':
        case 'q':
            tool_one_mode(&mode, ch);
            *key = optarg;
            break;
        case 'i':
        case 's':
            tool_one_mode(&mode, ch);
            t->incremental = (ch == 'i');
            break;
        case 'f':
            t->flags |= MAP_FOLD_NONE;
            break;
        case 'o':
            t->as_owner = 0;
            break;
        case 'p':
            t->save_perm = 0;
            break;
        case 'r':
            t->flags = (t->flags & ~(MAP_DUP_WARN | MAP_DUP_IGNORE)) | MAP_DUP_REPLACE;
            break;
        case 'w':
            t->flags = (t->flags & ~(MAP_DUP_WARN | MAP_DUP_REPLACE)) | MAP_DUP_IGNORE;
            break;
        case 'u':
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            tool_usage(t);
        }
    }
    return mode;
}

int
dict_tool_main(int argc, char **argv, int is_alias)
{
    TOOL    t;
    const char *slash = strrchr(argv[0], '/');
    const char *key = 0;
    const char *config_dir = 0;
    int     mode;
    int     n;

    umask(022);
    tool_stdio();
    memset(&t, 0, sizeof(t));
    t.prog = slash && slash[1] ? slash + 1 : argv[0];
    t.is_alias = is_alias;
    t.flags = MAP_DUP_WARN;
    t.as_owner = t.save_perm = 1;
    msg_init(t.prog, MSG_STDERR);
    if (getenv("MAIL_VERBOSE"))
        msg_verbose = 1;
    mode = tool_options(&t, argc, argv, &key, &config_dir);
    if (config_dir && setenv("MAIL_CONFIG", config_dir, 1) < 0)
        msg_fatal("out of memory");
    config_load(config_dir);
    msg_logging_init();
    config_read_vars(tool_vars);
    dict_db_cache_size((size_t) var_db_read_buffer_size, (size_t) var_db_create_buffer_size);
    dict_plugin_config(var_daemon_directory);
    t.db_type = var_default_database_type;

    if (is_alias && strcmp(t.prog, "newaliases") == 0 && optind >= argc) {
        tool_newaliases(&t);
        return 0;
    }
    if (optind >= argc)
        tool_usage(&t);
    switch (mode) {
    case 'q':
        if (strcmp(key, "-") == 0)
            return tool_queries(&t, argv + optind, argc - optind) ? 0 : 1;
        return tool_query(&t, argv + optind, argc - optind, key) ? 0 : 1;
    case 'd':
        return tool_delete(&t, argv + optind, argc - optind, key) ? 0 : 1;
    case 's':
        tool_seq(&t, argv[optind]);
        return 0;
    default:
        for (n = optind; n < argc; n++)
            tool_build(&t, argv[n]);
        return 0;
    }
}
