/*
 * local_token.c - the destinations in an alias value or .forward file.
 *
 * Interface (local.h): local_split_list() splits "a, |cmd arg, /file,
 * :include:/path, \user, "|quoted, command"" into destinations;
 * local_deliver_list() delivers each one:
 *
 *   |command        allow_mail_to_commands must name the context
 *   /file, /dir/    allow_mail_to_files; a trailing '/' means Maildir
 *   :include:/path  more destinations, read with the context's ids;
 *                   its owner's rights apply only when the context's
 *                   are root's; refused (deferred) when world writable
 *   \user           the user's mailbox, no alias or .forward expansion
 *   address         a local address (local_addr_resolve): expanded
 *                   again, in-process; any other is forwarded
 *                   (local_forward.c)
 *
 * SECURITY: the text is administrator (aliases) or user (.forward,
 * :include:) data, bounded by LOCAL_FILE_MAX and LOCAL_MAX_TOKENS.
 * Commands and files run as local_priv_run(ctx->priv): the table owner,
 * the user, or an include file's owner under root's rights; never root.
 * The duplicate filter keys them by user, uid and text, so each user's
 * own "|command" runs once even when two users' .forward files agree.
 *
 * DIAGNOSTICS: none fatal; a world-writable :include: file is a warning
 * and defers the recipient ("mail system configuration error"); other
 * refusals are recipient results only.
 */
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

/* Trim white space and, when the whole token is quoted, the quotes. */
static void
local_token_add(ARGV *out, VSTRING *tok, int max)
{
    char   *s = STR(tok), *e = s + LEN(tok);

    while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    if (e > s && (int) out->argc < max)
        argv_addn(out, s, (size_t) (e - s));
    vstring_reset(tok);
}

ARGV   *
local_split_list(const char *text, int max)
{
    ARGV   *out = argv_alloc();
    VSTRING *tok = vstring_alloc(LOCAL_FILE_MAX);
    const char *p;
    int     quoted = 0;             /* 1 inside quotes, 2 inside a whole-token quote */

    for (p = text; *p; p++) {
        if (*p == '"') {
            if (!quoted && LEN(tok) == strspn(STR(tok), " \t\r\n")) {
                vstring_reset(tok);             /* "|command, with comma" */
                quoted = 2;
            } else if (quoted == 2) {
                quoted = 0;
            } else {
                vstring_addch(tok, '"');
                quoted = !quoted;
            }
            continue;
        }
        if (*p == '\\' && quoted && p[1]) {
            vstring_addch(tok, *++p);
            continue;
        }
        if (*p == ',' && !quoted) {
            local_token_add(out, tok, max);
            continue;
        }
        vstring_addch(tok, *p);
    }
    local_token_add(out, tok, max);
    vstring_free(tok);
    return out;
}

int
local_ctx_allowed(const char *allowed, int type)
{
    const char *name = type == LOCAL_CTX_ALIAS ? "alias"
        : type == LOCAL_CTX_FORWARD ? "forward"
        : type == LOCAL_CTX_INCLUDE ? "include" : NULL;
    ARGV   *list;
    size_t  i;
    int     ok = 0;

    if (name == NULL)
        return 0;
    list = argv_split_list(allowed);
    for (i = 0; i < list->argc; i++)
        if (strcasecmp(list->argv[i], name) == 0)
            ok = 1;
    argv_free(list);
    return ok;
}

/* Duplicate filter key of a command or file: the user and uid it is
 * delivered for, and the text (as Postfix: one run per user). */
static char *
local_dup_key(const LOCAL_ADDR *a, const LOCAL_CTX *ctx, const char *what)
{
    return mem_printf("%s:%ld %s", a->user, (long) ctx->priv->uid, what);
}

static void
local_deliver_command(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_CTX *ctx,
                      const char *command)
{
    VSTRING *dsn, *why;
    char   *key;
    int     status;

    if (!local_ctx_allowed(var_allow_mail_to_commands, ctx->type)) {
        local_result(st, a->address, DELIVER_BOUNCE, "5.7.1",
                     "mail to command is restricted");
        return;
    }
    key = local_dup_key(a, ctx, command);
    if (local_loop_check(st, a->address) || local_dup_check(st, "command", key)) {
        mem_free(key);
        return;
    }
    dsn = vstring_alloc(16);
    why = vstring_alloc(LOCAL_REASON_MAX);
    status = local_command_deliver(st, a, ctx->priv, command, dsn, why);
    if (status == DELIVER_SENT) {
        local_dup_add(st, "command", key);
        local_result(st, a->address, status, "2.0.0", "delivered to command: %s", command);
    } else {
        local_result(st, a->address, status, STR(dsn), "%s", STR(why));
    }
    mem_free(key);
    vstring_free(dsn);
    vstring_free(why);
}

