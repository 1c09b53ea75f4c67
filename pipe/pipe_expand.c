/*
 * pipe_expand.c - the macros of a pipe service's argv=.
 *
 * Interface (pipe.h): pipe_expand_argv() expands $name, ${name} and
 * $(name) in every argument ("$$" is a "$"; ${name?text} is text when
 * name is not empty, ${name:text} when it is). An argument with a
 * per-recipient macro (${recipient}, ${original_recipient}, ${user},
 * ${extension}, ${mailbox}, ${domain}) becomes one argument per
 * recipient, as in Postfix. pipe_macro_value() gives one macro's value:
 * sender (null_sender= for <>), recipient, original_recipient, mailbox
 * (the localpart), user (the localpart without its extension at the
 * first recipient_delimiter character), extension, domain, nexthop,
 * size, queue_id, client_address, client_hostname, client_port,
 * client_helo, client_protocol, sasl_method, sasl_sender, sasl_username
 * (the queue file's SMTP AUTH attributes, via the delivery request). Flags: h lowercases the
 * domain part of recipient and original_recipient, and all of domain
 * and nexthop; u lowercases their localpart and all of user, extension
 * and mailbox; q quotes the localparts of sender, recipient and
 * original_recipient as RFC 822 does.
 *
 * SECURITY: a value is never split or interpreted: each argument goes to
 * execvp() as one string.
 *
 * DIAGNOSTICS: none; an unknown macro expands to nothing.
 */
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "mem.h"
#include "pipe.h"

#define PIPE_ARG_MAX (128 * 1024)  /* one expanded argument (Linux MAX_ARG_STRLEN) */

static const char *pipe_rcpt_macros[] = {
    "recipient", "original_recipient", "user", "extension", "mailbox", "domain", NULL,
};

static void
pipe_lower(char *s, size_t len)
{
    for (size_t i = 0; i < len && s[i]; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] += 'a' - 'A';
}

/* An address with flags h, u, q applied to its parts. */
static char *
pipe_address(const char *addr, int flags, int fold)
{
    char   *copy = mem_strdup(addr);
    char   *at = strrchr(copy, '@');
    size_t  local_len = at ? (size_t) (at - copy) : strlen(copy);
    VSTRING *out;

    if (fold && (flags & PIPE_FLAG_FOLD_USER))
        pipe_lower(copy, local_len);
    if (fold && at && (flags & PIPE_FLAG_FOLD_HOST))
        pipe_lower(at, strlen(at));
    if (!(flags & PIPE_FLAG_QUOTE))
        return copy;
    out = vstring_alloc(strlen(copy) * 2 + 3);
    address_quote(out, copy);
    mem_free(copy);
    return vstring_export(out);
}

/* mailbox, user, extension or domain of addr. */
static char *
pipe_address_part(const PIPE_EXPAND *x, const char *addr, const char *part)
{
    const char *at = strrchr(addr, '@');
    size_t  local_len = at ? (size_t) (at - addr) : strlen(addr);
    size_t  user_len = local_len;
    char   *value;

    if (*x->delimiters && local_len > 0) {
        user_len = strcspn(addr, x->delimiters);
        if (user_len > local_len || user_len == 0)
            user_len = local_len;
    }
    if (strcmp(part, "domain") == 0) {
        value = mem_strdup(at ? at + 1 : "");
        if (x->flags & PIPE_FLAG_FOLD_HOST)
            pipe_lower(value, strlen(value));
        return value;
    }
    if (strcmp(part, "mailbox") == 0)
        value = mem_strndup(addr, local_len);
    else if (strcmp(part, "user") == 0)
        value = mem_strndup(addr, user_len);
    else
        value = user_len < local_len ? mem_strndup(addr + user_len + 1, local_len - user_len - 1)
            : mem_strdup("");
    if (x->flags & PIPE_FLAG_FOLD_USER)
        pipe_lower(value, strlen(value));
    return value;
}

static char *
pipe_rcpt_value(const PIPE_EXPAND *x, const char *name, int r)
{
    const DELIVER_RCPT *rcpt;

    if (r < 0 || r >= x->rcpt_count)
        return mem_strdup("");
    rcpt = &x->req->rcpt[x->rcpts[r]];
    if (strcmp(name, "recipient") == 0)
        return pipe_address(rcpt->address, x->flags, 1);
    if (strcmp(name, "original_recipient") == 0)
        return pipe_address(rcpt->orig_rcpt && *rcpt->orig_rcpt ? rcpt->orig_rcpt
                            : rcpt->address, x->flags, 1);
    return pipe_address_part(x, rcpt->address, name);
}

