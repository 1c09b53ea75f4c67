/*
 * dict_regexp.c - "regexp:/path" tables (POSIX regular expressions), and
 * the rule-file engine that regexp:, pcre: and cidr: share (dict_rx.h).
 *
 * regexp patterns are written /re/flags with any delimiter character
 * that is not white space ("/" by convention). Flags toggle the defaults:
 *     i  case-insensitive matching (on by default)
 *     x  extended regular expressions (on by default)
 *     m  newline-sensitive matching (off by default)
 *
 * Interface: dict_regexp_ops (registered in maps.c); dict_rx_* for the
 * other pattern types. Keys are matched as given (no case folding: the
 * i flag decides).
 *
 * SECURITY: the rule file comes from the administrator and is read with a
 * bounded line length (MAP_SOURCE_LINE_MAX). Keys come from the network:
 * they are only matched with regexec() and copied into results of
 * bounded size.
 *
 * DIAGNOSTICS: nothing is fatal; problems in a rule file are warnings with
 * the file name and line, and the line is skipped: a pattern that does not
 * compile, an overlong line, IF/ENDIF without its partner, extra text
 * after IF, a missing ENDIF.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "dict_rx.h"
#include "mem.h"
#include "msg.h"

#define DICT_RX_MATCH_RULE  0
#define DICT_RX_IF          1
#define DICT_RX_ENDIF       2

#define DICT_RX_RESULT_MAX  (64 * 1024)

typedef struct DICT_RX_RULE {
    int     kind;
    int     negate;
    void   *pat;
    char   *result;
    size_t  endif;                      /* DICT_RX_IF: index of its ENDIF */
} DICT_RX_RULE;

typedef struct DICT_RX {
    const DICT_RX_TYPE *type;
    DICT_RX_RULE *rules;
    size_t  count;
    size_t  cap;
    VSTRING *result;
} DICT_RX;

/* ---- the rule file ------------------------------------------------------ */

static void
dict_rx_add(DICT_RX *rx, int kind, int negate, void *pat, const char *result)
{
    if (rx->count == rx->cap) {
        rx->cap = rx->cap ? rx->cap * 2 : 16;
        rx->rules = mem_realloc_array(rx->rules, rx->cap, sizeof(*rx->rules));
    }
    DICT_RX_RULE *r = &rx->rules[rx->count++];

    memset(r, 0, sizeof(*r));
    r->kind = kind;
    r->negate = negate;
    r->pat = pat;
    r->result = result ? mem_strdup(result) : NULL;
}

/* Highest $n a result refers to, or -1 on bad syntax. */
static int
dict_rx_max_ref(const char *text)
{
    int     max = 0;

    for (const char *cp = text; (cp = strchr(cp, '$')) != NULL;) {
        cp++;
        if (*cp == '$') {
            cp++;
            continue;
        }
        if (*cp == '{' || *cp == '(') {
            char    close = *cp == '{' ? '}' : ')';
            if (!isdigit((unsigned char) cp[1]) || cp[2] != close)
                return -1;
            cp++;
        } else if (!isdigit((unsigned char) *cp)) {
            return -1;
        }
        if (*cp - '0' > max)
            max = *cp - '0';
        cp++;
    }
    return max;
}

