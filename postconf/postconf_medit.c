/*
 * postconf_medit.c - edit master.cf in place (postconf -Me, -MX, -M#,
 * -Fe, -Pe, -PX).
 *
 * Interface: postconf.h (postconf_edit_master).
 *
 *   -Me "service/type = entry"   replace that entry, or append it
 *   -MX service/type             remove the entry (all its lines)
 *   -M# service/type             comment out the entry (all its lines)
 *   -Fe "service/type/field = value"   change one field; "command"
 *                                stands for the command and its arguments
 *   -Pe "service/type/name = value"    set "-o name=value" (the value may
 *                                not contain white space); replaces the
 *                                first such setting, drops later ones
 *   -PX service/type/name        remove every "-o name=..." of the entry
 *
 * A service/type that is not in master.cf draws "unmatched
 * service_name/type" (-Fe/-Pe/-PX) or is ignored (-MX/-M#). Only changed
 * entries are rewritten, in the folded layout of "postconf -Mf"; every
 * other line (comments included) is copied unchanged. The result is
 * parsed again before it is written: an edit that would leave master.cf
 * broken (a duplicate service/type, say) is fatal and changes nothing.
 * The file is replaced through master.cf.tmp + rename() under an
 * exclusive lock, as main.cf is (postconf_edit.c).
 *
 * SECURITY: run by the administrator on a root-owned directory; every
 * field is checked before it is written, so no edit can add a line that
 * master would misread.
 *
 * DIAGNOSTICS: fatal: a bad master.cf edit request (field count, field
 * value, service name/type, attribute, white space in a -Pe value), an
 * entry that does not parse, or an edited file too large; a service that
 * matches nothing is a warning.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "postconf.h"
#include "vstring.h"

#define PC_MASTER_FILE_MAX (16 * 1024 * 1024)

typedef struct PC_MENT {
    char   *fields[PC_FIELD_COUNT];
    ARGV   *args;
    int     edited;             /* rewrite in the folded layout */
    int     removed;
    int     commented;
} PC_MENT;

typedef struct PC_MEDIT {
    PC_MENT *ents;
    int     count;              /* entries in the file, then appended ones */
    int     in_file;
} PC_MEDIT;

static void
pc_ment_set(PC_MENT *m, const MASTER_ENT *ent)
{
    for (int k = 0; k < PC_FIELD_COUNT; k++)
        mem_free(m->fields[k]);
    argv_free(m->args);
    m->fields[0] = mem_strdup(ent->service);
    m->fields[1] = mem_strdup(ent->type_name);
    for (int k = 0; k < 5; k++)
        m->fields[2 + k] = mem_strdup(ent->fields[k] ? ent->fields[k] : "-");
    m->fields[7] = mem_strdup(ent->command);
    m->args = argv_alloc();
    for (size_t i = 0; ent->args && i < ent->args->argc; i++)
        argv_add(m->args, ent->args->argv[i]);
}

/* Check one field value; fatal "invalid <name> field" with context. */
static void
pc_check_field(int k, const char *value, const char *context)
{
    static const char *types[] = {"inet", "unix", "unix-dgram", "fifo", "pass", 0};
    static const char *names[] = {"service", "type", "private", "unprivileged",
        "chroot", "wakeup", "process_limit", "command"};
    const char *p = value;
    int     ok = *value != 0 && value[strcspn(value, " \t\r\n")] == 0;

    if (ok && k == 1) {
        for (ok = 0; types[ok] && strcmp(types[ok], value) != 0; ok++)
             /* void */ ;
        ok = types[ok] != NULL;
    } else if (ok && k >= 2 && k <= 4) {
        ok = strcmp(value, "y") == 0 || strcmp(value, "n") == 0 || strcmp(value, "-") == 0;
    } else if (ok && (k == 5 || k == 6) && strcmp(value, "-") != 0) {
        while (isdigit((unsigned char) *p))
            p++;
        ok = p > value && p - value < 10
            && (*p == 0 || (k == 5 && p[0] == '?' && p[1] == 0));
    } else if (ok && k == 0) {
        ok = *value != '#';
    }
    if (!ok)
        msg_fatal("invalid %s field \"%s\" in \"%s\"", names[k], value, context);
}