static void
local_deliver_file(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_CTX *ctx,
                   const char *path)
{
    int     is_dir = path[strlen(path) - 1] == '/';
    int     flags = MBOX_COPY_MBOX, status;
    VSTRING *dsn, *why;
    LOCAL_PRIV *run;
    char   *key;

    if (!local_ctx_allowed(var_allow_mail_to_files, ctx->type)) {
        local_result(st, a->address, DELIVER_BOUNCE, "5.7.1", "mail to file is restricted");
        return;
    }
    key = local_dup_key(a, ctx, path);
    if (local_loop_check(st, a->address) || local_dup_check(st, "file", key)) {
        mem_free(key);
        return;
    }
    if ((run = local_priv_run(ctx->priv)) == NULL) {
        local_result(st, a->address, DELIVER_DEFER, "4.3.5",
                     "mail system configuration error: default_privs user unknown");
        mem_free(key);
        return;
    }
    if (!local_header_wanted("file"))
        flags &= ~MBOX_COPY_DELIVERED;
    dsn = vstring_alloc(16);
    why = vstring_alloc(LOCAL_REASON_MAX);
    if (is_dir)
        status = local_maildir_deliver(st, run, path, a->address, flags & ~(MBOX_COPY_FROM
                                       | MBOX_COPY_QUOTE | MBOX_COPY_BLANK), dsn, why);
    else
        status = local_mbox_deliver(st, a, run, path, 0, flags, dsn, why);
    if (status == DELIVER_SENT) {
        local_dup_add(st, "file", key);
        local_result(st, a->address, status, "2.0.0", is_dir ? "delivered to maildir"
                     : "delivered to file: %s", path);
    } else {
        local_result(st, a->address, status, STR(dsn), "%s", STR(why));
    }
    local_priv_free(run);
    mem_free(key);
    vstring_free(dsn);
    vstring_free(why);
}

/* See local.h. */
char   *
local_read_text(int fd, int *overflow)
{
    VSTRING *buf = vstring_alloc(LOCAL_FILE_MAX);
    char    chunk[4096];
    ssize_t n;

    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if (vstring_ncat(buf, chunk, (size_t) n) < 0)
            break;
    close(fd);
    *overflow = buf->overflow;
    return vstring_export(buf);
}

/* An include file that may not be used: result logged, 1; else 0. */
static int
local_include_refused(LOCAL_STATE *st, const LOCAL_ADDR *a, const char *path,
                      const struct stat *sb)
{
    if (!S_ISREG(sb->st_mode)) {
        local_result(st, a->address, DELIVER_BOUNCE, "5.3.5",
                     "mail system configuration error: %s is not a regular file", path);
        return 1;
    }
    if (sb->st_mode & S_IWOTH) {
        msg_warn("file %s is world writable", path);
        local_result(st, a->address, DELIVER_DEFER, "4.3.5",
                     "mail system configuration error: include file %s is world writable",
                     path);
        return 1;
    }
    return 0;
}

/*
 * Read an include file with the context's ids. *owner gets the rights
 * for what it names: the file owner's only when the current rights are
 * root's (a root-owned alias file, root's .forward), else the current
 * ones, as Postfix does. Returns the text or NULL (result logged).
 */
static char *
local_include_read(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_CTX *ctx,
                   const char *path, LOCAL_PRIV **owner)
{
    struct stat sb;
    char   *text;
    int     fd, err, overflow;

    if (priv_set_euid(ctx->priv->uid, ctx->priv->gid) < 0) {
        priv_restore_root();
        local_result(st, a->address, DELIVER_DEFER, "4.3.0",
                     "cannot switch privileges to read include file %s", path);
        return NULL;
    }
    fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0 || fstat(fd, &sb) < 0) {
        err = errno;
        priv_restore_root();
        if (fd >= 0)
            close(fd);
        local_result(st, a->address, err == ENOENT ? DELIVER_BOUNCE : DELIVER_DEFER,
                     err == ENOENT ? "5.3.0" : "4.3.0",
                     "cannot open include file %s: %s", path, strerror(err));
        return NULL;
    }
    if (local_include_refused(st, a, path, &sb)) {
        close(fd);
        priv_restore_root();
        return NULL;
    }
    text = local_read_text(fd, &overflow);
    priv_restore_root();
    *owner = ctx->priv->uid == 0 ? local_priv_uid(sb.st_uid) : local_priv_copy(ctx->priv);
    return text;
}

