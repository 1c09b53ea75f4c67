/*
 * dict_sql.c - the configuration file, %-expansion and host list of the
 * SQL table types (dict_sql.h); the lookup driver is in dict_sql_get.c.
 *
 * SECURITY: see dict_sql.h. The configuration parser reads at most
 * SQL_CFG_MAX_SIZE bytes; expansion output goes into bounded VSTRINGs
 * (an overflow suppresses the query instead of running a cut one).
 *
 * DIAGNOSTICS: none here; errors are returned with their text.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dict_sql.h"
#include "mem.h"

struct SQL_CFG {
    ARGV   *names;
    ARGV   *values;
};

/* ---- configuration file --------------------------------------------- */

static void
sql_cfg_line(SQL_CFG *cfg, const char *line, size_t len)
{
    const char *eq;
    const char *end = line + len;
    const char *name_end;
    const char *val;

    while (line < end && isspace((unsigned char) *line))
        line++;
    if (line == end || *line == '#')
        return;
    if ((eq = memchr(line, '=', (size_t) (end - line))) == 0)
        return;                 /* not "name = value": ignored */
    name_end = eq;
    while (name_end > line && isspace((unsigned char) name_end[-1]))
        name_end--;
    if (name_end == line)
        return;
    for (val = eq + 1; val < end && isspace((unsigned char) *val); val++)
        ;
    while (end > val && isspace((unsigned char) end[-1]))
        end--;
    argv_addn(cfg->names, line, (size_t) (name_end - line));
    argv_addn(cfg->values, val, (size_t) (end - val));
}

SQL_CFG *
sql_cfg_parse(const char *text, size_t len)
{
    SQL_CFG *cfg = mem_alloc(sizeof(*cfg));
    VSTRING *logical = vstring_alloc(SQL_CFG_MAX_SIZE);
    const char *p = text;
    const char *end = text + len;
    const char *nl;
    size_t  n;

    cfg->names = argv_alloc();
    cfg->values = argv_alloc();
    while (p < end) {
        nl = memchr(p, '\n', (size_t) (end - p));
        n = nl ? (size_t) (nl - p) : (size_t) (end - p);
        if (n > 0 && memchr(p, 0, n) == 0) {
            /* A line that starts with white space continues the last one,
             * unless it is blank or a comment. */
            int     cont = isspace((unsigned char) *p);
            size_t  i = 0;

            while (i < n && isspace((unsigned char) p[i]))
                i++;
            if (cont && i < n && p[i] != '#' && LEN(logical) > 0) {
                vstring_addch(logical, ' ');
                vstring_ncat(logical, p + i, n - i);
            } else if (i < n && p[i] != '#') {
                sql_cfg_line(cfg, STR(logical), LEN(logical));
                vstring_ncpy(logical, p, n);
            }
        }
        p += n + (nl != 0);
    }
    sql_cfg_line(cfg, STR(logical), LEN(logical));
    vstring_free(logical);
    return cfg;
}

SQL_CFG *
sql_cfg_read(const char *path, VSTRING *why)
{
    VSTRING *buf = vstring_alloc(SQL_CFG_MAX_SIZE);
    char    chunk[8192];
    ssize_t n;
    int     fd;
    SQL_CFG *cfg = 0;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        vstring_sprintf(why, "open %s: %s", path, strerror(errno));
        vstring_free(buf);
        return 0;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if (vstring_ncat(buf, chunk, (size_t) n) < 0)
            break;
    if (n < 0)
        vstring_sprintf(why, "read %s: %s", path, strerror(errno));
    else if (buf->overflow)
        vstring_sprintf(why, "%s: file too large", path);
    else
        cfg = sql_cfg_parse(STR(buf), LEN(buf));
    (void) close(fd);
    vstring_free(buf);
    return cfg;
}