/* Parse a complete entry text; fatal with Postfix's messages. */
static MASTER_TABLE *
pc_parse_entry(const char *text, const char *arg)
{
    ARGV   *words = argv_split(text, " \t\r\n");
    MASTER_TABLE *tab;
    char   *err = NULL;

    if (words->argc < PC_FIELD_COUNT)
        msg_fatal("bad field count: \"%s\"", arg);
    for (int k = 0; k < PC_FIELD_COUNT - 1; k++)
        pc_check_field(k, words->argv[k], text);
    argv_free(words);
    if ((tab = mastercf_parse_text(text, "master.cf entry", &err)) == NULL)
        msg_fatal("%s", err);
    if (tab->count != 1)
        msg_fatal("bad entry: \"%s\"", text);
    return tab;
}

/* Split "key = value"; key and value allocated and trimmed. */
static void
pc_split_assign(const char *arg, char **key, char **value)
{
    const char *eq = strchr(arg, '=');
    const char *s = arg, *e;

    if (eq == NULL)
        msg_fatal("missing '=' after attribute name: \"%s\"", arg);
    while (isspace((unsigned char) *s))
        s++;
    for (e = eq; e > s && isspace((unsigned char) e[-1]); e--)
         /* void */ ;
    *key = mem_strndup(s, e - s);
    for (s = eq + 1; isspace((unsigned char) *s); s++)
         /* void */ ;
    for (e = s + strlen(s); e > s && isspace((unsigned char) e[-1]); e--)
         /* void */ ;
    *value = mem_strndup(s, e - s);
}

/* Split key into exactly want parts, none empty; NULL if it does not. */
static ARGV *
pc_split_key(const char *key, size_t want)
{
    ARGV   *parts = argv_alloc();
    const char *s = key, *slash;

    while ((slash = strchr(s, '/')) != NULL) {
        argv_addn(parts, s, slash - s);
        s = slash + 1;
    }
    argv_add(parts, s);
    for (size_t i = 0; i < parts->argc; i++)
        if (*parts->argv[i] == 0 || parts->argv[i][strcspn(parts->argv[i], " \t")] != 0)
            parts->argc = 0;
    if (parts->argc != want) {
        argv_free(parts);
        return NULL;
    }
    return parts;
}

static PC_MENT *
pc_find(PC_MEDIT *ed, const char *service, const char *type)
{
    for (int i = 0; i < ed->count; i++)
        if (!ed->ents[i].removed && strcmp(ed->ents[i].fields[0], service) == 0
            && strcmp(ed->ents[i].fields[1], type) == 0)
            return &ed->ents[i];
    return NULL;
}

/* -Me, -MX, -M#. */
static void
pc_edit_entry(PC_MEDIT *ed, int op, const char *arg)
{
    char   *key, *value = NULL;
    ARGV   *parts;
    PC_MENT *m;
    MASTER_TABLE *tab;

    if (op == 'e')
        pc_split_assign(arg, &key, &value);
    else
        key = mem_strdup(arg);
    if ((parts = pc_split_key(key, 2)) == NULL)
        msg_fatal("-Me, -MX or -M# requires service_name/type");
    m = pc_find(ed, parts->argv[0], parts->argv[1]);
    if (op == 'e') {
        tab = pc_parse_entry(value, arg);
        if (m == NULL) {
            ed->ents = mem_realloc_array(ed->ents, ed->count + 1, sizeof(PC_MENT));
            m = &ed->ents[ed->count++];
            memset(m, 0, sizeof(*m));
        }
        pc_ment_set(m, tab->ents[0]);
        m->edited = 1;
        m->commented = 0;
        mastercf_free(tab);
    } else if (m != NULL) {
        if (op == 'X')
            m->removed = 1;
        else
            m->commented = 1;
    }
    argv_free(parts);
    mem_free(key);
    mem_free(value);
}

