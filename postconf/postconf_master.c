/*
 * postconf_master.c - print master.cf entries, fields and parameters
 * (postconf -M, -F, -P).
 *
 * Interface: postconf.h (postconf_show_master, postconf_show_fields,
 * postconf_show_mparams, postconf_format_entry, postconf_field_index,
 * postconf_field_names).
 *
 * -M prints each entry on one line in Postfix's normalized layout: the
 * eight fields start at columns 0, 11, 17, 25, 33, 41, 49 and 57, and a
 * field that is too wide pushes the next one to one space after it. The
 * fields are shown as written ("-" stays "-"); arguments follow separated
 * by single spaces, an argument with white space inside is shown as
 * "{text}", and the value of "-o" is normalized to name=value. With -f
 * (and whenever an entry is written back to master.cf) the entry is
 * folded: each "-o name=value" on its own line, the word after such a
 * line too, other words moved to a new line when the line would reach
 * 80 columns; continuation lines are indented by four spaces.
 *
 * -F prints "service/type/field = value" for the fields service, type,
 * private, unprivileged, chroot, wakeup, process_limit and command (the
 * command with its arguments); -P prints "service/type/name = value" for
 * each "-o name=value" of an entry, sorted by name. Filters are
 * "service[/type[/field]]", where a missing part or "*" matches
 * anything. Output goes entry by entry (master.cf order), then filter by
 * filter. A filter that matches nothing draws "unmatched request".
 *
 * DIAGNOSTICS: fatal: a bad -M/-F/-P request (service name or attribute)
 * and master.cf errors; a request that matches nothing is a warning.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "postconf.h"
#include "vstring.h"

#define PC_FOLD_LIMIT 80

static const int postconf_columns[] = {0, 11, 17, 25, 33, 41, 49, 57};

const char *const postconf_field_names[PC_FIELD_COUNT] = {
    "service", "type", "private", "unprivileged", "chroot", "wakeup",
    "process_limit", "command",
};

int
postconf_field_index(const char *name)
{
    for (int i = 0; i < PC_FIELD_COUNT; i++)
        if (strcmp(postconf_field_names[i], name) == 0)
            return i;
    return -1;
}

/* "name = value" after -o becomes "name=value". */
char   *
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

/* One argument as shown: "{text}" when it is empty or has white space. */
static char *
postconf_show_arg(const char *arg, int after_o)
{
    char   *norm = after_o ? postconf_norm_override(arg) : mem_strdup(arg);
    char   *out;

    if (*norm == 0 || norm[strcspn(norm, " \t\r\n")] != 0) {
        out = mem_printf("{%s}", norm);
        mem_free(norm);
        return out;
    }
    return norm;
}

/* The command and its arguments on one line (the -F "command" value). */
char   *
postconf_command_text(const char *command, const ARGV *args)
{
    VSTRING *vs = vstring_alloc(VSTRING_UNLIMITED);

    vstring_strcpy(vs, command);
    for (size_t i = 0; args && i < args->argc; i++) {
        char   *w = postconf_show_arg(args->argv[i], i > 0 && strcmp(args->argv[i - 1], "-o") == 0);

        vstring_sprintf_append(vs, " %s", w);
        mem_free(w);
    }
    return vstring_export(vs);
}

void
postconf_format_entry(VSTRING *out, char *const fields[PC_FIELD_COUNT], const ARGV *args, int fold)
{
    size_t  line_start, i;
    int     k, newline_next = 0;

    vstring_reset(out);
    for (k = 0; k < PC_FIELD_COUNT; k++)
        postconf_add_field(out, postconf_columns[k], fields[k]);
    line_start = 0;
    for (i = 0; args && i < args->argc; i++) {
        char   *w = postconf_show_arg(args->argv[i], i > 0 && strcmp(args->argv[i - 1], "-o") == 0);
        int     is_o = fold && strcmp(args->argv[i], "-o") == 0 && i + 1 < args->argc;
        int     brk = 0;

        if (is_o) {
            char   *v = postconf_show_arg(args->argv[++i], 1);
            char   *pair = mem_printf("-o %s", v);

            mem_free(v);
            mem_free(w);
            w = pair;
        }
        if (fold)
            brk = is_o || newline_next
                || LEN(out) - line_start + 1 + strlen(w) >= PC_FOLD_LIMIT;
        if (brk) {
            vstring_cat(out, "\n");
            line_start = LEN(out);
            vstring_sprintf_append(out, "    %s", w);
        } else {
            vstring_sprintf_append(out, " %s", w);
        }
        newline_next = is_o;
        mem_free(w);
    }
}

