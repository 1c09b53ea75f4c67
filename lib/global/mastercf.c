/*
 * mastercf.c - master.cf parsing.
 *
 * Interface: mastercf.h. The text is cut into logical lines (a line that
 * starts with white space continues the entry; blank and '#' lines are
 * skipped), each logical line into fields at white space, where a field
 * that starts with '{' runs to the matching '}' and becomes one argument
 * without the braces and the white space just inside them. The first
 * seven fields are checked and converted; "-" takes the default, and the
 * default maxproc is $default_process_limit, read (CONFIG_VAR) when a
 * parse starts, so main.cf must be loaded first.
 *
 * SECURITY: master.cf is a root-owned file read by the root master. Lines
 * are bounded by CONFIG_LINE_MAX, numbers are range-checked, and every
 * syntax error is reported with the file and line, never a crash.
 *
 * DIAGNOSTICS: a bad default_process_limit is fatal (with its name and
 * value); a master.cf syntax error is returned as a message with the
 * file and line, for the caller to report.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mastercf.h"
#include "mem.h"
#include "vstring.h"

#define MASTERCF_FILE_MAX (16 * 1024 * 1024)

/* Read once per parse, when it starts (mastercf_parse_text). */
static long var_default_process_limit;
static const CONFIG_VAR mastercf_vars[] = {
    CONFIG_VAR_INT("default_process_limit", &var_default_process_limit),
    CONFIG_VAR_END,
};

static const struct {
    const char *name;
    MASTER_TYPE type;
} mastercf_types[] = {
    {"inet", MASTER_INET},
    {"unix", MASTER_UNIX},
    {"unix-dgram", MASTER_UNIX_DGRAM},
    {"fifo", MASTER_FIFO},
    {"pass", MASTER_PASS},
};

static const char *mastercf_field_names[] = {
    "service", "type", "private", "unpriv", "chroot", "wakeup", "maxproc", "command",
};

static void
mastercf_free_ent(MASTER_ENT *ent)
{
    int     i;

    if (ent == NULL)
        return;
    mem_free(ent->service);
    mem_free(ent->type_name);
    mem_free(ent->command);
    argv_free(ent->args);
    for (i = 0; i < 5; i++)
        mem_free(ent->fields[i]);
    mem_free(ent);
}

void
mastercf_free(MASTER_TABLE *tab)
{
    int     i;

    if (tab == NULL)
        return;
    for (i = 0; i < tab->count; i++)
        mastercf_free_ent(tab->ents[i]);
    mem_free(tab->ents);
    mem_free(tab);
}

/* Split a logical line into fields, honouring "{ ... }" grouping. */
static ARGV *
mastercf_split(const char *line, const char **problem)
{
    ARGV   *fields = argv_alloc();
    const char *s = line, *start, *end;
    int     level;

    for (;;) {
        while (isspace((unsigned char) *s))
            s++;
        if (*s == 0)
            break;
        if (*s != '{') {
            start = s;
            while (*s && !isspace((unsigned char) *s))
                s++;
            argv_addn(fields, start, s - start);
            continue;
        }
        for (level = 0, end = s; *end; end++) {
            if (*end == '{')
                level++;
            else if (*end == '}' && --level == 0)
                break;
        }
        if (*end == 0) {
            *problem = "missing '}'";
            argv_free(fields);
            return NULL;
        }
        if (end[1] != 0 && !isspace((unsigned char) end[1])) {
            *problem = "syntax error after '}'";
            argv_free(fields);
            return NULL;
        }
        for (start = s + 1; start < end && isspace((unsigned char) *start); start++)
             /* void */ ;
        for (s = end; s > start && isspace((unsigned char) s[-1]); s--)
             /* void */ ;
        argv_addn(fields, start, s - start);
        s = end + 1;
    }
    return fields;
}