/* -Fe. */
static void
pc_edit_field(PC_MENT *m, int k, const char *value)
{
    MASTER_TABLE *tab;
    char   *text;

    if (k != PC_FIELD_COMMAND) {
        pc_check_field(k, value, value);
        mem_free(m->fields[k]);
        m->fields[k] = mem_strdup(value);
        return;
    }
    text = mem_printf("x unix - - - - - %s", value);
    if (*value == 0)
        msg_fatal("invalid command field \"\" in \"\"");
    tab = pc_parse_entry(text, value);
    mem_free(m->fields[k]);
    m->fields[k] = mem_strdup(tab->ents[0]->command);
    argv_free(m->args);
    m->args = argv_alloc();
    for (size_t i = 0; i < tab->ents[0]->args->argc; i++)
        argv_add(m->args, tab->ents[0]->args->argv[i]);
    mastercf_free(tab);
    mem_free(text);
}

/* Is args[i], args[i+1] a "-o name=..." pair for name? */
static int
pc_is_param(const ARGV *args, size_t i, const char *name)
{
    char   *norm;
    size_t  n = strlen(name);
    int     hit;

    if (i + 1 >= args->argc || strcmp(args->argv[i], "-o") != 0)
        return 0;
    norm = postconf_norm_override(args->argv[i + 1]);
    hit = strncmp(norm, name, n) == 0 && norm[n] == '=';
    mem_free(norm);
    return hit;
}

static void
pc_add_param(ARGV *out, const char *name, const char *value)
{
    char   *pair = mem_printf("%s=%s", name, value);

    argv_add(out, "-o");
    argv_add(out, pair);
    mem_free(pair);
}

/* -Pe (value != NULL) and -PX. */
static void
pc_edit_param(PC_MENT *m, const char *name, const char *value)
{
    ARGV   *out = argv_alloc();
    int     done = value == NULL;

    for (size_t i = 0; i < m->args->argc; i++) {
        if (pc_is_param(m->args, i, name)) {
            if (!done) {
                pc_add_param(out, name, value);
                done = 1;
            }
            i++;
            continue;
        }
        argv_add(out, m->args->argv[i]);
    }
    if (!done)
        pc_add_param(out, name, value);
    argv_free(m->args);
    m->args = out;
}

/* -Fe, -Pe, -PX. */
static void
pc_edit_attr(PC_MEDIT *ed, int mode, int op, const char *arg)
{
    char   *key, *value = NULL;
    ARGV   *parts;
    PC_MENT *m;
    int     k = -1;

    if (op == 'e')
        pc_split_assign(arg, &key, &value);
    else
        key = mem_strdup(arg);
    if ((parts = pc_split_key(key, 3)) == NULL)
        msg_fatal(mode == 'F' ? "-Fe requires service_name/type/field"
                  : "-Pe or -PX requires service_name/type/parameter");
    if (mode == 'F' && (k = postconf_field_index(parts->argv[2])) < 0)
        msg_fatal("invalid service attribute name: \"%s\"", parts->argv[2]);
    if (mode == 'P' && value && value[strcspn(value, " \t\r\n")] != 0)
        msg_fatal("-Pe does not accept whitespace in parameter value");
    if ((m = pc_find(ed, parts->argv[0], parts->argv[1])) == NULL) {
        msg_warn("unmatched service_name/type: \"%s\"", arg);
    } else {
        if (mode == 'F')
            pc_edit_field(m, k, value);
        else
            pc_edit_param(m, parts->argv[2], value);
        m->edited = 1;
    }
    argv_free(parts);
    mem_free(key);
    mem_free(value);
}