/* The fields of a parsed entry as written. */
static void
postconf_entry_fields(const MASTER_ENT *ent, char *fields[PC_FIELD_COUNT])
{
    fields[0] = ent->service;
    fields[1] = ent->type_name;
    for (int k = 0; k < 5; k++)
        fields[2 + k] = ent->fields[k] ? ent->fields[k] : (char *) "-";
    fields[7] = ent->command;
}

static void
postconf_print_entry(const MASTER_ENT *ent, int flags)
{
    VSTRING *line = vstring_alloc(VSTRING_UNLIMITED);
    char   *fields[PC_FIELD_COUNT];

    postconf_entry_fields(ent, fields);
    postconf_format_entry(line, fields, ent->args, (flags & PC_FLAG_FOLD) != 0);
    printf("%s\n", STR(line));
    vstring_free(line);
}

MASTER_TABLE *
postconf_master_load(void)
{
    char   *path = mem_printf("%s/master.cf", config_directory());
    char   *err = NULL;
    MASTER_TABLE *tab = mastercf_load(path, &err);

    if (tab == NULL)
        msg_fatal("%s", err);
    mem_free(path);
    return tab;
}

/* A parsed filter "service[/type[/name]]"; NULL parts match anything. */
typedef struct PC_FILTER {
    char   *service, *type, *name;
} PC_FILTER;

static void
postconf_filter_parse(PC_FILTER *f, const char *text, int depth, int mode)
{
    ARGV   *parts = argv_alloc();
    const char *s = text, *slash;

    memset(f, 0, sizeof(*f));
    while ((slash = strchr(s, '/')) != NULL) {
        argv_addn(parts, s, slash - s);
        s = slash + 1;
    }
    argv_add(parts, s);
    if ((int) parts->argc > depth || *parts->argv[0] == 0)
        goto bad;
    for (size_t i = 0; i < parts->argc; i++)
        if (strchr(parts->argv[i], '*') && strcmp(parts->argv[i], "*") != 0)
            goto bad;
    f->service = strcmp(parts->argv[0], "*") ? mem_strdup(parts->argv[0]) : NULL;
    if (parts->argc > 1 && strcmp(parts->argv[1], "*") != 0)
        f->type = mem_strdup(parts->argv[1]);
    if (parts->argc > 2 && *parts->argv[2] && strcmp(parts->argv[2], "*") != 0) {
        f->name = mem_strdup(parts->argv[2]);
        if (mode == 'F' && postconf_field_index(f->name) < 0)
            msg_fatal("invalid service attribute name: \"%s\"", f->name);
    }
    argv_free(parts);
    return;
bad:
    if (depth == 2)
        msg_fatal("-M option requires service_name[/type]");
    msg_fatal("-%c option requires service_name[/type[/%s]]", mode,
              mode == 'F' ? "field" : "parameter");
}

static void
postconf_filter_free(PC_FILTER *f)
{
    mem_free(f->service);
    mem_free(f->type);
    mem_free(f->name);
}

static int
postconf_filter_entry(const PC_FILTER *f, const MASTER_ENT *ent)
{
    return (f->service == NULL || strcmp(f->service, ent->service) == 0)
        && (f->type == NULL || strcmp(f->type, ent->type_name) == 0);
}

/* Print one "key = value" line under -h/-H/-x. */
static void
postconf_print_kv(const MASTER_ENT *ent, const char *key, const char *value, int flags)
{
    char   *expanded = NULL;

    if (flags & PC_FLAG_EXPAND) {
        config_override("service_name", ent->service);
        value = expanded = config_expand(value);
    }
    if (flags & PC_FLAG_VALUE)
        printf("%s\n", value);
    else if (flags & PC_FLAG_NAME)
        printf("%s/%s/%s\n", ent->service, ent->type_name, key);
    else
        printf("%s/%s/%s = %s\n", ent->service, ent->type_name, key, value);
    mem_free(expanded);
}

