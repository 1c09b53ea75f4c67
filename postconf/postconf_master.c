/*
 * postconf_master.c - print master.cf entries (postconf -M).
 *
 * Interface: postconf.h (postconf_show_master). Each entry is printed on
 * one line in Postfix's normalized layout: the eight fields start at
 * columns 0, 11, 17, 25, 33, 41, 49 and 57, and a field that is too wide
 * pushes the next one to one space after it (later fields move back to
 * their column when there is room). The fields are shown as written
 * ("-" stays "-"); arguments follow separated by single spaces, an
 * argument with white space inside is shown as "{text}", and the value
 * of "-o" is normalized to name=value. Filters are "service" or
 * "service/type"; a filter that matches nothing draws
 * "unmatched request" on stderr.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "postconf.h"
#include "vstring.h"

static const int postconf_columns[] = {0, 11, 17, 25, 33, 41, 49, 57};

/* "name = value" after -o becomes "name=value". */
static char *
postconf_norm_override(const char *arg)
{
    const char *eq = strchr(arg, '=');
    const char *ne, *v;

    if (eq == NULL)
        return mem_strdup(arg);
    for (ne = eq; ne > arg && isspace((unsigned char) ne[-1]); ne--)
         /* void */ ;
    for (v = eq + 1; isspace((unsigned char) *v); v++)
         /* void */ ;
    return mem_printf("%.*s=%s", (int) (ne - arg), arg, v);
}

static void
postconf_add_field(VSTRING *line, int col, const char *text)
{
    size_t  pos = LEN(line) == 0 && col == 0 ? 0 : LEN(line) + 1;

    if (pos < (size_t) col)
        pos = (size_t) col;
    while (LEN(line) < pos)
        vstring_addch(line, ' ');
    vstring_cat(line, text);
}

static void
postconf_print_entry(const MASTER_ENT *ent)
{
    VSTRING *line = vstring_alloc(VSTRING_UNLIMITED);
    const char *fields[8];
    size_t  i;
    int     k;

    fields[0] = ent->service;
    fields[1] = ent->type_name;
    for (k = 0; k < 5; k++)
        fields[2 + k] = ent->fields[k] ? ent->fields[k] : "-";
    fields[7] = ent->command;
    for (k = 0; k < 8; k++)
        postconf_add_field(line, postconf_columns[k], fields[k]);
    for (i = 0; ent->args && i < ent->args->argc; i++) {
        const char *arg = ent->args->argv[i];
        char   *norm = NULL;

        if (i > 0 && strcmp(ent->args->argv[i - 1], "-o") == 0)
            arg = norm = postconf_norm_override(arg);
        if (*arg == 0 || arg[strcspn(arg, " \t\r\n")] != 0)
            vstring_sprintf_append(line, " {%s}", arg);
        else
            vstring_sprintf_append(line, " %s", arg);
        mem_free(norm);
    }
    printf("%s\n", STR(line));
    vstring_free(line);
}

static int
postconf_filter_match(const MASTER_ENT *ent, const char *filter)
{
    const char *slash = strchr(filter, '/');

    if (slash == NULL)
        return strcmp(ent->service, filter) == 0;
    return strlen(ent->service) == (size_t) (slash - filter)
        && strncmp(ent->service, filter, slash - filter) == 0
        && strcmp(ent->type_name, slash + 1) == 0;
}

int
postconf_show_master(char **filters)
{
    char   *path = mem_printf("%s/master.cf", config_directory());
    char   *err = NULL;
    MASTER_TABLE *tab = mastercf_load(path, &err);
    int     i, f, matched;

    if (tab == NULL)
        msg_fatal("%s", err);
    for (i = 0; i < tab->count; i++) {
        if (filters == NULL || *filters == NULL) {
            postconf_print_entry(tab->ents[i]);
            continue;
        }
        for (f = 0; filters[f]; f++)
            if (postconf_filter_match(tab->ents[i], filters[f])) {
                postconf_print_entry(tab->ents[i]);
                break;
            }
    }
    for (f = 0; filters && filters[f]; f++) {
        for (matched = 0, i = 0; i < tab->count && !matched; i++)
            matched = postconf_filter_match(tab->ents[i], filters[f]);
        if (!matched)
            msg_warn("unmatched request: \"%s\"", filters[f]);
    }
    mastercf_free(tab);
    mem_free(path);
    return 0;
}
