/*
 * postconf_params.c - print main.cf parameters as Postfix's postconf does.
 *
 * Interface: postconf.h (postconf_show_params, postconf_warn_unused).
 * Output lines are "name = value", or "name =" for an empty value; -h
 * prints the value alone, -H the name alone. Values are shown as written
 * (unexpanded) unless -x is given, with each run of white space shown
 * as one space. -d shows built-in defaults, -n only
 * the parameters set in main.cf (or by -c / $MAIL_CONFIG / -o). A name
 * that is neither built in nor used by another parameter draws
 * "<name>: unknown parameter" on stderr; the exit status stays 0, as
 * Postfix's.
 *
 * DIAGNOSTICS: none fatal; an undefined or unused parameter in main.cf
 * (postconf -n) and an unknown parameter name asked for are warnings.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "postconf.h"

typedef struct PC_SHOW {
    int     flags;
    ARGV   *unknown;            /* names set in main.cf that nothing uses */
} PC_SHOW;

static int
postconf_is_unknown(PC_SHOW *show, const char *name)
{
    size_t  i;

    for (i = 0; show->unknown && i < show->unknown->argc; i++)
        if (strcmp(show->unknown->argv[i], name) == 0)
            return 1;
    return 0;
}

/* The value to show for name under the current flags; NULL: nothing. */
static char *
postconf_value(PC_SHOW *show, const char *name)
{
    const PARAM_INFO *info = config_param_info(name);
    const char *raw;

    if (show->flags & PC_FLAG_DEFAULTS)
        raw = config_default(name);
    else
        raw = config_raw(name);
    if (raw == NULL)
        return NULL;
    if ((show->flags & PC_FLAG_EXPAND) && !(info && (info->flags & PARAM_FLAG_RAW))) {
        char   *value;

        /* Postfix warns about undefined names only in main.cf's own text */
        config_warn_undefined(!(show->flags & PC_FLAG_DEFAULTS) && config_is_set(name));
        value = config_expand(raw);
        config_warn_undefined(0);
        return value;
    }
    return mem_strdup(raw);
}

/* Postfix's postconf shows each run of white space as one space. */
static void
postconf_squeeze(char *value)
{
    char   *src, *dst;

    for (src = dst = value; *src; src++) {
        if (isspace((unsigned char) *src)) {
            if (dst == value || dst[-1] == ' ')
                continue;
            *dst++ = ' ';
        } else {
            *dst++ = *src;
        }
    }
    while (dst > value && dst[-1] == ' ')
        dst--;
    *dst = 0;
}

static void
postconf_print(PC_SHOW *show, const char *name, char *value)
{
    postconf_squeeze(value);
    if (show->flags & PC_FLAG_NAME)
        printf("%s\n", name);
    else if (show->flags & PC_FLAG_VALUE)
        printf("%s\n", value);
    else if (*value == 0)
        printf("%s =\n", name);
    else
        printf("%s = %s\n", name, value);
}

static void
postconf_show_one(const char *name, void *ctx)
{
    PC_SHOW *show = ctx;
    char   *value;

    if (postconf_is_unknown(show, name))
        return;
    if ((show->flags & PC_FLAG_NONDEF) && !config_is_set(name))
        return;
    if ((show->flags & PC_FLAG_DEFAULTS) && config_param_info(name) == NULL)
        return;
    if ((value = postconf_value(show, name)) == NULL)
        return;
    postconf_print(show, name, value);
    mem_free(value);
}

/* Warn about $names in main.cf text that name no parameter at all. */
static void
postconf_check_refs(const char *name, void *ctx)
{
    const char *value = config_file_value(name), *p, *start;
    char   *ref;

    for (p = value; p && (p = strchr(p, '$')) != NULL;) {
        p++;
        if (*p == '$') {
            p++;
            continue;
        }
        if (*p == '{' || *p == '(')
            p++;
        for (start = p; isalnum((unsigned char) *p) || *p == '_'; p++)
             /* void */ ;
        if (p == start)
            continue;
        ref = mem_strndup(start, p - start);
        if (config_raw(ref) == NULL)
            msg_warn("%s/main.cf: undefined parameter: %s", config_directory(), ref);
        mem_free(ref);
    }
}

void
postconf_warn_unused(void)
{
    ARGV   *unknown = config_unknown_names();
    size_t  i;

    for (i = 0; i < unknown->argc; i++)
        msg_warn("%s/main.cf: unused parameter: %s=%s", config_directory(),
                 unknown->argv[i], config_file_value(unknown->argv[i]));
    argv_free(unknown);
}

int
postconf_show_params(int flags, char **names)
{
    PC_SHOW show;

    show.flags = flags;
    show.unknown = config_unknown_names();
    if (names == NULL || *names == NULL) {
        config_walk(postconf_show_one, &show);
    } else {
        for (; *names; names++) {
            if (postconf_is_unknown(&show, *names)
                || (config_param_info(*names) == NULL
                    && ((flags & PC_FLAG_DEFAULTS) || !config_is_set(*names)))) {
                msg_warn("%s: unknown parameter", *names);
                continue;
            }
            postconf_show_one(*names, &show);
        }
    }
    if (!(flags & PC_FLAG_DEFAULTS)) {
        if (!(flags & PC_FLAG_EXPAND))
            config_walk(postconf_check_refs, NULL);
        postconf_warn_unused();
    }
    argv_free(show.unknown);
    return 0;
}
