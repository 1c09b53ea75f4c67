/*
 * maps.h - lookup tables, one interface for every type.
 *
 * A table is named "type:name" as in main.cf: hash:/etc/postfix/access,
 * btree:..., texthash:/path, inline:{ key=value, { key = text with spaces } },
 * static:value, static:{ text }, unix:passwd.byname, cidr:, pcre:,
 * regexp: (dict_cidr.c, dict_pcre.c, dict_regexp.c). "proxy:type:name" is
 * looked up by the proxymap service outside any chroot jail (dict_proxy.c,
 * dict_proxy.h; updates through proxywrite). Also unix:group.byname and
 * fail:reason (every lookup fails). pgsql:, mysql: and sqlite: (a
 * configuration file as Postfix's pgsql_table(5) etc.; dict_sql.h) are
 * shared objects loaded on first use (dict_plugin.c). The postmap/postalias command logic
 * is in dict_tool.c.
 *
 * hash: and btree: are Berkeley DB files "name.db" in the format
 * Postfix's postmap writes: keys and values stored with their trailing
 * NUL when built by postmap (both forms are tried on lookup).
 *
 * Case folding as Postfix: keys are lowercased before lookup (and before
 * postmap stores them) unless the table was opened with MAP_FOLD_NONE.
 *
 * A MAPS is a list of tables searched in order ("alias_maps = hash:a,
 * hash:b"); the first hit wins.
 *
 * Lookup results distinguish "not found" from "table failed" (file
 * missing, corrupt db): callers then defer (4xx) rather than reject.
 *
 * Opening: dict_open() fails (NULL + *err) when a table cannot be opened
 * (missing .db file, bad inline syntax); postmap turns that into a fatal
 * error. maps_create() never fails: a table that cannot be opened is
 * replaced by a stand-in that logs "warning: type:name is unavailable.
 * <reason>" and answers MAP_FAIL to every lookup, as Postfix does, so a
 * daemon defers mail instead of dying or bouncing it.
 *
 * Writing (postmap): MAP_CREATE builds a new hash:/btree: file in a
 * temporary file "name.db.tmp.<pid>" in the same directory; dict_commit()
 * (or dict_close()) commits it (sync, fsync, keep an existing file's
 * owner/mode, rename over name.db), dict_abort() throws it away. When the
 * directory is not writable but name.db is, the file is rebuilt in place
 * instead. MAP_WRITE alone updates name.db in place under an exclusive
 * lock (postmap -i, -d). Readers take a shared lock (fcntl OFD + flock)
 * around each lookup. dict_changed() reports that the file
 * behind a table was replaced or modified since it was opened (size or
 * mtime differ, or it was removed or renamed over: the table keeps a
 * descriptor on the file it read, so this works after chroot too), so
 * long-running daemons can restart (dict_changed_name()).
 *
 * NUL bytes: by default writes store key and value with a trailing NUL
 * (Postfix's Linux default) and lookups try with the NUL first, then
 * without; the first form that matches is then used for that table.
 * MAP_NUL_ON (postmap -N) / MAP_NUL_OFF (-n) force one form.
 *
 * MAP_NO_REGSUB (local's alias_maps, as Postfix's DICT_FLAG_NO_REGSUB):
 * a regexp: or pcre: rule whose result refers to $1..$9 is skipped when
 * the table is opened ("<file>, line N: regular expression substitution
 * is not allowed: skipping this rule"), so text from a looked-up address
 * never reaches a result that becomes a command or a file name.
 *
 * Duplicate keys on dict_put(): MAP_DUP_WARN logs "type:name: duplicate
 * entry: "key"" and keeps the first value (postmap's default),
 * MAP_DUP_IGNORE keeps the first silently (-w), MAP_DUP_REPLACE or no DUP
 * flag at all replaces (-r, and the natural meaning for library callers).
 *
 * DIAGNOSTICS: nothing is fatal; an unavailable table or a lookup error is
 * a warning and a MAP_FAIL result for the caller to act on (usually a
 * temporary failure).
 */
#ifndef POSTHORN_MAPS_H
#define POSTHORN_MAPS_H

#include <stddef.h>
#include "argv.h"

typedef struct DICT DICT;

#define MAP_FOLD_NONE   (1 << 0)        /* do not lowercase keys */
#define MAP_CREATE      (1 << 1)        /* postmap: create/truncate */
#define MAP_WRITE       (1 << 2)        /* open for update */
#define MAP_DUP_WARN    (1 << 3)        /* warn on duplicate keys and keep the first (postmap) */
#define MAP_DUP_REPLACE (1 << 4)        /* keep the last */
#define MAP_DUP_IGNORE  (1 << 5)        /* keep the first, silently (postmap -w) */
#define MAP_NUL_ON      (1 << 6)        /* keys/values only with trailing NUL (-N) */
#define MAP_NUL_OFF     (1 << 7)        /* keys/values only without NUL (-n) */
#define MAP_NO_REGSUB   (1 << 8)        /* regexp:/pcre: rules with $n are skipped */
#define MAP_LOCK_OP     (1 << 9)        /* with MAP_WRITE: a daemon's cache (the
                                         * verify service): the file is created
                                         * when missing, locked for each operation
                                         * only (readers such as postmap -q go on),
                                         * and each update is synced */