/* One logical line: a rule, "if ...", or "endif". */
static void
dict_rx_line(DICT *d, DICT_RX *rx, char *line, int lineno, size_t *depth)
{
    const char *cp = line;
    int     negate = 0, is_if = 0;
    VSTRING *why = vstring_alloc(1024);
    void   *pat;

    if (strncasecmp(cp, "endif", 5) == 0 && (cp[5] == 0 || isspace((unsigned char) cp[5]))) {
        if (*depth == 0)
            msg_warn("%s, line %d: ignoring ENDIF without matching IF", d->name, lineno);
        else {
            (*depth)--;
            dict_rx_add(rx, DICT_RX_ENDIF, 0, NULL, NULL);
        }
        vstring_free(why);
        return;
    }
    if (strncasecmp(cp, "if", 2) == 0 && isspace((unsigned char) cp[2])) {
        is_if = 1;
        cp += 2;
        cp += strspn(cp, " \t");
    }
    if (*cp == '!') {
        negate = 1;
        cp++;
    }
    if ((pat = rx->type->parse(&cp, why)) == NULL) {
        msg_warn("%s, line %d: %s: skipping this rule", d->name, lineno, STR(why));
        vstring_free(why);
        if (is_if) {                    /* keep the block structure */
            dict_rx_add(rx, DICT_RX_IF, 1, NULL, NULL);
            (*depth)++;
        }
        return;
    }
    vstring_free(why);
    cp += strspn(cp, " \t\r\n");
    if (is_if) {
        if (*cp)
            msg_warn("%s, line %d: ignoring extra text after IF statement: \"%s\"",
                     d->name, lineno, cp);
        dict_rx_add(rx, DICT_RX_IF, negate, pat, NULL);
        (*depth)++;
        return;
    }
    int     groups = rx->type->groups(pat);
    int     ref = groups < 0 ? 0 : dict_rx_max_ref(cp);     /* cidr: no $n */
    const char *bad = NULL;

    if (*cp == 0)
        bad = "no replacement text";
    else if (ref < 0)
        bad = "bad $number syntax in replacement text";
    else if (ref > 0 && (d->flags & MAP_NO_REGSUB))
        bad = "regular expression substitution is not allowed";
    else if (ref > 0 && negate)
        bad = "$number found in negative match replacement text";
    else if (ref > 0 && ref > groups)
        bad = "out of range replacement index";
    if (bad) {
        msg_warn("%s, line %d: %s: skipping this rule", d->name, lineno, bad);
        rx->type->free(pat);
        return;
    }
    dict_rx_add(rx, DICT_RX_MATCH_RULE, negate, pat, cp);
}

/* Link each IF to its ENDIF (unclosed blocks end at the end of file). */
static void
dict_rx_link(DICT *d, DICT_RX *rx)
{
    size_t *stack = mem_array(rx->count + 1, sizeof(size_t));
    size_t  top = 0;

    for (size_t i = 0; i < rx->count; i++) {
        if (rx->rules[i].kind == DICT_RX_IF)
            stack[top++] = i;
        else if (rx->rules[i].kind == DICT_RX_ENDIF && top > 0)
            rx->rules[stack[--top]].endif = i;
    }
    if (top > 0)
        msg_warn("%s: missing ENDIF", d->name);
    while (top > 0)
        rx->rules[stack[--top]].endif = rx->count;
    mem_free(stack);
}

/* Read the file into logical lines; 0 or -1 (errno set). */
static int
dict_rx_read(DICT *d, DICT_RX *rx)
{
    FILE   *fp = fopen(d->name, "r");
    char   *buf = NULL;
    size_t  bufsize = 0;
    ssize_t n;
    VSTRING *logical;
    int     lineno = 0, start = 0, skip = 0;
    size_t  depth = 0;

    if (fp == NULL)
        return -1;
    logical = vstring_alloc(MAP_SOURCE_LINE_MAX);
    for (;;) {
        n = getline(&buf, &bufsize, fp);
        if (n >= 0) {
            lineno++;
            while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                buf[--n] = 0;
            const char *text = buf + strspn(buf, " \t");
            if (*text == 0 || *text == '#')
                continue;
            if (text != buf && LEN(logical) > 0) {
                if (!skip && (vstring_addch(logical, ' ') < 0 || vstring_cat(logical, text) < 0))
                    skip = 1;
                continue;
            }
        }
        if (LEN(logical) > 0 || skip) {
            if (skip)
                msg_warn("%s, line %d: line too long: skipped", d->name, start);
            else
                dict_rx_line(d, rx, STR(logical), start, &depth);
        }
        vstring_reset(logical);
        skip = 0;
        if (n < 0)
            break;
        start = lineno;
        if (vstring_cat(logical, buf + strspn(buf, " \t")) < 0)
            skip = 1;
    }
    free(buf);
    vstring_free(logical);
    n = ferror(fp) ? -1 : 0;
    fclose(fp);
    dict_rx_link(d, rx);
    return (int) n;
}

