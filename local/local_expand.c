/*
 * local_expand.c - $name expansion of forward_path, luser_relay and
 * mailbox_command with the attributes of the address being delivered.
 *
 * Interface (local.h): local_expand(text, addr, user, filter, flags)
 * returns an allocated string. Names: $user $home $shell $recipient
 * $extension $domain $local $recipient_delimiter (empty unless the
 * address has an extension); forms $name, ${name}, $(name),
 * ${name?text} (text when name is non-empty), ${name:text} (text when
 * empty), $$. Other names: main.cf parameters, named by the
 * administrator in forward_path, luser_relay or mailbox_command (not
 * parameters local reads for itself, so not in its CONFIG_VAR table):
 * local_expand_init() looks each such name up once, at start
 * (local_params_init), and local_expand() takes the value from that
 * table; or they are left as they are with LOCAL_EXP_KEEP_UNKNOWN
 * (mailbox_command = procmail -a "$EXTENSION" leaves $EXTENSION to the
 * shell).
 *
 * SECURITY: attribute values come from the message envelope; every
 * character outside the filter set (the value of command_expansion_filter
 * or forward_expansion_filter; an empty one keeps none, as in Postfix)
 * is replaced by '_', so no address can put shell syntax into a command
 * line. Output is bounded; nesting of ${name?text} is bounded by
 * LOCAL_EXP_DEPTH.
 *
 * DIAGNOSTICS: none; unbalanced braces are copied literally.
 */
#include <ctype.h>
#include <string.h>

#include "config.h"
#include "htable.h"
#include "local.h"
#include "mem.h"

#define LOCAL_EXP_MAX   (64 * 1024)
#define LOCAL_EXP_DEPTH 10

typedef struct EXP_CTX {
    const LOCAL_ADDR *a;
    const LOCAL_PRIV *pw;
    const char *filter;
    int     flags;
} EXP_CTX;

/* The main.cf parameters the three texts name: name -> value (allocated). */
static HTABLE *local_exp_params;

/* Attribute value, or NULL when name is not an attribute. */
static const char *
local_exp_attr(const EXP_CTX *c, const char *name)
{
    if (strcmp(name, "user") == 0)
        return c->pw ? c->pw->name : c->a->user;
    if (strcmp(name, "home") == 0)
        return c->pw ? c->pw->home : "";
    if (strcmp(name, "shell") == 0)
        return c->pw ? c->pw->shell : "";
    if (strcmp(name, "recipient") == 0)
        return c->a->address;
    if (strcmp(name, "extension") == 0)
        return c->a->extension;
    if (strcmp(name, "domain") == 0)
        return c->a->domain;
    if (strcmp(name, "local") == 0)
        return c->a->local;
    if (strcmp(name, "recipient_delimiter") == 0)
        return *c->a->extension ? c->a->delim : "";
    return NULL;
}

static void
local_exp_filtered(VSTRING *out, const char *value, const char *filter)
{
    for (; *value; value++)
        vstring_addch(out, strchr(filter, *value) ? *value : '_');
}

static void local_exp_text(VSTRING *out, const char *text, const EXP_CTX *c, int depth);

/* Expand one $... reference at *pp (just after the '$'); advances *pp. */
static void
local_exp_ref(VSTRING *out, const char **pp, const EXP_CTX *c, int depth)
{
    const char *p = *pp, *start = p - 1, *name_end, *arg = NULL, *end;
    char    open = 0, close = 0, op = 0;
    const char *value;
    char   *name;
    int     level;

    if (*p == '{' || *p == '(') {
        open = *p;
        close = (*p == '{') ? '}' : ')';
        p++;
    }
    for (name_end = p; isalnum((unsigned char) *name_end) || *name_end == '_'; name_end++)
        ;
    end = name_end;
    if (open) {
        if (*end == '?' || *end == ':') {
            op = *end;
            arg = end + 1;
        }
        for (level = 1; *end && level > 0; end++) {
            if (*end == open)
                level++;
            else if (*end == close)
                level--;
        }
        if (level > 0 || name_end == p) {      /* unbalanced: copy literally */
            vstring_ncat(out, start, (size_t) (end - start));
            *pp = end;
            return;
        }
    } else if (name_end == p) {
        vstring_addch(out, '$');
        return;
    }
    name = mem_strndup(p, (size_t) (name_end - p));
    value = local_exp_attr(c, name);
    if (value == NULL && !(c->flags & LOCAL_EXP_KEEP_UNKNOWN)
        && (value = local_exp_params ? htable_find(local_exp_params, name) : NULL) == NULL)
        value = "";                             /* a parameter, or empty */
    if (value == NULL) {
        vstring_ncat(out, start, (size_t) (end - start));      /* keep $UNKNOWN */
    } else if (op) {
        char   *text = mem_strndup(arg, (size_t) (end - 1 - arg));

        if ((op == '?') == (*value != 0))
            local_exp_text(out, text, c, depth + 1);
        mem_free(text);
    } else if (local_exp_attr(c, name)) {
        local_exp_filtered(out, value, c->filter);
    } else {
        vstring_cat(out, value);
    }
    mem_free(name);
    *pp = end;
}

static void
local_exp_text(VSTRING *out, const char *text, const EXP_CTX *c, int depth)
{
    const char *p = text;

    if (depth > LOCAL_EXP_DEPTH)
        return;
    while (*p) {
        if (*p != '$') {
            vstring_addch(out, *p++);
        } else if (p[1] == '$') {
            vstring_addch(out, '$');
            p += 2;
        } else {
            p++;
            local_exp_ref(out, &p, c, depth);
        }
    }
}

char   *
local_expand(const char *text, const LOCAL_ADDR *a, const LOCAL_PRIV *pw,
             const char *filter, int flags)
{
    VSTRING *out = vstring_alloc(LOCAL_EXP_MAX);
    EXP_CTX c;

    c.a = a;
    c.pw = pw;
    c.flags = flags;
    c.filter = filter;
    local_exp_text(out, text, &c, 0);
    return vstring_export(out);
}

/*
 * At start: every name written after a '$' (or "${", "$(") in text that
 * the parameter table or main.cf knows, with its value. Reading more
 * names than local_expand() will ask for (after "$$", say) does no harm.
 */
void
local_expand_init(const char *text)
{
    const char *p = text, *end;
    const char *value;
    char   *name;

    if (local_exp_params == NULL)
        local_exp_params = htable_create(16);
    while ((p = strchr(p, '$')) != NULL) {
        p++;
        if (*p == '{' || *p == '(')
            p++;
        for (end = p; isalnum((unsigned char) *end) || *end == '_'; end++)
            ;
        if (end == p)
            continue;
        name = mem_strndup(p, (size_t) (end - p));
        if (htable_find(local_exp_params, name) == NULL
            && (value = config_lookup(name)) != NULL)
            (void) htable_enter(local_exp_params, name, mem_strdup(value));
        mem_free(name);
        p = end;
    }
}

/* Forget the values (before the table is read again). */
void
local_expand_reset(void)
{
    if (local_exp_params != NULL) {
        htable_free(local_exp_params, mem_free);
        local_exp_params = NULL;
    }
}