/* -F: the fields of ent that f selects; returns how many. */
static int
postconf_print_fields(const MASTER_ENT *ent, const PC_FILTER *f, int flags)
{
    char   *fields[PC_FIELD_COUNT];
    int     n = 0;

    postconf_entry_fields(ent, fields);
    for (int k = 0; k < PC_FIELD_COUNT; k++) {
        if (f->name && strcmp(f->name, postconf_field_names[k]) != 0)
            continue;
        if (k == PC_FIELD_COMMAND) {
            char   *cmd = postconf_command_text(ent->command, ent->args);

            postconf_print_kv(ent, postconf_field_names[k], cmd, flags & ~PC_FLAG_EXPAND);
            mem_free(cmd);
        } else {
            postconf_print_kv(ent, postconf_field_names[k], fields[k], flags & ~PC_FLAG_EXPAND);
        }
        n++;
    }
    return n;
}

static int
postconf_compare(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The "-o" settings of ent, normalized to name=value and sorted. */
ARGV   *
postconf_entry_params(const MASTER_ENT *ent)
{
    ARGV   *out = argv_alloc();

    for (size_t i = 0; ent->args && i + 1 < ent->args->argc; i++)
        if (strcmp(ent->args->argv[i], "-o") == 0) {
            char   *norm = postconf_norm_override(ent->args->argv[++i]);

            if (strchr(norm, '=') != NULL)
                argv_add(out, norm);
            mem_free(norm);
        }
    qsort(out->argv, out->argc, sizeof(char *), postconf_compare);
    return out;
}

/* -P: the parameters of ent that f selects; returns how many. */
static int
postconf_print_params(const MASTER_ENT *ent, const PC_FILTER *f, int flags)
{
    ARGV   *params = postconf_entry_params(ent);
    int     n = 0;

    for (size_t i = 0; i < params->argc; i++) {
        char   *eq = strchr(params->argv[i], '=');

        *eq = 0;
        if (f->name == NULL || strcmp(f->name, params->argv[i]) == 0) {
            postconf_print_kv(ent, params->argv[i], eq + 1, flags);
            n++;
        }
    }
    argv_free(params);
    return n;
}

int
postconf_show_master(int mode, char **filters, int flags)
{
    MASTER_TABLE *tab = postconf_master_load();
    int     nf = 0, i, f, all;
    PC_FILTER *flt;
    int    *hits;

    while (filters && filters[nf])
        nf++;
    flt = mem_array(nf + 1, sizeof(PC_FILTER));
    hits = mem_array(nf + 1, sizeof(int));
    for (f = 0; f < nf; f++)
        postconf_filter_parse(&flt[f], filters[f], mode == 'M' ? 2 : 3, mode);
    all = nf == 0;
    if (all)
        flt[nf++].service = NULL;       /* one filter that matches everything */
    for (i = 0; i < tab->count; i++) {
        for (f = 0; f < nf; f++) {
            if (!postconf_filter_entry(&flt[f], tab->ents[i]))
                continue;
            if (mode == 'M') {
                postconf_print_entry(tab->ents[i], flags);
                hits[f]++;
                break;
            }
            hits[f] += mode == 'F' ? postconf_print_fields(tab->ents[i], &flt[f], flags)
                : postconf_print_params(tab->ents[i], &flt[f], flags);
        }
    }
    for (f = 0; !all && f < nf; f++) {
        if (mode == 'M' && hits[f] == 0)        /* -M: matched by an earlier filter */
            for (i = 0; i < tab->count && hits[f] == 0; i++)
                hits[f] = postconf_filter_entry(&flt[f], tab->ents[i]);
        if (hits[f] == 0)
            msg_warn("unmatched request: \"%s\"", filters[f]);
    }
    for (f = 0; f < nf; f++)
        postconf_filter_free(&flt[f]);
    mem_free(flt);
    mem_free(hits);
    mastercf_free(tab);
    return 0;
}