int
dict_rx_open(DICT *d, const DICT_RX_TYPE *type)
{
    DICT_RX *rx = mem_alloc(sizeof(*rx));

    rx->type = type;
    rx->result = vstring_alloc(DICT_RX_RESULT_MAX);
    d->priv = rx;
    d->flags |= MAP_FOLD_NONE;          /* the pattern flags decide */
    dict_watch_file(d, d->name);
    if (dict_rx_read(d, rx) < 0) {
        dict_set_error(d, "open database %s: %m", d->name);
        dict_rx_close(d, 0);
        d->priv = NULL;
        return -1;
    }
    return 0;
}

/* ---- lookups -------------------------------------------------------------- */

static const char *
dict_rx_expand(DICT_RX *rx, const char *text, const char *key, const DICT_RX_MATCH *m)
{
    VSTRING *out = rx->result;

    vstring_reset(out);
    for (const char *cp = text; *cp; cp++) {
        if (*cp != '$') {
            vstring_addch(out, *cp);
            continue;
        }
        cp++;
        if (*cp == '$') {
            vstring_addch(out, '$');
            continue;
        }
        if (*cp == '{' || *cp == '(')
            cp++;
        int     n = *cp - '0';

        if (cp[1] == '}' || cp[1] == ')')
            cp++;
        if (m && n >= 0 && n < DICT_RX_GROUPS && m->start[n] >= 0)
            vstring_ncat(out, key + m->start[n], (size_t) (m->end[n] - m->start[n]));
    }
    return STR(out);
}

int
dict_rx_get(DICT *d, const char *key, const char **value)
{
    DICT_RX *rx = d->priv;
    DICT_RX_MATCH m;

    for (size_t i = 0; i < rx->count; i++) {
        DICT_RX_RULE *r = &rx->rules[i];
        int     st;

        if (r->kind == DICT_RX_ENDIF)
            continue;
        if (r->pat == NULL) {           /* an IF whose pattern was bad */
            i = r->endif;
            continue;
        }
        for (int g = 0; g < DICT_RX_GROUPS; g++)
            m.start[g] = m.end[g] = -1;
        if ((st = rx->type->match(r->pat, key, &m)) == DICT_RX_BADKEY)
            return MAP_NOTFOUND;
        if (st < 0) {
            dict_set_error(d, "%s: matching \"%s\" failed", d->spec, key);
            return MAP_FAIL;
        }
        if (r->negate)
            st = !st;
        if (r->kind == DICT_RX_IF) {
            if (!st)
                i = r->endif;
            continue;
        }
        if (st) {
            *value = rx->type->groups(r->pat) < 0 ? r->result
                : dict_rx_expand(rx, r->result, key, r->negate ? NULL : &m);
            return MAP_FOUND;
        }
    }
    return MAP_NOTFOUND;
}

int
dict_rx_close(DICT *d, int commit)
{
    DICT_RX *rx = d->priv;

    if (rx == NULL)
        return 0;
    for (size_t i = 0; i < rx->count; i++) {
        if (rx->rules[i].pat)
            rx->type->free(rx->rules[i].pat);
        mem_free(rx->rules[i].result);
    }
    mem_free(rx->rules);
    vstring_free(rx->result);
    mem_free(rx);
    d->priv = NULL;
    return 0;
}

/* ---- delimited patterns (regexp and pcre) --------------------------------- */

/*
 * "/re/flags": the text between the delimiters into re (a backslash
 * protects the next character, kept as written), the flag letters into
 * flags. Returns 0, or -1 with a reason.
 */