char   *
pipe_macro_value(const PIPE_EXPAND *x, const char *name, int r)
{
    const DELIVER_REQUEST *req = x->req;
    const char *plain[][2] = {
        {"queue_id", req->queue_id}, {"client_address", req->client_addr},
        {"client_hostname", req->client_name}, {"client_port", req->client_port},
        {"client_helo", req->client_helo}, {"client_protocol", req->client_proto},
        {"sasl_method", req->sasl_method}, {"sasl_sender", req->sasl_sender},
        {"sasl_username", req->sasl_username},
    };
    size_t  i;
    char   *value;

    for (i = 0; pipe_rcpt_macros[i]; i++)
        if (strcmp(name, pipe_rcpt_macros[i]) == 0)
            return pipe_rcpt_value(x, name, r);
    if (strcmp(name, "sender") == 0)
        return *req->sender ? pipe_address(req->sender, x->flags, 0)
            : mem_strdup(x->null_sender);
    if (strcmp(name, "nexthop") == 0) {
        value = mem_strdup(req->nexthop ? req->nexthop : "");
        if (x->flags & PIPE_FLAG_FOLD_HOST)
            pipe_lower(value, strlen(value));
        return value;
    }
    if (strcmp(name, "size") == 0)
        return mem_printf("%ld", req->size);
    for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (strcmp(name, plain[i][0]) == 0)
            return mem_strdup(plain[i][1] ? plain[i][1] : "");
    return NULL;
}

static int
pipe_is_rcpt_macro(const char *name, size_t len)
{
    for (size_t i = 0; pipe_rcpt_macros[i]; i++)
        if (strlen(pipe_rcpt_macros[i]) == len && strncmp(name, pipe_rcpt_macros[i], len) == 0)
            return 1;
    return 0;
}

static void pipe_expand_one(VSTRING *out, const char *s, size_t len,
                            const PIPE_EXPAND *x, int r, int *per_rcpt);

/* "$name", "${name...}" or "$(name...)" at s (after the "$"): the length used. */
static size_t
pipe_expand_macro(VSTRING *out, const char *s, size_t len, const PIPE_EXPAND *x,
                  int r, int *per_rcpt)
{
    char    close = len && *s == '{' ? '}' : len && *s == '(' ? ')' : 0;
    size_t  start = close ? 1 : 0, n = start, name_len, used;
    char   *name, *value;
    int     depth = 0;

    while (n < len && (s[n] == '_' || (s[n] >= 'a' && s[n] <= 'z')
                       || (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= '0' && s[n] <= '9')))
        n++;
    name_len = n - start;
    used = n;
    if (close) {
        for (used = n; used < len && (s[used] != close || depth); used++)
            depth += s[used] == '{' || s[used] == '(' ? 1 : s[used] == '}' || s[used] == ')' ? -1 : 0;
        if (used < len)
            used++;
    }
    if (name_len == 0) {
        vstring_addch(out, '$');
        return 0;
    }
    if (pipe_is_rcpt_macro(s + start, name_len))
        *per_rcpt = 1;
    name = mem_strndup(s + start, name_len);
    value = pipe_macro_value(x, name, r);
    if (close && n < len && (s[n] == '?' || s[n] == ':')) {
        int     have = value && *value;

        size_t  end = used > n + 1 && s[used - 1] == close ? used - 1 : used;

        if ((s[n] == '?') == have)
            pipe_expand_one(out, s + n + 1, end - n - 1, x, r, per_rcpt);
    } else if (value) {
        vstring_cat(out, value);
    }
    mem_free(name);
    mem_free(value);
    return used;
}

static void
pipe_expand_one(VSTRING *out, const char *s, size_t len, const PIPE_EXPAND *x, int r,
                int *per_rcpt)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] != '$') {
            vstring_addch(out, s[i]);
        } else if (i + 1 < len && s[i + 1] == '$') {
            vstring_addch(out, '$');
            i++;
        } else {
            i += pipe_expand_macro(out, s + i + 1, len - i - 1, x, r, per_rcpt);
        }
    }
}

ARGV   *
pipe_expand_argv(const ARGV *templ, const PIPE_EXPAND *x)
{
    ARGV   *argv = argv_alloc();
    VSTRING *buf = vstring_alloc(PIPE_ARG_MAX);
    size_t  i;
    int     r, per_rcpt;

    for (i = 0; i < templ->argc; i++) {
        const char *arg = templ->argv[i];

        per_rcpt = 0;
        vstring_reset(buf);
        pipe_expand_one(buf, arg, strlen(arg), x, 0, &per_rcpt);
        argv_add(argv, STR(buf));
        for (r = 1; per_rcpt && r < x->rcpt_count; r++) {
            vstring_reset(buf);
            pipe_expand_one(buf, arg, strlen(arg), x, r, &per_rcpt);
            argv_add(argv, STR(buf));
        }
    }
    vstring_free(buf);
    return argv;
}