/* Which entry each physical line belongs to (-1: none). */
static int *
pc_line_owners(const char *text, int *nlines)
{
    const char *line, *end, *p;
    int    *owner = NULL, n = 0, entry = -1;

    for (line = text; *line; line = end) {
        end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        owner = mem_realloc_array(owner, n + 1, sizeof(int));
        for (p = line; p < end && isspace((unsigned char) *p); p++)
             /* void */ ;
        if (p == end || *p == '#')
            owner[n] = -1;
        else
            owner[n] = p == line ? ++entry : entry;
        n++;
    }
    *nlines = n;
    return owner;
}

static void
pc_emit_entry(VSTRING *out, PC_MENT *m)
{
    VSTRING *vs = vstring_alloc(VSTRING_UNLIMITED);

    postconf_format_entry(vs, m->fields, m->args, 1);
    vstring_sprintf_append(out, "%s\n", STR(vs));
    vstring_free(vs);
}

/* The new text of master.cf. */
static void
pc_medit_text(PC_MEDIT *ed, const char *text, VSTRING *out)
{
    const char *line, *end;
    int     nlines, i = 0, o, prev = -1;
    int    *owner = pc_line_owners(text, &nlines);

    for (line = text; *line; line = end, i++) {
        end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        o = owner[i];
        if (o < 0 || o >= ed->in_file) {
            vstring_ncat(out, line, end - line);
        } else if (ed->ents[o].removed || (ed->ents[o].edited && !ed->ents[o].commented)) {
            if (ed->ents[o].edited && !ed->ents[o].removed && o != prev)
                pc_emit_entry(out, &ed->ents[o]);
        } else {
            if (ed->ents[o].commented)
                vstring_addch(out, '#');
            vstring_ncat(out, line, end - line);
        }
        if (o >= 0)
            prev = o;
        if (LEN(out) && STR(out)[LEN(out) - 1] != '\n')
            vstring_addch(out, '\n');
    }
    for (o = ed->in_file; o < ed->count; o++)
        if (!ed->ents[o].removed)
            pc_emit_entry(out, &ed->ents[o]);
    mem_free(owner);
}

int
postconf_edit_master(int mode, int op, char **args)
{
    char   *path = mem_printf("%s/master.cf", config_directory());
    char   *text, *err = NULL;
    VSTRING *out = vstring_alloc(PC_MASTER_FILE_MAX);
    MASTER_TABLE *tab, *check;
    PC_MEDIT ed;
    struct stat st;
    int     fd, have_st, i;

    fd = postconf_lock_file(path);
    have_st = fstat(fd, &st) == 0;
    text = postconf_read_fd(fd, path);
    if ((tab = mastercf_parse_text(text, path, &err)) == NULL)
        msg_fatal("%s", err);
    memset(&ed, 0, sizeof(ed));
    ed.count = ed.in_file = tab->count;
    ed.ents = mem_array(tab->count + 1, sizeof(PC_MENT));
    for (i = 0; i < tab->count; i++)
        pc_ment_set(&ed.ents[i], tab->ents[i]);
    mastercf_free(tab);
    for (i = 0; args[i]; i++) {
        if (mode == 'M')
            pc_edit_entry(&ed, op, args[i]);
        else
            pc_edit_attr(&ed, mode, op, args[i]);
    }
    pc_medit_text(&ed, text, out);
    if (out->overflow)
        msg_fatal("%s: edited file too large", path);
    if ((check = mastercf_parse_text(STR(out), path, &err)) == NULL)
        msg_fatal("%s; %s left unchanged", err, path);
    mastercf_free(check);
    postconf_write_atomic(path, STR(out), LEN(out), have_st ? &st : NULL);
    close(fd);
    for (i = 0; i < ed.count; i++) {
        for (int k = 0; k < PC_FIELD_COUNT; k++)
            mem_free(ed.ents[i].fields[k]);
        argv_free(ed.ents[i].args);
    }
    mem_free(ed.ents);
    mem_free(text);
    mem_free(path);
    vstring_free(out);
    return 0;
}