static int
mastercf_yesno(const char *text, int dflt, int *result)
{
    if (strcmp(text, "-") == 0)
        *result = dflt;
    else if (strcmp(text, "y") == 0)
        *result = 1;
    else if (strcmp(text, "n") == 0)
        *result = 0;
    else
        return -1;
    return 0;
}

static int
mastercf_number(const char *text, int allow_query, int *value, int *query)
{
    char   *end;
    long    n;

    if (!isdigit((unsigned char) *text))
        return -1;
    errno = 0;
    n = strtol(text, &end, 10);
    if (errno != 0 || n > INT_MAX)
        return -1;
    if (allow_query && *end == '?' && end[1] == 0)
        *query = 1;
    else if (*end != 0)
        return -1;
    *value = (int) n;
    return 0;
}

/* Convert the fields of one entry; returns a problem text or NULL. */
static const char *
mastercf_fill(MASTER_ENT *ent, ARGV *f)
{
    static const char *yn_names[] = {"private", "unpriv", "chroot"};
    int    *yn_vals[] = {&ent->private_, &ent->unpriv, &ent->chroot};
    /* chroot: y below compatibility_level 1, as Postfix */
    const int yn_dflt[] = {1, 1, config_compat_below("1")};
    size_t  i;

    ent->service = mem_strdup(f->argv[0]);
    ent->type_name = mem_strdup(f->argv[1]);
    for (i = 0; i < sizeof(mastercf_types) / sizeof(mastercf_types[0]); i++)
        if (strcmp(f->argv[1], mastercf_types[i].name) == 0)
            break;
    if (i == sizeof(mastercf_types) / sizeof(mastercf_types[0]))
        return "bad transport type";
    ent->type = mastercf_types[i].type;
    for (i = 0; i < 5; i++)
        ent->fields[i] = mem_strdup(f->argv[2 + i]);
    for (i = 0; i < 3; i++)
        if (mastercf_yesno(f->argv[2 + i], yn_dflt[i], yn_vals[i]) < 0)
            return yn_names[i];
    if (strcmp(f->argv[5], "-") != 0
        && mastercf_number(f->argv[5], 1, &ent->wakeup, &ent->wakeup_conditional) < 0)
        return "wakeup";
    if (strcmp(f->argv[6], "-") == 0) {
        ent->maxproc = var_default_process_limit > INT_MAX ? INT_MAX
            : (int) var_default_process_limit;
    } else if (mastercf_number(f->argv[6], 0, &ent->maxproc, NULL) < 0) {
        return "maxproc";
    }
    if (*f->argv[0] == 0 || *f->argv[7] == 0)
        return f->argv[0][0] == 0 ? "service" : "command";
    ent->command = mem_strdup(f->argv[7]);
    ent->args = argv_alloc();
    for (i = 8; i < f->argc; i++)
        argv_add(ent->args, f->argv[i]);
    return NULL;
}

static char *
mastercf_error(const char *origin, int line, const char *fmt, const char *arg)
{
    char   *what = mem_printf(fmt, arg);
    char   *err = mem_printf("%s: line %d: %s", origin, line, what);

    mem_free(what);
    return err;
}

/* Parse one logical line; on error returns NULL and sets *err. */
static MASTER_ENT *
mastercf_parse_entry(const char *line, const char *origin, int lineno, char **err)
{
    const char *problem = NULL;
    ARGV   *f = mastercf_split(line, &problem);
    MASTER_ENT *ent;

    if (f == NULL) {
        *err = mastercf_error(origin, lineno, "%s", problem);
        return NULL;
    }
    if (f->argc < 8) {
        *err = mastercf_error(origin, lineno, "field \"%s\" is missing",
                              mastercf_field_names[f->argc]);
        argv_free(f);
        return NULL;
    }
    ent = mem_alloc(sizeof(*ent));
    ent->line = lineno;
    if ((problem = mastercf_fill(ent, f)) != NULL) {
        if (strcmp(problem, "bad transport type") == 0)
            *err = mastercf_error(origin, lineno, "bad transport type: %s", f->argv[1]);
        else
            *err = mastercf_error(origin, lineno, "bad %s field", problem);
        mastercf_free_ent(ent);
        ent = NULL;
    }
    argv_free(f);
    return ent;
}

