/*
 * local_recipient.c - deliver one local address: aliases, then the
 * user's .forward, then the mailbox.
 *
 * Interface (local.h): local_aliases_open() opens each alias_maps table
 * once (as root, before requests). local_deliver_address() handles one
 * address at a nesting level; local_deliver_mailbox() the final mailbox
 * delivery; local_addr_split() splits an address into local part, user,
 * extension (recipient_delimiter) and domain.
 *
 * Decisions use the local part folded to lower case. A name that is
 * already being expanded on the current branch (an alias that includes
 * itself, a .forward naming its own user) is not expanded again, so the
 * expansion ends in the user's mailbox, as with Postfix.
 *
 * SECURITY: alias values are administrator data; alias_maps are opened
 * with MAP_NO_REGSUB, so a regexp:/pcre: rule cannot copy $1 (a part of
 * a remote client's address) into a command or file name: such rules are
 * skipped with a warning, as in Postfix. .forward files are read with the
 * user's effective ids, must be regular files owned by the user and not
 * group or world writable; both are bounded by LOCAL_FILE_MAX and
 * LOCAL_MAX_TOKENS, and nesting by LOCAL_MAX_LEVEL. Commands and files
 * they name run as the table owner or the user, never as root.
 *
 * DIAGNOSTICS: none fatal; a .forward or :include: file that is not a
 * regular file owned by the user or is group/world writable is skipped
 * with a warning; one that cannot be opened or read as the user is a
 * warning; an overlong one is a warning and cut.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "rewrite_clnt.h"

static MAPS **alias_maps;
static char **alias_specs;
static size_t alias_count;

void
local_aliases_open(void)
{
    ARGV   *specs = argv_split_list(var_alias_maps);
    size_t  i;

    alias_maps = mem_array(specs->argc + 1, sizeof(MAPS *));
    alias_specs = mem_array(specs->argc + 1, sizeof(char *));
    for (i = 0; i < specs->argc; i++) {
        alias_maps[i] = maps_create("alias_maps", specs->argv[i], MAP_NO_REGSUB);
        alias_specs[i] = mem_strdup(specs->argv[i]);
    }
    alias_count = specs->argc;
    argv_free(specs);
}

/*
 * The rights of an alias table: its file's owner (root for a root-owned
 * file: commands and files then run as default_privs, and an :include:
 * file's owner takes over); root for tables without a file (main.cf
 * text, administrator data); default_privs when the file cannot be found.
 */
static LOCAL_PRIV *
local_alias_owner(const char *spec)
{
    const char *s = spec, *colon;
    char   *path;
    struct stat st;
    LOCAL_PRIV *p;

    if (strncmp(s, "proxy:", 6) == 0)
        s += 6;
    if ((colon = strchr(s, ':')) == NULL || colon[1] != '/')
        return local_priv_uid(0);
    if (strncmp(s, "hash:", 5) == 0 || strncmp(s, "btree:", 6) == 0
        || strncmp(s, "dbm:", 4) == 0)
        path = mem_printf("%s.db", colon + 1);
    else if (strncmp(s, "lmdb:", 5) == 0)
        path = mem_printf("%s.lmdb", colon + 1);
    else if (strncmp(s, "cdb:", 4) == 0)
        path = mem_printf("%s.cdb", colon + 1);
    else
        path = mem_strdup(colon + 1);
    p = (stat(path, &st) == 0) ? local_priv_uid(st.st_uid) : local_priv_default();
    mem_free(path);
    return p;
}

int
local_addr_split(LOCAL_ADDR *a, const char *address, const char *delims)
{
    const char *at = strrchr(address, '@');
    size_t  n, k;

    memset(a, 0, sizeof(*a));
    a->address = mem_strdup(address);
    n = at ? (size_t) (at - address) : strlen(address);
    a->local = mem_strndup(address, n);
    for (k = 0; k < n; k++)
        a->local[k] = tolower((unsigned char) a->local[k]);
    a->domain = mem_strdup(at ? at + 1 : "");
    for (k = 1; k < n && delims && *delims; k++)
        if (strchr(delims, a->local[k]))
            break;
    if (delims && *delims && k < n) {
        a->user = mem_strndup(a->local, k);
        a->delim = mem_strndup(a->local + k, 1);
        a->extension = mem_strdup(a->local + k + 1);
    } else {
        a->user = mem_strdup(a->local);
        a->delim = mem_strdup("");
        a->extension = mem_strdup("");
    }
    return 0;
}

void
local_addr_free(LOCAL_ADDR *a)
{
    mem_free(a->address);
    mem_free(a->local);
    mem_free(a->user);
    mem_free(a->delim);
    mem_free(a->extension);
    mem_free(a->domain);
}