static void
local_deliver_include(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_CTX *ctx,
                      const char *path)
{
    LOCAL_PRIV *owner = NULL;
    size_t  saved = st->path->argc;
    char   *text;

    if (*path != '/') {
        local_result(st, a->address, DELIVER_BOUNCE, "5.3.5",
                     "mail system configuration error: include file %s is not absolute", path);
        return;
    }
    if (ctx->priv == NULL || ctx->type == LOCAL_CTX_NONE) {
        local_result(st, a->address, DELIVER_BOUNCE, "5.7.1", "mail to file is restricted");
        return;
    }
    if (local_path_push(st, "include", path))
        return;                                 /* included from itself */
    if ((text = local_include_read(st, a, ctx, path, &owner)) != NULL) {
        if (owner == NULL) {
            local_result(st, a->address, DELIVER_DEFER, "4.3.5",
                         "mail system configuration error: default_privs user unknown");
        } else {
            LOCAL_CTX inc = {LOCAL_CTX_INCLUDE, owner, path};

            for (char *p = text; *p; p++)
                if (*p == '\n')
                    *p = ',';
            local_deliver_list(st, a, &inc, text);
        }
        mem_free(text);
    }
    local_priv_free(owner);
    local_path_pop(st, saved);
}

/* \user: straight to that user's mailbox. */
static void
local_deliver_bare(LOCAL_STATE *st, const LOCAL_ADDR *a, const char *name)
{
    LOCAL_ADDR b;
    LOCAL_PRIV *pw;
    char   *addr;

    addr = (*a->domain) ? mem_printf("%s@%s", name, a->domain) : mem_strdup(name);
    local_addr_split(&b, strcasecmp(name, a->user) == 0 ? a->address : addr, "");
    if ((pw = local_priv_user(b.local)) == NULL)
        local_result(st, b.address, DELIVER_BOUNCE, "5.1.1", "unknown user: \"%s\"", b.local);
    else
        local_deliver_mailbox(st, &b, pw);
    local_priv_free(pw);
    local_addr_free(&b);
    mem_free(addr);
}

/* An address: delivered here when it is ours, else forwarded. */
static void
local_deliver_other(LOCAL_STATE *st, const LOCAL_ADDR *a, const char *tok)
{
    char   *addr;
    int     ours;

    addr = strrchr(tok, '@') ? mem_strdup(tok)
        : mem_printf("%s@%s", tok, var_myorigin);
    if ((ours = local_addr_resolve(st, addr)) < 0)
        local_result(st, a->address, DELIVER_DEFER, "4.3.0",
                     "address resolver failure for %s", addr);
    else if (ours)
        local_deliver_address(st, addr, a->level + 1);
    else
        local_forward_append(st, a, addr);
    mem_free(addr);
}

static void
local_deliver_token(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_CTX *ctx,
                    const char *tok)
{
    if (*tok == '|') {
        if (ctx->priv == NULL) {
            local_result(st, a->address, DELIVER_BOUNCE, "5.7.1",
                         "mail to command is restricted");
            return;
        }
        local_deliver_command(st, a, ctx, tok + 1 + strspn(tok + 1, " \t"));
    } else if (*tok == '/') {
        if (ctx->priv == NULL) {
            local_result(st, a->address, DELIVER_BOUNCE, "5.7.1", "mail to file is restricted");
            return;
        }
        local_deliver_file(st, a, ctx, tok);
    } else if (strncasecmp(tok, ":include:", 9) == 0) {
        local_deliver_include(st, a, ctx, tok + 9 + strspn(tok + 9, " \t"));
    } else if (*tok == '\\') {
        local_deliver_bare(st, a, tok + 1);
    } else {
        local_deliver_other(st, a, tok);
    }
}

void
local_deliver_list(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_CTX *ctx,
                   const char *text)
{
    ARGV   *tokens = local_split_list(text, LOCAL_MAX_TOKENS);
    size_t  i;

    if (tokens->argc == 0)
        local_result(st, a->address, DELIVER_BOUNCE, "5.3.5",
                     "mail system configuration error: empty expansion in %s", ctx->origin);
    for (i = 0; i < tokens->argc; i++)
        local_deliver_token(st, a, ctx, tokens->argv[i]);
    argv_free(tokens);
}