void
sql_cfg_free(SQL_CFG *cfg)
{
    if (cfg == 0)
        return;
    argv_free(cfg->names);
    argv_free(cfg->values);
    mem_free(cfg);
}

const char *
sql_cfg_str(const SQL_CFG *cfg, const char *name, const char *def)
{
    size_t  i;

    for (i = cfg->names->argc; i > 0; i--)
        if (strcmp(cfg->names->argv[i - 1], name) == 0)
            return cfg->values->argv[i - 1];
    return def;
}

int
sql_cfg_int(const SQL_CFG *cfg, const char *name, int def, int min, int max,
            int *value, VSTRING *why)
{
    const char *s = sql_cfg_str(cfg, name, 0);
    char   *end;
    long    v;

    if (s == 0) {
        *value = def;
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (*s == 0 || *end != 0 || errno != 0 || v < min || v > max) {
        vstring_sprintf(why, "bad numerical configuration: %s = %s", name, s);
        return -1;
    }
    *value = (int) v;
    return 0;
}

int
sql_cfg_bool(const SQL_CFG *cfg, const char *name, int def, int *value, VSTRING *why)
{
    const char *s = sql_cfg_str(cfg, name, 0);

    if (s == 0)
        *value = def;
    else if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0)
        *value = 1;
    else if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0)
        *value = 0;
    else {
        vstring_sprintf(why, "bad boolean configuration: %s = %s", name, s);
        return -1;
    }
    return 0;
}

char   *
sql_legacy_query(const SQL_CFG *cfg, VSTRING *why)
{
    const char *table = sql_cfg_str(cfg, "table", 0);
    const char *select = sql_cfg_str(cfg, "select_field", 0);
    const char *where = sql_cfg_str(cfg, "where_field", 0);
    const char *extra = sql_cfg_str(cfg, "additional_conditions", "");

    if (table == 0 || select == 0 || where == 0 || !*table || !*select || !*where) {
        vstring_sprintf(why, "missing \"query\" (or \"table\", \"select_field\" "
                        "and \"where_field\")");
        return 0;
    }
    return mem_printf("SELECT %s FROM %s WHERE %s = '%%s' %s", select, table, where, extra);
}

/* ---- expansion -------------------------------------------------------- */

int
sql_format_check(const char *fmt, int kind, VSTRING *why)
{
    const char *p;

    for (p = fmt; *p; p++) {
        if (*p != '%')
            continue;
        p++;
        if (*p && strchr("%sudSUD123456789", *p))
            continue;
        vstring_sprintf(why, "invalid %s expansion \"%%%.1s\" in \"%s\"",
                        kind == SQL_FMT_QUERY ? "query" : "result_format", p, fmt);
        return -1;
    }
    return 0;
}

/* The n-th label of domain from the right (1 = last); 0 when too few. */
static const char *
sql_label(const char *domain, int n, size_t *len)
{
    const char *end = domain + strlen(domain);
    const char *start;

    for (;;) {
        start = end;
        while (start > domain && start[-1] != '.')
            start--;
        if (--n == 0)
            break;
        if (start == domain)
            return 0;
        end = start - 1;
    }
    *len = (size_t) (end - start);
    return *len ? start : 0;
}

/* Append one expansion of string s for letter c; 0: suppressed. */
static int
sql_expand_one(VSTRING *out, int c, const char *s, SQL_QUOTE_FN quote, void *ctx)
{
    const char *at = strrchr(s, '@');
    const char *part = s;
    size_t  len = strlen(s);

    switch (c) {
    case 'u':
        if (at) {
            len = (size_t) (at - s);
            if (len == 0)
                return 0;
        }
        break;
    case 'd':
        if (at == 0 || at[1] == 0)
            return 0;
        part = at + 1;
        len = strlen(part);
        break;
    case 's':
        if (*s == 0)
            return 0;
        break;
    default:                    /* '1'..'9' */
        if (at == 0 || (part = sql_label(at + 1, c - '0', &len)) == 0)
            return 0;
        break;
    }
    if (quote)
        quote(ctx, out, part, len);
    else
        vstring_ncat(out, part, len);
    return 1;
}