/* Domain of an address: one of ours (mydestination, our interfaces)? */
int
local_domain_ok(const char *domain)
{
    if (domain == NULL || *domain == 0)
        return 1;
    return resolve_local(domain);
}

/* 1 = handled (delivered, bounced or deferred), 0 = no alias. */
static int
local_try_alias(LOCAL_STATE *st, const LOCAL_ADDR *a)
{
    const char *keys[2] = {a->local, *a->extension ? a->user : NULL};
    const char *value;
    size_t  i, saved = st->path->argc;
    int     k, rc;

    if (local_path_push(st, "alias", a->local))
        return 0;                               /* self reference */
    for (k = 0; k < 2 && keys[k]; k++) {
        for (i = 0; i < alias_count; i++) {
            rc = maps_find(alias_maps[i], keys[k], &value);
            if (rc == MAP_FAIL) {
                local_result(st, a->address, DELIVER_DEFER, "4.3.0",
                             "alias database unavailable");
                local_path_pop(st, saved);
                return 1;
            }
            if (rc == MAP_FOUND) {
                char   *copy = mem_strdup(value);
                LOCAL_PRIV *owner = local_alias_owner(alias_specs[i]);
                LOCAL_CTX ctx = {LOCAL_CTX_ALIAS, owner, alias_specs[i]};

                if (owner == NULL)
                    local_result(st, a->address, DELIVER_DEFER, "4.3.5",
                                 "mail system configuration error: default_privs user unknown");
                else
                    local_deliver_list(st, a, &ctx, copy);
                local_priv_free(owner);
                mem_free(copy);
                local_path_pop(st, saved);
                return 1;
            }
        }
    }
    local_path_pop(st, saved);
    return 0;
}

/* Read one forward file with the user's ids; NULL if absent or unusable. */
static char *
local_forward_read(const LOCAL_PRIV *pw, const char *path)
{
    struct stat st;
    char   *text;
    int     fd, overflow;

    if (priv_set_euid(pw->uid, pw->gid) < 0) {
        msg_warn("cannot switch to uid %ld to read %s", (long) pw->uid, path);
        return NULL;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            msg_warn("cannot open %s: %s", path, strerror(errno));
        priv_restore_root();
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)
        || (st.st_uid != pw->uid && st.st_uid != 0) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        msg_warn("file %s is not a regular file owned by %s, or is group/world writable: skipped",
                 path, pw->name);
        close(fd);
        priv_restore_root();
        return NULL;
    }
    text = local_read_text(fd, &overflow);
    priv_restore_root();
    if (overflow)
        msg_warn("file %s is longer than %d bytes: the rest is ignored", path, LOCAL_FILE_MAX);
    return text;
}

/* Comment lines dropped, lines joined with commas; NULL when nothing is left. */
static char *
local_forward_text(const char *raw)
{
    VSTRING *out = vstring_alloc(LOCAL_FILE_MAX + 1000);
    ARGV   *lines = argv_split(raw, "\n");
    size_t  i;
    const char *p;

    for (i = 0; i < lines->argc; i++) {
        for (p = lines->argv[i]; *p == ' ' || *p == '\t'; p++)
            ;
        if (*p == '#' || *p == 0 || *p == '\r')
            continue;
        if (LEN(out))
            vstring_addch(out, ',');
        vstring_cat(out, lines->argv[i]);
    }
    argv_free(lines);
    if (LEN(out) == 0) {
        vstring_free(out);
        return NULL;
    }
    return vstring_export(out);
}

/* Was paths->argv[i] tried before? (the default forward_path names
 * $home/.forward twice when the address has no extension) */
static int
local_forward_seen(const ARGV *paths, size_t i)
{
    size_t  j;

    for (j = 0; j < i; j++)
        if (strcmp(paths->argv[j], paths->argv[i]) == 0)
            return 1;
    return 0;
}

/* 1 = a forward file took the mail, 0 = deliver to the mailbox. */
static int
local_try_forward(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_PRIV *pw)
{
    char   *expanded, *raw, *text = NULL;
    ARGV   *paths;
    size_t  i, saved = st->path->argc;
    int     done = 0;

    if (local_path_push(st, "forward", pw->name))
        return 0;
    expanded = local_expand(var_forward_path, a, pw, var_forward_expansion_filter, 0);
    paths = argv_split_list(expanded);
    for (i = 0; i < paths->argc && !done; i++) {
        if (paths->argv[i][0] != '/' || local_forward_seen(paths, i))
            continue;
        if ((raw = local_forward_read(pw, paths->argv[i])) == NULL)
            continue;
        text = local_forward_text(raw);
        mem_free(raw);
        if (text) {
            LOCAL_CTX ctx = {LOCAL_CTX_FORWARD, pw, paths->argv[i]};

            local_deliver_list(st, a, &ctx, text);
            mem_free(text);
            done = 1;
        }
    }
    argv_free(paths);
    mem_free(expanded);
    local_path_pop(st, saved);
    return done;
}