static int
mastercf_add(MASTER_TABLE *tab, const char *line, const char *origin, int lineno, char **err)
{
    MASTER_ENT *ent = mastercf_parse_entry(line, origin, lineno, err);
    char   *what;

    if (ent == NULL)
        return -1;
    if (mastercf_find(tab, ent->service, ent->type_name) != NULL) {
        what = mem_printf("%s/%s", ent->service, ent->type_name);
        *err = mastercf_error(origin, lineno, "duplicate service name: %s", what);
        mem_free(what);
        mastercf_free_ent(ent);
        return -1;
    }
    tab->ents = mem_realloc_array(tab->ents, tab->count + 1, sizeof(MASTER_ENT *));
    tab->ents[tab->count++] = ent;
    return 0;
}

MASTER_TABLE *
mastercf_parse_text(const char *text, const char *origin, char **err)
{
    MASTER_TABLE *tab = mem_alloc(sizeof(*tab));
    VSTRING *logical = vstring_alloc(CONFIG_LINE_MAX);
    const char *line, *end, *p;
    int     lineno = 0, start_line = 0, rc = 0;

    *err = NULL;
    config_read_vars(mastercf_vars);
    for (line = text; rc == 0 && *line; line = end) {
        end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        lineno++;
        for (p = line; p < end && isspace((unsigned char) *p); p++)
             /* void */ ;
        if (p == end || *p == '#')
            continue;
        if (p == line) {
            if (LEN(logical))
                rc = mastercf_add(tab, STR(logical), origin, start_line, err);
            vstring_reset(logical);
            start_line = lineno;
        } else if (LEN(logical) == 0) {
            *err = mastercf_error(origin, lineno, "%s",
                                  "entry must not start with white space");
            rc = -1;
            break;
        }
        vstring_addch(logical, ' ');
        if (vstring_ncat(logical, line, end - line) < 0) {
            *err = mastercf_error(origin, start_line, "%s", "logical line too long");
            rc = -1;
        }
    }
    if (rc == 0 && LEN(logical))
        rc = mastercf_add(tab, STR(logical), origin, start_line, err);
    vstring_free(logical);
    if (rc < 0) {
        mastercf_free(tab);
        return NULL;
    }
    return tab;
}

MASTER_TABLE *
mastercf_load(const char *path, char **err)
{
    FILE   *fp;
    char   *text;
    size_t  len = 0, cap = 16384, n;
    MASTER_TABLE *tab;

    if ((fp = fopen(path, "r")) == NULL) {
        *err = mem_printf("open %s: %s", path, strerror(errno));
        return NULL;
    }
    text = mem_alloc(cap);
    while ((n = fread(text + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (len + 1 >= cap) {
            if (cap >= MASTERCF_FILE_MAX) {
                fclose(fp);
                mem_free(text);
                *err = mem_printf("%s: file too large", path);
                return NULL;
            }
            text = mem_realloc(text, cap *= 2);
        }
    }
    if (ferror(fp)) {
        *err = mem_printf("read %s: %s", path, strerror(errno));
        fclose(fp);
        mem_free(text);
        return NULL;
    }
    fclose(fp);
    text[len] = 0;
    tab = mastercf_parse_text(text, path, err);
    mem_free(text);
    return tab;
}

MASTER_ENT *
mastercf_find(MASTER_TABLE *tab, const char *service, const char *type)
{
    int     i;

    for (i = 0; tab && i < tab->count; i++)
        if (strcmp(tab->ents[i]->service, service) == 0
            && (type == NULL || strcmp(tab->ents[i]->type_name, type) == 0))
            return tab->ents[i];
    return NULL;
}
