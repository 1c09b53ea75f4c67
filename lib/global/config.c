/*
 * config.c - main.cf: parsing, built-in defaults, $name expansion, overrides.
 *
 * Interface: config.h. Every name the process uses lives in one hash
 * table: a built-in parameter of params.c (found by binary search in the
 * sorted table, in its relocation-free form param_rows: mkparams.py) and a per-transport one of a master.cf delivery service
 * get their entry when first named, every name set in main.cf or by
 * config_override() when set; config_walk() and config_unknown_names()
 * enter them all first. A daemon thus holds the hundred or so names it
 * reads, not all 800 (about 120 kB of heap per process). The value of a name
 * is its override, else its main.cf text, else its built-in default (a
 * computed one is resolved through param_compute_default()). Expanded
 * values are cached until the configuration changes; a string handed out
 * stays valid until config_reset(), so callers may keep it.
 *
 * Expansion (see config.h for the forms) is recursive and bounded twice:
 * by CONFIG_EXPAND_DEPTH nested macro calls (a loop "a = $b, b = $a" ends
 * in a fatal error, not a stack overflow) and by CONFIG_EXPAND_MAX bytes
 * of output.
 *
 * SECURITY: main.cf is read from a root-owned file; a logical line is
 * limited to CONFIG_LINE_MAX bytes, numeric values are range-checked, and
 * bad syntax is reported, never crashes. The typed getters end the
 * process with msg_fatal() on a bad value, as Postfix does.
 *
 * DIAGNOSTICS: fatal, with Postfix's wording, for what makes the
 * configuration unusable: main.cf that cannot be opened or read, is too
 * large or holds a NUL byte, a logical line too long, a main.cf line
 * without '=' after the name, a value whose expansion is too long or nests
 * too deeply, a parameter file (name = /path) that cannot be read or is
 * empty, and a value of the wrong type or out of range (naming the
 * parameter and the value). Warnings only: a logical line that starts with
 * white space, a syntax error in a $name reference, a reference to an
 * undefined parameter.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "htable.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "vstring.h"

#define CONFIG_EXPAND_DEPTH 100
#define CONFIG_EXPAND_MAX   (1024 * 1024)

typedef struct CONF_ENT {
    char   *name;
    const PARAM_INFO *info;     /* NULL: not a built-in parameter */
    PARAM_INFO *dyn_info;       /* per-transport parameter, owned */
    PARAM_INFO builtin;         /* info of a built-in one, from param_rows */
    char   *file_value;         /* main.cf text, NULL if not there */
    char   *override;           /* config_override(), NULL if none */
    char   *computed;           /* computed default, valid for gen */
    unsigned computed_gen;
    int     computing;          /* recursion guard for computed defaults */
    char   *expanded;           /* expansion cache, valid for gen */
    unsigned expanded_gen;
} CONF_ENT;

static struct {
    HTABLE *names;              /* name -> CONF_ENT */
    ARGV   *agents;             /* master.cf delivery services: service, command, ... */
    int     table_loaded;       /* every entry made (config_load_all) */
    unsigned gen;               /* bumped on every change */
    char   *dir;                /* config directory in use */
    char   *origin;             /* path of the main.cf read, for messages */
    ARGV   *graveyard;          /* retired strings, freed by config_reset */
    int     warn_undefined;
} conf = { .gen = 1 };

/* ---- the name table ---------------------------------------------------- */

static CONF_ENT *
config_find_ent(const char *name)
{
    return conf.names ? htable_find(conf.names, name) : NULL;
}

static CONF_ENT *
config_add_ent(const char *name)
{
    CONF_ENT *e = mem_alloc(sizeof(*e));

    if (conf.names == NULL)
        conf.names = htable_create(256);
    e->name = htable_enter(conf.names, name, e)->key;
    return e;
}