static void
local_unknown_user(LOCAL_STATE *st, const LOCAL_ADDR *a)
{
    const char *relay = var_luser_relay;
    char   *target;
    LOCAL_ADDR t;

    if (*relay == 0) {
        local_result(st, a->address, DELIVER_BOUNCE, "5.1.1",
                     "unknown user: \"%s\"", a->user);
        return;
    }
    target = local_expand(relay, a, NULL, var_forward_expansion_filter, 0);
    local_addr_split(&t, target, "");
    if (strcmp(t.local, a->local) == 0 && local_domain_ok(t.domain)) {
        local_result(st, a->address, DELIVER_BOUNCE, "5.1.1",
                     "unknown user: \"%s\"", a->user);
    } else {
        LOCAL_CTX ctx = {LOCAL_CTX_NONE, NULL, "luser_relay"};

        local_deliver_list(st, a, &ctx, target);
    }
    local_addr_free(&t);
    mem_free(target);
}

void
local_deliver_address(LOCAL_STATE *st, const char *address, int level)
{
    LOCAL_ADDR a;
    LOCAL_PRIV *pw;

    if (level > LOCAL_MAX_LEVEL) {
        local_result(st, address, DELIVER_BOUNCE, "5.4.6",
                     "possible alias database loop for %s", address);
        return;
    }
    local_addr_split(&a, address, var_recipient_delimiter);
    a.level = level;
    if (*a.local == 0) {
        local_result(st, address, DELIVER_BOUNCE, "5.1.1", "unknown user: \"\"");
    } else if (local_try_alias(st, &a) == 0) {
        if ((pw = local_priv_user(a.user)) == NULL) {
            local_unknown_user(st, &a);
        } else {
            if (local_try_forward(st, &a, pw) == 0)
                local_deliver_mailbox(st, &a, pw);
            local_priv_free(pw);
        }
    }
    local_addr_free(&a);
}

/* mailbox_command, as the user (root: default_privs, local_command_deliver). */
static void
local_mailbox_command(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_PRIV *pw,
                      const char *raw, VSTRING *dsn, VSTRING *why)
{
    char   *cmd = local_expand(raw, a, pw, var_command_expansion_filter, LOCAL_EXP_KEEP_UNKNOWN);
    int     status;

    status = local_command_deliver(st, a, pw, cmd, dsn, why);
    if (status == DELIVER_SENT) {
        local_dup_add(st, "mailbox", pw->name);
        local_result(st, a->address, status, "2.0.0", "delivered to command: %s", raw);
    } else {
        local_result(st, a->address, status, STR(dsn), "%s", STR(why));
    }
    mem_free(cmd);
}

void
local_deliver_mailbox(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_PRIV *pw)
{
    const char *command = var_mailbox_command;
    const char *home_mailbox = var_home_mailbox;
    VSTRING *dsn = vstring_alloc(16);
    VSTRING *why = vstring_alloc(LOCAL_REASON_MAX);
    int     flags = MBOX_COPY_MBOX, status;
    char   *path;

    if (local_loop_check(st, a->address) || local_dup_check(st, "mailbox", pw->name)) {
        vstring_free(dsn);
        vstring_free(why);
        return;
    }
    if (!local_header_wanted("file"))
        flags &= ~MBOX_COPY_DELIVERED;
    if (*command) {
        local_mailbox_command(st, a, pw, command, dsn, why);
    } else if (*home_mailbox && home_mailbox[strlen(home_mailbox) - 1] == '/') {
        path = mem_printf("%s/%s", pw->home, home_mailbox);
        status = local_maildir_deliver(st, pw, path, a->address, flags & ~(MBOX_COPY_FROM
                                       | MBOX_COPY_QUOTE | MBOX_COPY_BLANK), dsn, why);
        if (status == DELIVER_SENT)
            local_dup_add(st, "mailbox", pw->name);
        local_result(st, a->address, status, status ? STR(dsn) : "2.0.0", "%s",
                     status ? STR(why) : "delivered to maildir");
        mem_free(path);
    } else {
        if (*home_mailbox)
            path = mem_printf("%s/%s", pw->home, home_mailbox);
        else
            path = mem_printf("%s/%s", var_mail_spool_directory, pw->name);
        status = local_mbox_deliver(st, a, pw, path, *home_mailbox ? 2 : 1, flags, dsn, why);
        if (status == DELIVER_SENT)
            local_dup_add(st, "mailbox", pw->name);
        local_result(st, a->address, status, status ? STR(dsn) : "2.0.0", "%s",
                     status ? STR(why) : "delivered to mailbox");
        mem_free(path);
    }
    vstring_free(dsn);
    vstring_free(why);
}