int
sql_expand(VSTRING *out, const char *fmt, const char *value, const char *key,
           SQL_QUOTE_FN quote, void *ctx)
{
    const char *p;
    int     c;

    vstring_reset(out);
    for (p = fmt; *p; p++) {
        if (*p != '%') {
            vstring_addch(out, *p);
            continue;
        }
        c = *++p;
        if (c == 0)
            return 0;
        if (c == '%') {
            vstring_addch(out, '%');
        } else if (c == 's' || c == 'u' || c == 'd') {
            if (!sql_expand_one(out, c, value, quote, ctx))
                return 0;
        } else if (c == 'S' || c == 'U' || c == 'D') {
            if (!sql_expand_one(out, tolower(c), key ? key : value, quote, ctx))
                return 0;
        } else if (c >= '1' && c <= '9') {
            if (!sql_expand_one(out, c, key ? key : value, quote, ctx))
                return 0;
        } else {
            return 0;           /* rejected by sql_format_check() */
        }
    }
    return !out->overflow;
}

int
sql_key_parts_ok(const char *fmt, const char *key)
{
    VSTRING *scratch = vstring_alloc(VSTRING_UNLIMITED);
    const char *p;
    int     ok = 1;

    for (p = fmt; ok && *p; p++) {
        if (*p != '%' || *++p == 0)
            continue;
        vstring_reset(scratch);
        if (*p == 'S' || *p == 'U' || *p == 'D')
            ok = sql_expand_one(scratch, tolower((unsigned char) *p), key, NULL, NULL);
        else if (*p >= '1' && *p <= '9')
            ok = sql_expand_one(scratch, *p, key, NULL, NULL);
    }
    vstring_free(scratch);
    return ok;
}

/* ---- hosts ------------------------------------------------------------- */

/* "name:port" or "[v6]:port" or "name" into h. */
static int
sql_host_inet(const char *s, SQL_HOST *h, VSTRING *why)
{
    const char *colon;
    const char *close;

    if (*s == '[' && (close = strchr(s, ']')) != 0) {
        h->name = mem_strndup(s + 1, (size_t) (close - s - 1));
        colon = close[1] == ':' ? close + 1 : 0;
        if (close[1] && !colon)
            goto bad;
    } else if ((colon = strrchr(s, ':')) != 0) {
        h->name = mem_strndup(s, (size_t) (colon - s));
    } else {
        h->name = mem_strdup(s);
    }
    if (colon) {
        if (colon[1] == 0 || strspn(colon + 1, "0123456789") != strlen(colon + 1))
            goto bad;
        h->port = mem_strdup(colon + 1);
    }
    if (*h->name == 0)
        goto bad;
    return 0;
bad:
    vstring_sprintf(why, "bad host specification: \"%s\"", h->spec);
    return -1;
}

int
sql_host_parse(const char *spec, SQL_HOST *h, VSTRING *why)
{
    memset(h, 0, sizeof(*h));
    h->spec = mem_strdup(spec);
    if (strncmp(spec, "postgresql://", 13) == 0 || strncmp(spec, "postgres://", 11) == 0) {
        h->kind = SQL_HOST_URI;
        h->name = mem_strdup(spec);
        return 0;
    }
    if (strncmp(spec, "unix:", 5) == 0 || *spec == '/') {
        h->kind = SQL_HOST_UNIX;
        h->name = mem_strdup(*spec == '/' ? spec : spec + 5);
        if (*h->name != '/') {
            vstring_sprintf(why, "bad host specification: \"%s\"", spec);
            return -1;
        }
        return 0;
    }
    h->kind = SQL_HOST_INET;
    return sql_host_inet(strncmp(spec, "inet:", 5) == 0 ? spec + 5 : spec, h, why);
}