int
dict_rx_delimited(const char **cp, VSTRING *re, VSTRING *flags, VSTRING *why)
{
    const char *p = *cp;
    char    delim = *p;

    if (delim == 0 || isspace((unsigned char) delim) || isalnum((unsigned char) delim)
        || delim == '\\') {
        vstring_sprintf(why, "no regexp delimiter \"%c\"", delim ? delim : ' ');
        return -1;
    }
    vstring_reset(re);
    for (p++; *p && *p != delim; p++) {
        if (*p == '\\' && p[1]) {
            if (p[1] != delim)
                vstring_addch(re, '\\');
            p++;
        }
        vstring_addch(re, *p);
    }
    if (*p != delim) {
        vstring_sprintf(why, "no closing regexp delimiter \"%c\"", delim);
        return -1;
    }
    vstring_reset(flags);
    for (p++; *p && !isspace((unsigned char) *p); p++)
        vstring_addch(flags, *p);
    *cp = p;
    return 0;
}

/* ---- regexp: ---------------------------------------------------------------- */

typedef struct DICT_REGEXP_PAT {
    regex_t re;
    int     groups;
} DICT_REGEXP_PAT;

static void *
dict_regexp_parse(const char **cp, VSTRING *why)
{
    VSTRING *re = vstring_alloc(MAP_SOURCE_LINE_MAX);
    VSTRING *flags = vstring_alloc(256);
    int     cflags = REG_EXTENDED | REG_ICASE;
    DICT_REGEXP_PAT *pat = NULL;
    int     err;
    char    buf[256];

    if (dict_rx_delimited(cp, re, flags, why) < 0)
        goto done;
    for (const char *f = STR(flags); *f; f++) {
        switch (*f) {
        case 'i':
            cflags ^= REG_ICASE;
            break;
        case 'x':
            cflags ^= REG_EXTENDED;
            break;
        case 'm':
            cflags ^= REG_NEWLINE;
            break;
        default:
            vstring_sprintf(why, "unknown regexp option \"%c\"", *f);
            goto done;
        }
    }
    pat = mem_alloc(sizeof(*pat));
    if ((err = regcomp(&pat->re, STR(re), cflags)) != 0) {
        regerror(err, &pat->re, buf, sizeof(buf));
        vstring_sprintf(why, "regexp error: %s", buf);
        mem_free(pat);
        pat = NULL;
        goto done;
    }
    pat->groups = (int) pat->re.re_nsub;
done:
    vstring_free(re);
    vstring_free(flags);
    return pat;
}

static int
dict_regexp_match(void *p, const char *key, DICT_RX_MATCH *m)
{
    DICT_REGEXP_PAT *pat = p;
    regmatch_t pm[DICT_RX_GROUPS];

    if (regexec(&pat->re, key, DICT_RX_GROUPS, pm, 0) != 0)
        return 0;
    for (int i = 0; m && i < DICT_RX_GROUPS; i++) {
        m->start[i] = i <= pat->groups ? pm[i].rm_so : -1;
        m->end[i] = i <= pat->groups ? pm[i].rm_eo : -1;
    }
    return 1;
}

static void
dict_regexp_free(void *p)
{
    DICT_REGEXP_PAT *pat = p;

    regfree(&pat->re);
    mem_free(pat);
}

static int
dict_regexp_groups(void *p)
{
    return ((DICT_REGEXP_PAT *) p)->groups;
}

static const DICT_RX_TYPE dict_regexp_type = {
    dict_regexp_parse, dict_regexp_match, dict_regexp_free, dict_regexp_groups,
};

static int
dict_regexp_open(DICT *d)
{
    return dict_rx_open(d, &dict_regexp_type);
}

const DICT_OPS dict_regexp_ops = {
    .type = "regexp", .needs_name = 1, .open = dict_regexp_open,
    .get = dict_rx_get, .close = dict_rx_close,
};