/* The row of the built-in parameter name (param_rows is sorted by name), or NULL. */
static const PARAM_ROW *
config_builtin(const char *name)
{
    int     lo = 0, hi = param_rows_size, mid, cmp;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if ((cmp = strcmp(name, param_row_string(param_rows[mid].name))) == 0)
            return &param_rows[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* A new entry for a built-in parameter, its PARAM_INFO made from its row. */
static CONF_ENT *
config_add_builtin(const PARAM_ROW *row)
{
    CONF_ENT *e = config_add_ent(param_row_string(row->name));

    e->builtin.name = e->name;
    e->builtin.dflt = row->dflt == PARAM_ROW_COMPUTED ? NULL : param_row_string(row->dflt);
    e->builtin.type = row->type;
    e->builtin.min = row->min;
    e->builtin.max = row->max;
    e->builtin.time_unit = row->time_unit;
    e->builtin.flags = row->flags;
    e->info = &e->builtin;
    return e;
}

static CONF_ENT *config_transport_ent(const char *name);

/* name's entry; a built-in or per-transport parameter gets one on first use. */
static CONF_ENT *
config_ent(const char *name)
{
    CONF_ENT *e = config_find_ent(name);
    const PARAM_ROW *row;

    if (e != NULL)
        return e;
    if ((row = config_builtin(name)) != NULL)
        return config_add_builtin(row);
    return config_transport_ent(name);
}

static void config_load_all(void);

/* Every entry, sorted by name; free with mem_free(). */
static int
config_cmp_ents(const void *a, const void *b)
{
    return strcmp((*(HTABLE_INFO * const *) a)->key, (*(HTABLE_INFO * const *) b)->key);
}

static HTABLE_INFO **
config_ents(size_t *count)
{
    HTABLE_INFO **list;

    config_load_all();
    list = htable_list(conf.names);
    *count = htable_used(conf.names);
    qsort(list, *count, sizeof(*list), config_cmp_ents);
    return list;
}

/*
 * Keep an old string alive until config_reset(): callers may hold it, so
 * the graveyard takes the very pointer that was handed out, not a copy.
 */
static void
config_retire(char *str)
{
    if (str == NULL)
        return;
    if (conf.graveyard == NULL)
        conf.graveyard = argv_alloc();
    argv_add_owned(conf.graveyard, str);
}

static void
config_free_ent(void *ptr)
{
    CONF_ENT *e = ptr;

    mem_free(e->file_value);
    mem_free(e->override);
    mem_free(e->computed);
    mem_free(e->expanded);
    if (e->dyn_info) {
        mem_free((char *) e->dyn_info->name);
        mem_free((char *) e->dyn_info->dflt);
        mem_free(e->dyn_info);
    }
    mem_free(e);
}

void
config_reset(void)
{
    htable_free(conf.names, config_free_ent);
    conf.names = NULL;
    argv_free(conf.graveyard);
    conf.graveyard = NULL;
    argv_free(conf.agents);
    conf.agents = NULL;
    mem_free(conf.dir);
    mem_free(conf.origin);
    conf.dir = conf.origin = NULL;
    conf.table_loaded = 0;
    conf.gen++;
}

/* ---- main.cf parsing --------------------------------------------------- */

/* name's entry, made when there is none. */
static CONF_ENT *
config_ent_make(const char *name)
{
    CONF_ENT *e = config_ent(name);

    return e != NULL ? e : config_add_ent(name);
}

/* Replace one of an entry's values (its file value or override). */
static void
config_replace(char **slot, const char *value)
{
    config_retire(*slot);
    *slot = mem_strdup(value);
    conf.gen++;
}

static void
config_set_file_value(const char *name, const char *value)
{
    config_replace(&config_ent_make(name)->file_value, value);
}

/* One logical line: "name = value" (already trimmed at both ends). */
static void
config_parse_logical(char *line, const char *origin, int lineno)
{
    char   *eq = strchr(line, '=');
    char   *name_end, *value;

    if (eq != NULL) {
        for (name_end = eq; name_end > line && isspace((unsigned char) name_end[-1]); name_end--)
             /* void */ ;
        *name_end = 0;
    }
    if (eq == NULL || *line == 0 || line[strcspn(line, " \t\r\n\v\f")] != 0)
        msg_fatal("%s, line %d: missing '=' after attribute name: \"%s\"",
                  origin, lineno, line);
    for (value = eq + 1; isspace((unsigned char) *value); value++)
         /* void */ ;
    config_set_file_value(line, value);
}

static void
config_trim_end(VSTRING *vs)
{
    size_t  len = LEN(vs);

    while (len > 0 && isspace((unsigned char) STR(vs)[len - 1]))
        len--;
    vstring_truncate(vs, len);
}

static void
config_flush_logical(VSTRING *logical, const char *origin, int lineno)
{
    if (LEN(logical) == 0)
        return;
    config_trim_end(logical);
    config_parse_logical(STR(logical), origin, lineno);
    vstring_reset(logical);
}

void
config_load_text(const char *text, const char *origin)
{
    VSTRING *logical = vstring_alloc(CONFIG_LINE_MAX);
    const char *line, *end, *p;
    int     lineno = 0, start_line = 0;

    for (line = text; *line; line = end) {
        end = strchr(line, '\n');
        end = end ? end + 1 : line + strlen(line);
        lineno++;
        for (p = line; p < end && isspace((unsigned char) *p); p++)
             /* void */ ;
        if (p == end || *p == '#')
            continue;                       /* blank or comment line */
        if (p == line) {                    /* a new logical line */
            config_flush_logical(logical, origin, start_line);
            start_line = lineno;
        } else if (LEN(logical) == 0) {
            msg_warn("%s, line %d: logical line must not start with white space: \"%.*s\"",
                     origin, lineno, (int) (end - line - (end[-1] == '\n')), line);
            continue;
        }
        if (vstring_ncat(logical, line, end - line - (end[-1] == '\n')) < 0)
            msg_fatal("%s, line %d: logical line longer than %d bytes",
                      origin, start_line, CONFIG_LINE_MAX);
    }
    config_flush_logical(logical, origin, start_line);
    vstring_free(logical);
}

void
config_load(const char *dir)
{
    char   *path, *text;
    FILE   *fp;
    size_t  len = 0, cap = 8192, n;

    if (dir == NULL || *dir == 0)
        dir = getenv("MAIL_CONFIG");
    if (dir != NULL && *dir != 0)
        config_override("config_directory", dir);
    else
        dir = CONFIG_DEFAULT_DIR;
    mem_free(conf.dir);
    conf.dir = mem_strdup(dir);
    path = mem_printf("%s/main.cf", dir);
    mem_free(conf.origin);
    conf.origin = mem_strdup(path);
    if ((fp = fopen(path, "r")) == NULL)
        msg_fatal("open %s: %s", path, strerror(errno));
    text = mem_alloc(cap);
    while ((n = fread(text + len, 1, cap - len - 1, fp)) > 0) {
        len += n;
        if (len + 1 >= cap) {
            if (cap > 64 * CONFIG_LINE_MAX * 16)
                msg_fatal("%s: file too large", path);
            text = mem_realloc(text, cap *= 2);
        }
    }
    if (ferror(fp))
        msg_fatal("read %s: %s", path, strerror(errno));
    fclose(fp);
    text[len] = 0;
    if (strlen(text) != len)
        msg_fatal("%s: file contains a null byte", path);
    config_load_text(text, path);
    mem_free(text);
    mem_free(path);
    config_load_services(dir);
}

const char *
config_directory(void)
{
    const char *dir;

    if (conf.dir)
        return conf.dir;
    dir = getenv("MAIL_CONFIG");
    return dir && *dir ? dir : CONFIG_DEFAULT_DIR;
}

/* ---- per-transport parameters ---------------------------------------- */

static const struct {
    const char *suffix;
    const char *dflt;           /* NULL: "$default_<suffix>" */
    PARAM_TYPE type;
} config_transport_params[] = {
    {"delivery_slot_cost", NULL, PARAM_INT},
    {"delivery_slot_discount", NULL, PARAM_INT},
    {"delivery_slot_loan", NULL, PARAM_INT},
    {"destination_concurrency_failed_cohort_limit", NULL, PARAM_INT},
    {"destination_concurrency_limit", NULL, PARAM_INT},
    {"destination_concurrency_negative_feedback", NULL, PARAM_STR},
    {"destination_concurrency_positive_feedback", NULL, PARAM_STR},
    {"destination_rate_delay", NULL, PARAM_TIME},
    {"destination_recipient_limit", NULL, PARAM_INT},
    {"extra_recipient_limit", NULL, PARAM_INT},
    {"initial_destination_concurrency", "$initial_destination_concurrency", PARAM_INT},
    {"minimum_delivery_slots", NULL, PARAM_INT},
    {"recipient_limit", NULL, PARAM_INT},
    {"recipient_refill_delay", NULL, PARAM_TIME},
    {"recipient_refill_limit", NULL, PARAM_INT},
    {"transport_rate_delay", NULL, PARAM_TIME},
};

static const char *config_delivery_agents[] = {
    "smtp", "lmtp", "local", "virtual", "pipe", "error", NULL,
};

/*
 * A per-transport parameter takes its bounds from the global one it
 * defaults to ("$default_x" or "$x"), so the same values are refused,
 * and its implemented mark (no "not implemented" warning for
 * mypipe_destination_recipient_limit). A built-in of the same name wins.
 */
static CONF_ENT *
config_register_one(const char *name, const char *dflt, PARAM_TYPE type)
{
    CONF_ENT *e = config_find_ent(name);
    const PARAM_INFO *global;
    PARAM_INFO *info;

    if (e == NULL && config_builtin(name) != NULL)
        return config_ent(name);
    if (e != NULL && e->info != NULL)
        return e;                       /* built in, or done already */
    if (e == NULL)
        e = config_add_ent(name);
    global = config_param_info(dflt + 1);
    info = mem_alloc(sizeof(*info));
    info->name = mem_strdup(name);
    info->dflt = mem_strdup(dflt);
    info->type = type;
    info->time_unit = type == PARAM_TIME ? 's' : 0;
    if (global != NULL && global->type == type) {
        info->min = global->min;
        info->max = global->max;
        info->time_unit = global->time_unit;
        info->flags = global->flags & PARAM_FLAG_IMPL;  /* read where the global is */
    }
    e->info = e->dyn_info = info;
    return e;
}

#define CONFIG_TRANSPORT_COUNT \
    (sizeof(config_transport_params) / sizeof(config_transport_params[0]))

/* Parameter k of a service with command (k == CONFIG_TRANSPORT_COUNT: pipe's time limit). */
static CONF_ENT *
config_register_param(const char *service, const char *command, size_t k)
{
    char   *name, *dflt;
    CONF_ENT *e;

    if (k == CONFIG_TRANSPORT_COUNT) {
        if (strcmp(command, "pipe") != 0)
            return NULL;
        name = mem_printf("%s_time_limit", service);
        e = config_register_one(name, "$command_time_limit", PARAM_TIME);
        mem_free(name);
        return e;
    }
    name = mem_printf("%s_%s", service, config_transport_params[k].suffix);
    dflt = config_transport_params[k].dflt ? mem_strdup(config_transport_params[k].dflt)
        : mem_printf("$default_%s", config_transport_params[k].suffix);
    e = config_register_one(name, dflt, config_transport_params[k].type);
    mem_free(name);
    mem_free(dflt);
    return e;
}

/* Which parameter of the service is name ("<service>_<suffix>")? -1: none. */
static int
config_transport_index(const char *name, const char *service, const char *command)
{
    size_t  len = strlen(service), k;

    if (strncmp(name, service, len) != 0 || name[len] != '_')
        return -1;
    name += len + 1;
    for (k = 0; k < CONFIG_TRANSPORT_COUNT; k++)
        if (strcmp(name, config_transport_params[k].suffix) == 0)
            return (int) k;
    if (strcmp(command, "pipe") == 0 && strcmp(name, "time_limit") == 0)
        return (int) k;
    return -1;
}

/* name, when it is a per-transport parameter of a known service (the first that matches). */
static CONF_ENT *
config_transport_ent(const char *name)
{
    size_t  i;
    int     k;

    for (i = 0; conf.agents && i + 1 < conf.agents->argc; i += 2)
        if ((k = config_transport_index(name, conf.agents->argv[i], conf.agents->argv[i + 1])) >= 0)
            return config_register_param(conf.agents->argv[i], conf.agents->argv[i + 1], k);
    return NULL;
}

/*
 * Remember a delivery service; its parameters get entries when named.
 * One already set in main.cf or by -o gets its description now.
 */
void
config_register_service(const char *service, const char *command)
{
    size_t  i, k;
    char   *name;

    for (i = 0; config_delivery_agents[i]; i++)
        if (strcmp(command, config_delivery_agents[i]) == 0)
            break;
    if (config_delivery_agents[i] == NULL)
        return;
    if (conf.agents == NULL)
        conf.agents = argv_alloc();
    argv_add(conf.agents, service);
    argv_add(conf.agents, command);
    for (k = 0; k <= CONFIG_TRANSPORT_COUNT; k++) {
        name = k < CONFIG_TRANSPORT_COUNT
            ? mem_printf("%s_%s", service, config_transport_params[k].suffix)
            : mem_printf("%s_time_limit", service);
        if (conf.table_loaded || config_find_ent(name) != NULL)
            (void) config_transport_ent(name);
        mem_free(name);
    }
    conf.gen++;                         /* $names may mean something new */
}

/* Every built-in parameter and every per-transport one: for listing them all. */
static void
config_load_all(void)
{
    size_t  i, k;
    int     n;

    if (conf.table_loaded)
        return;
    conf.table_loaded = 1;
    for (n = 0; n < param_rows_size; n++)
        (void) config_ent(param_row_string(param_rows[n].name));
    for (i = 0; conf.agents && i + 1 < conf.agents->argc; i += 2)
        for (k = 0; k <= CONFIG_TRANSPORT_COUNT; k++)
            (void) config_register_param(conf.agents->argv[i], conf.agents->argv[i + 1], k);
    if (conf.names == NULL)
        conf.names = htable_create(256);
}

void
config_load_services(const char *dir)
{
    char   *path = mem_printf("%s/master.cf", dir ? dir : config_directory());
    char   *err = NULL;
    MASTER_TABLE *tab = mastercf_load(path, &err);
    int     i;

    mem_free(err);                      /* master reports master.cf errors */
    for (i = 0; tab && i < tab->count; i++)
        if (tab->ents[i]->type == MASTER_UNIX)
            config_register_service(tab->ents[i]->service, tab->ents[i]->command);
    mastercf_free(tab);
    mem_free(path);
}

/* ---- overrides --------------------------------------------------------- */

void
config_override(const char *name, const char *value)
{
    config_replace(&config_ent_make(name)->override, value);
}

int
config_override_arg(const char *name_eq_value)
{
    const char *eq = strchr(name_eq_value, '=');
    const char *ne, *v;
    char   *name;

    if (eq == NULL)
        return -1;
    for (ne = eq; ne > name_eq_value && isspace((unsigned char) ne[-1]); ne--)
         /* void */ ;
    while (isspace((unsigned char) *name_eq_value) && name_eq_value < ne)
        name_eq_value++;
    if (ne == name_eq_value)
        return -1;
    for (v = eq + 1; isspace((unsigned char) *v); v++)
         /* void */ ;
    name = mem_strndup(name_eq_value, ne - name_eq_value);
    config_override(name, v);
    mem_free(name);
    return 0;
}

/* ---- raw values -------------------------------------------------------- */

static const char *
config_ent_default(CONF_ENT *e)
{
    if (e == NULL || e->info == NULL)
        return NULL;
    if (e->info->dflt != NULL)
        return e->info->dflt;
    if (e->computed == NULL || e->computed_gen != conf.gen) {
        char   *value;

        if (e->computing)
            return "";
        e->computing = 1;
        value = param_compute_default(e->name);
        e->computing = 0;
        config_retire(e->computed);
        e->computed = value ? value : mem_strdup("");
        e->computed_gen = conf.gen;
    }
    return e->computed;
}

static const char *
config_ent_raw(CONF_ENT *e)
{
    if (e == NULL)
        return NULL;
    if (e->override)
        return e->override;
    if (e->file_value)
        return e->file_value;
    return config_ent_default(e);
}

const char *
config_raw(const char *name)
{
    return config_ent_raw(config_ent(name));
}

const char *
config_default(const char *name)
{
    return config_ent_default(config_ent(name));
}

int
config_is_set(const char *name)
{
    CONF_ENT *e = config_ent(name);

    return e != NULL && (e->override != NULL || e->file_value != NULL);
}

int
config_in_file(const char *name)
{
    CONF_ENT *e = config_ent(name);

    return e != NULL && e->file_value != NULL;
}

const char *
config_file_value(const char *name)
{
    CONF_ENT *e = config_ent(name);

    return e ? e->file_value : NULL;
}

const PARAM_INFO *
config_param_info(const char *name)
{
    CONF_ENT *e = config_ent(name);

    return e ? e->info : NULL;
}

void
config_warn_undefined(int on)
{
    conf.warn_undefined = on;
}

/* ---- expansion --------------------------------------------------------- */

static void config_expand_text(VSTRING *out, const char *text, size_t len, int depth);

#define IS_NAME_CHAR(c) (isalnum((unsigned char) (c)) || (c) == '_')

static void
config_check_out(VSTRING *out)
{
    if (out->overflow)
        msg_fatal("parameter expansion result longer than %d bytes", CONFIG_EXPAND_MAX);
}

/* Append the expanded value of a parameter (empty if unknown). */
static void
config_expand_name(VSTRING *out, const char *name, size_t len, int depth)
{
    char   *n = mem_strndup(name, len);
    const char *raw = config_raw(n);

    if (raw == NULL) {
        if (conf.warn_undefined)
            msg_warn("%s: undefined parameter: %s",
                     conf.origin ? conf.origin : "main.cf", n);
    } else {
        if (depth >= CONFIG_EXPAND_DEPTH)
            msg_fatal("unreasonable macro call nesting: \"%s\"", n);
        config_expand_text(out, raw, strlen(raw), depth + 1);
    }
    mem_free(n);
}

/* Find the '}' or ')' that closes the text starting at s (after the opener). */
static const char *
config_find_close(const char *s, const char *end, char open, char close)
{
    int     level = 1;

    for (; s < end; s++) {
        if (*s == open)
            level++;
        else if (*s == close && --level == 0)
            return s;
    }
    return NULL;
}

static const char *
config_skip_space(const char *s, const char *end)
{
    while (s < end && isspace((unsigned char) *s))
        s++;
    return s;
}

/* Parse "{text}" at s; returns the position after '}' or NULL. */
static const char *
config_brace_arg(const char *s, const char *end, const char **arg, size_t *len)
{
    const char *close;

    s = config_skip_space(s, end);
    if (s >= end || *s != '{' || (close = config_find_close(s + 1, end, '{', '}')) == NULL)
        return NULL;
    *arg = s + 1;
    *len = close - (s + 1);
    return close + 1;
}

static char *
config_expand_piece(const char *text, size_t len, int depth)
{
    VSTRING *vs = vstring_alloc(CONFIG_EXPAND_MAX);

    config_expand_text(vs, text, len, depth);
    return vstring_export(vs);
}

static int
config_is_number(const char *s, long *val)
{
    char   *end;

    if (*s == 0 || !(isdigit((unsigned char) *s) || *s == '-' || *s == '+'))
        return 0;
    errno = 0;
    *val = strtol(s, &end, 10);
    return *end == 0 && errno == 0;
}

/* Compare compatibility levels "major[.minor[.patch]]"; -2: not a level. */
static int
config_level_cmp(const char *a, const char *b)
{
    long    va[3] = {0, 0, 0}, vb[3] = {0, 0, 0};
    const char *s[2] = {a, b};
    long   *v[2] = {va, vb};
    char   *end;
    int     i, k;

    for (i = 0; i < 2; i++) {
        const char *p = s[i];

        for (k = 0; k < 3; k++) {
            if (!isdigit((unsigned char) *p))
                return -2;
            errno = 0;
            v[i][k] = strtol(p, &end, 10);
            if (errno)
                return -2;
            p = end;
            if (*p == 0)
                break;
            if (*p != '.' || k == 2)
                return -2;
            p++;
        }
    }
    for (k = 0; k < 3; k++)
        if (va[k] != vb[k])
            return va[k] < vb[k] ? -1 : 1;
    return 0;
}

int
config_compat_below(const char *level)
{
    return config_level_cmp(config_str("compatibility_level"), level) == -1;
}

int
config_compat_break(const char *name, const char *level)
{
    return !config_is_set(name) && config_compat_below(level);
}

/* Evaluate "op" for two expanded operands; -1 on a bad operator/operand. */
static int
config_relation(const char *l, const char *op, size_t oplen, const char *r)
{
    static const char *ops[] = {"==", "!=", "<", "<=", ">", ">="};
    long    lv, rv;
    int     cmp, i, level = 0;

    if (oplen > 5 && strncmp(op + oplen - 5, "level", 5) == 0) {
        level = 1;
        oplen -= 5;
    }
    for (i = 0; i < 6; i++)
        if (strlen(ops[i]) == oplen && strncmp(op, ops[i], oplen) == 0)
            break;
    if (i == 6)
        return -1;
    if (level) {
        if ((cmp = config_level_cmp(l, r)) == -2)
            return -1;
    } else if (config_is_number(l, &lv) && config_is_number(r, &rv)) {
        cmp = lv < rv ? -1 : lv > rv;
    } else {
        if (i >= 2)
            return -1;
        cmp = strcmp(l, r);
    }
    switch (i) {
    case 0: return cmp == 0;
    case 1: return cmp != 0;
    case 2: return cmp < 0;
    case 3: return cmp <= 0;
    case 4: return cmp > 0;
    default: return cmp >= 0;
    }
}

/* "{text1} op {text2} ? {a} : {b}" (inside the outer braces). */
static int
config_expand_relation(VSTRING *out, const char *s, const char *end, int depth)
{
    const char *t1, *t2, *a, *b = NULL, *op, *op_end;
    size_t  l1, l2, la, lb = 0;
    char   *v1, *v2;
    int     result;

    if ((s = config_brace_arg(s, end, &t1, &l1)) == NULL)
        return -1;
    op = s = config_skip_space(s, end);
    while (s < end && *s && strchr("=!<>level", *s))
        s++;
    op_end = s;
    if ((s = config_brace_arg(s, end, &t2, &l2)) == NULL)
        return -1;
    s = config_skip_space(s, end);
    if (s >= end || *s != '?' || (s = config_brace_arg(s + 1, end, &a, &la)) == NULL)
        return -1;
    s = config_skip_space(s, end);
    if (s < end && *s == ':' && (s = config_brace_arg(s + 1, end, &b, &lb)) == NULL)
        return -1;
    if (config_skip_space(s, end) != end)
        return -1;
    v1 = config_expand_piece(t1, l1, depth);
    v2 = config_expand_piece(t2, l2, depth);
    result = config_relation(v1, op, op_end - op, v2);
    mem_free(v1);
    mem_free(v2);
    if (result < 0)
        return -1;
    if (result)
        config_expand_text(out, a, la, depth);
    else if (b)
        config_expand_text(out, b, lb, depth);
    return 0;
}

/* The inside of ${...} or $(...): name, name?x, name:x, relations. */
static int
config_expand_macro(VSTRING *out, const char *s, const char *end, int depth)
{
    const char *name = s, *a, *b = NULL;
    size_t  nlen, la, lb = 0;
    VSTRING *val;
    int     empty;

    s = config_skip_space(s, end);
    if (s < end && *s == '{')
        return config_expand_relation(out, s, end, depth);
    while (s < end && IS_NAME_CHAR(*s))
        s++;
    if ((nlen = s - name) == 0)
        return -1;
    s = config_skip_space(s, end);
    if (s == end) {
        config_expand_name(out, name, nlen, depth);
        return 0;
    }
    if (*s != '?' && *s != ':')
        return -1;
    val = vstring_alloc(CONFIG_EXPAND_MAX);
    config_expand_name(val, name, nlen, depth);
    empty = LEN(val) == 0;
    vstring_free(val);
    if (config_skip_space(s + 1, end) < end && *config_skip_space(s + 1, end) == '{') {
        const char *r = config_brace_arg(s + 1, end, &a, &la);

        if (r == NULL)
            return -1;
        r = config_skip_space(r, end);
        if (*s == '?' && r < end && *r == ':')
            r = config_brace_arg(r + 1, end, &b, &lb);
        if (r == NULL || config_skip_space(r, end) != end)
            return -1;
    } else {
        a = s + 1;
        la = end - a;
    }
    if (*s == '?' ? !empty : empty)
        config_expand_text(out, a, la, depth);
    else if (b)
        config_expand_text(out, b, lb, depth);
    return 0;
}

static void
config_expand_text(VSTRING *out, const char *text, size_t len, int depth)
{
    const char *s = text, *end = text + len, *name, *close;

    if (depth > CONFIG_EXPAND_DEPTH)
        msg_fatal("unreasonable macro call nesting: \"%.*s\"", (int) (len > 100 ? 100 : len), text);
    while (s < end) {
        if (*s != '$' || s + 1 >= end) {
            vstring_addch(out, *s++);
            continue;
        }
        s++;
        if (*s == '$') {
            vstring_addch(out, '$');
            s++;
        } else if (IS_NAME_CHAR(*s)) {
            for (name = s; s < end && IS_NAME_CHAR(*s); s++)
                 /* void */ ;
            config_expand_name(out, name, s - name, depth);
        } else if ((*s == '{' || *s == '(')
                   && (close = config_find_close(s + 1, end, *s, *s == '{' ? '}' : ')')) != NULL) {
            if (config_expand_macro(out, s + 1, close, depth) < 0) {
                msg_warn("syntax error in parameter value: \"$%.*s\"",
                         (int) (close + 1 - s), s);
                vstring_addch(out, '$');
                vstring_ncat(out, s, close + 1 - s);
            }
            s = close + 1;
        } else {
            vstring_addch(out, '$');    /* a lone '$' stays as it is */
        }
        config_check_out(out);
    }
    config_check_out(out);
}

char   *
config_expand(const char *text)
{
    return config_expand_piece(text, strlen(text), 0);
}

/* ---- values ------------------------------------------------------------ */

/*
 * PARAM_FLAG_FILE: "/path" stands for the first word of that file.
 * Fatal when the file cannot be read or holds no word, as a bad value
 * of any other parameter is. Takes value (allocated), returns one.
 */
static char *
config_file_word(const char *name, char *value)
{
    char    line[1024], *word, *end;
    FILE   *fp;

    if ((fp = fopen(value, "r")) == NULL)
        msg_fatal("parameter %s: open %s: %m", name, value);
    if (fgets(line, sizeof(line), fp) == NULL)
        line[0] = 0;
    fclose(fp);
    for (word = line; isspace((unsigned char) *word); word++)
         /* void */ ;
    for (end = word; *end && !isspace((unsigned char) *end); end++)
         /* void */ ;
    if (end == word)
        msg_fatal("parameter %s: file %s holds no name", name, value);
    *end = 0;
    mem_free(value);
    return mem_strdup(word);
}

const char *
config_lookup(const char *name)
{
    CONF_ENT *e = config_ent(name);
    const char *raw = config_ent_raw(e);

    if (raw == NULL)
        return NULL;
    if (e->info && (e->info->flags & PARAM_FLAG_RAW))
        return raw;
    if (e->expanded == NULL || e->expanded_gen != conf.gen) {
        char   *value = config_expand(raw);

        if (e->info && (e->info->flags & PARAM_FLAG_FILE) && *value == '/')
            value = config_file_word(name, value);
        /* config_expand may have grown the table, but e stays valid */
        config_retire(e->expanded);
        e->expanded = value;
        e->expanded_gen = conf.gen;
    }
    return e->expanded;
}

const char *
config_str(const char *name)
{
    const char *value = config_lookup(name);

    return value ? value : "";
}

static void
config_check_range(const char *name, long value)
{
    const PARAM_INFO *info = config_param_info(name);

    if (info == NULL)
        return;
    if (info->min != 0 && value < info->min)
        msg_fatal("invalid %s parameter value %ld < %ld", name, value, info->min);
    if (info->max != 0 && value > info->max)
        msg_fatal("invalid %s parameter value %ld > %ld", name, value, info->max);
}

/* A decimal number in range; a size also has no sign and no space. */
static long
config_number(const char *name, int is_size)
{
    const char *value = config_str(name);
    char   *end;
    long    result;

    errno = 0;
    result = strtol(value, &end, 10);
    if (*value == 0 || *end != 0 || errno != 0 || isspace((unsigned char) *value)
        || (is_size && (result < 0 || !isdigit((unsigned char) *value))))
        msg_fatal("bad numerical configuration: %s = %s", name, value);
    config_check_range(name, result);
    return result;
}

long
config_int(const char *name)
{
    return config_number(name, 0);
}

long
config_size(const char *name)
{
    return config_number(name, 1);
}

int
config_parse_bool(const char *value, int *result)
{
    if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0) {
        *result = 1;
        return 0;
    }
    if (strcasecmp(value, "no") == 0 || strcasecmp(value, "false") == 0) {
        *result = 0;
        return 0;
    }
    return -1;
}

int
config_bool(const char *name)
{
    const char *value = config_str(name);
    int     result;

    if (config_parse_bool(value, &result) < 0)
        msg_fatal("bad boolean configuration: %s = %s", name, value);
    return result;
}

int
config_parse_time(const char *value, char default_unit, long *seconds)
{
    char   *end;
    long    n, mult;
    char    unit;

    if (!isdigit((unsigned char) *value))
        return -1;
    errno = 0;
    n = strtol(value, &end, 10);
    if (errno != 0)
        return -1;
    if (*end == 0)
        unit = default_unit ? default_unit : 's';
    else if (end[1] == 0)
        unit = *end;
    else
        return -1;
    switch (unit) {
    case 's': mult = 1; break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 7 * 86400; break;
    default: return -1;
    }
    if (n > INT_MAX / mult)
        return -1;
    *seconds = n * mult;
    return 0;
}

long
config_time(const char *name)
{
    const PARAM_INFO *info = config_param_info(name);
    const char *value = config_str(name);
    long    result;

    if (config_parse_time(value, info ? info->time_unit : 's', &result) < 0)
        msg_fatal("parameter %s: bad time value or unit: %s", name, value);
    config_check_range(name, result);
    return result;
}

ARGV   *
config_list(const char *name)
{
    return argv_split_list(config_str(name));
}

/* ---- walking ----------------------------------------------------------- */

/* Entries stay put while the table grows, so the snapshot stays valid. */
void
config_walk(CONFIG_WALK_FN fn, void *ctx)
{
    HTABLE_INFO **list;
    CONF_ENT *e;
    size_t  i, count;

    list = config_ents(&count);
    for (i = 0; i < count; i++) {
        e = list[i]->value;
        if (e->info || e->file_value || e->override)
            fn(e->name, ctx);
    }
    mem_free(list);
}

/* Does this value mention $name / ${name / $(name? */
static int
config_value_uses(const char *value, const char *name, size_t nlen)
{
    const char *p, *q;

    for (p = value; p && (p = strchr(p, '$')) != NULL; p++) {
        q = p + 1;
        if (*q == '{' || *q == '(')
            q++;
        if (strncmp(q, name, nlen) == 0 && !IS_NAME_CHAR(q[nlen]))
            return 1;
    }
    return 0;
}

/* Does some main.cf value, override or default mention $name? */
static int
config_name_used(HTABLE_INFO **list, size_t count, const char *name)
{
    size_t  i, nlen = strlen(name);
    CONF_ENT *e;

    for (i = 0; i < count; i++) {
        e = list[i]->value;
        if (config_value_uses(e->file_value, name, nlen)
            || config_value_uses(e->override, name, nlen)
            || config_value_uses(e->info ? e->info->dflt : NULL, name, nlen))
            return 1;
    }
    return 0;
}

ARGV   *
config_unknown_names(void)
{
    ARGV   *result = argv_alloc();
    ARGV   *classes = config_list("smtpd_restriction_classes");
    HTABLE_INFO **list;
    CONF_ENT *e;
    size_t  i, k, count;

    list = config_ents(&count);
    for (i = 0; i < count; i++) {
        e = list[i]->value;
        if (e->info || e->file_value == NULL || config_name_used(list, count, e->name))
            continue;
        for (k = 0; k < classes->argc; k++)
            if (strcmp(classes->argv[k], e->name) == 0)
                break;
        if (k == classes->argc)
            argv_add(result, e->name);
    }
    mem_free(list);
    argv_free(classes);
    return result;                      /* sorted, as config_ents() is */
}