/* Result codes. */
#define MAP_FOUND      1
#define MAP_NOTFOUND   0
#define MAP_FAIL      (-1)

/* Open one table "type:name". Returns NULL and an allocated *err on failure
 * (unknown type, missing file for types that need one at open time). */
DICT   *dict_open(const char *spec, int flags, char **err);
void    dict_close(DICT *d);
/* Lookup: on MAP_FOUND *value points to storage valid until the next call on d. */
int     dict_get(DICT *d, const char *key, const char **value);
int     dict_put(DICT *d, const char *key, const char *value);   /* 0 / -1 */
int     dict_del(DICT *d, const char *key);     /* MAP_FOUND / MAP_NOTFOUND / MAP_FAIL */
/* Iterate (postmap -s): first=1 starts over; returns MAP_FOUND until the end. */
int     dict_seq(DICT *d, int first, const char **key, const char **value);
int     dict_sync(DICT *d);
const char *dict_spec(const DICT *d);
const char *dict_error(const DICT *d);          /* text for the last MAP_FAIL */
const char *dict_type(const DICT *d);           /* "hash" ("proxy" for proxy:hash:...) */
const char *dict_name(const DICT *d);           /* "/etc/postfix/access" */
/* 1 when the file behind d was replaced or modified since open (daemons
 * then reopen or restart); 0 otherwise and for types without a file. */
int     dict_changed(DICT *d);
/* The "type:name" of the first open table (of all opened in this
 * process and not yet closed) whose file changed, or NULL: the server
 * skeleton then restarts the process between clients, as Postfix does. */
const char *dict_changed_name(void);
/* Close a table opened with MAP_CREATE and publish it: 0, or -1 with an
 * allocated *err (the temporary file is then removed). d is freed either
 * way. dict_close() does the same and logs a failure as a warning. */
int     dict_commit(DICT *d, char **err);
/* The MAP_* flags a table uses; changing them affects later calls only
 * (postalias writes its NIS entries without NUL and case folding). */
int     dict_get_flags(const DICT *d);
void    dict_set_flags(DICT *d, int flags);
/* Discard a table opened with MAP_CREATE without committing it. */
void    dict_abort(DICT *d);
/* Berkeley DB cache size for tables opened from now on (Postfix's
 * db_read_buffer_size for lookups, db_create_buffer_size for postmap). */
void    dict_db_cache_size(size_t read_size, size_t create_size);
/* Where the shared objects of the pgsql, mysql and sqlite types (and, for
 * the daemons, hash and btree: dict_db.so) are ($daemon_directory;
 * dict_plugin.c). */
void    dict_plugin_config(const char *dir);
/* Supported types, for postconf -m. */
ARGV   *dict_types(void);

typedef struct MAPS MAPS;
/* title names the parameter in log lines ("alias_maps"). spec is the
 * parameter's expanded value; an empty list gives an empty MAPS. */
MAPS   *maps_create(const char *title, const char *spec, int flags);
void    maps_free(MAPS *m);
int     maps_find(MAPS *m, const char *key, const char **value);
/* The same, skipping pattern tables (regexp:, pcre:): for the partial
 * keys of an address (user@domain without +ext, @domain, parent
 * domains, "*"), which Postfix looks up in fixed-string tables only. */
int     maps_find_fixed(MAPS *m, const char *key, const char **value);
int     maps_is_empty(const MAPS *m);
int     maps_changed(MAPS *m);                  /* any table changed (dict_changed) */
const char *maps_title(const MAPS *m);

/*
 * Parse a table source file (postmap input: "key whitespace value",
 * comments, continuation lines; with is_alias the aliases(5) form
 * "name: value, value"). path NULL or "-" reads standard input.
 * Calls fn per entry (key as written, not case-folded; for aliases the
 * name unquoted). Bad lines are logged as Postfix does
 * ("<file>, line N: expected format: key whitespace value") and skipped.
 * Returns 0 after the whole input; -1 with errno set when the file cannot
 * be opened or read (nothing logged for a failed open, the caller words
 * the error); a non-zero return of fn stops the reading and is returned.
 */
typedef int (*MAP_SOURCE_FN)(const char *key, const char *value, int lineno, void *ctx);
int     map_source_read(const char *path, int is_alias, MAP_SOURCE_FN fn, void *ctx);
/* Longest logical source line (a longer one is skipped with a warning). */
#define MAP_SOURCE_LINE_MAX (1024 * 1024)

#endif
