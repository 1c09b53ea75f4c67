/*
 * dict_source.c - read lookup table source files (postmap and aliases(5)
 * input) as Postfix does.
 *
 * Interface: map_source_read() (maps.h).
 *
 * Logical lines: a line that starts with non-white-space text starts a
 * logical line; a line that starts with white space continues it (the
 * newline is dropped, the leading white space kept); empty lines,
 * white-space-only lines and lines whose first non-white-space character
 * is '#' are ignored and do not end a logical line.
 *
 * postmap form: "key whitespace value". The key ends at the first white
 * space outside double quotes (a backslash protects the next character);
 * the quotes stay in the key, as Postfix keeps them. The value is
 * trimmed. aliases(5) form: "name: value"; the name may be quoted (the
 * quotes are removed), must not contain '@' or '%' outside quotes, and
 * the value is kept as written (trimmed) for the local delivery agent.
 *
 * SECURITY: input is an administrator's file (or stdin of postmap -i).
 * Physical and logical lines are bounded by MAP_SOURCE_LINE_MAX; a longer
 * logical line is reported and skipped, never truncated into a wrong key.
 *
 * DIAGNOSTICS: nothing is fatal; each malformed source line is a warning
 * with the file name and line and is skipped, in Postfix's wording: too
 * long, starting with white space, an unbalanced quote, no "key whitespace
 * value", a "key: value" line outside an alias file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "stream.h"
#include "vstring.h"

#define SOURCE_PIECE   (64 * 1024)

typedef struct SOURCE {
    const char *path;           /* for messages */
    int     is_alias;
    MAP_SOURCE_FN fn;
    void   *ctx;
} SOURCE;

#define IS_SPACE(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n' \
                     || (c) == '\v' || (c) == '\f')

/* source_trim - strip trailing white space in place, return past leading */

static char *
source_trim(char *text)
{
    char   *end;

    while (IS_SPACE(*text))
        text++;
    end = text + strlen(text);
    while (end > text && IS_SPACE(end[-1]))
        *--end = 0;
    return text;
}

/* source_postmap - one "key whitespace value" logical line */

static int
source_postmap(SOURCE *src, char *line, int lineno)
{
    char   *cp;
    char   *key = line;
    char   *value;
    int     in_quotes = 0;

    for (cp = line; *cp; cp++) {
        if (*cp == '\\') {
            if (*++cp == 0)
                break;
        } else if (*cp == '"') {
            in_quotes = !in_quotes;
        } else if (IS_SPACE(*cp) && !in_quotes) {
            break;
        }
    }
    if (in_quotes) {
        msg_warn("%s, line %d: unbalanced '\"' in '%s' -- ignoring this line",
                 src->path, lineno, line);
        return 0;
    }
    if (*cp)
        *cp++ = 0;
    value = source_trim(cp);
    if (*key == 0 || *value == 0) {
        msg_warn("%s, line %d: expected format: key whitespace value",
                 src->path, lineno);
        return 0;
    }
    if (key[strlen(key) - 1] == ':')
        msg_warn("%s, line %d: record is in \"key: value\" format;"
                 " is this an alias file?", src->path, lineno);
    return src->fn(key, value, lineno, src->ctx);
}

/*
 * source_alias_key - unquote an alias name into key; 0, or -1 with the
 * complaint for a non-local name or a list of names.
 */
static int
source_alias_key(const char *name, VSTRING *key, const char **why)
{
    const char *cp;
    int     in_quotes = 0;

    for (cp = name; *cp; cp++) {
        if (*cp == '\\' && cp[1]) {
            vstring_addch(key, *++cp);
        } else if (*cp == '"') {
            in_quotes = !in_quotes;
        } else if (!in_quotes && (*cp == '@' || *cp == '%')) {
            *why = "name must be local and have no domain";
            return -1;
        } else if (!in_quotes && *cp == ',') {
            *why = "need name:value pair";
            return -1;
        } else if (in_quotes || !IS_SPACE(*cp)) {
            vstring_addch(key, *cp);
        }
    }
    return 0;
}

/* source_alias - one "name: value" logical line */

static int
source_alias(SOURCE *src, char *line, int lineno)
{
    char   *cp;
    char   *value;
    int     in_quotes = 0;
    VSTRING *key;
    const char *why = "need name:value pair";
    int     status = 0;

    for (cp = line; *cp; cp++) {
        if (*cp == '\\' && cp[1])
            cp++;
        else if (*cp == '"')
            in_quotes = !in_quotes;
        else if (*cp == ':' && !in_quotes)
            break;
    }
    if (*cp != ':') {
        msg_warn("%s, line %d: %s", src->path, lineno, why);
        return 0;
    }
    *cp = 0;
    value = source_trim(cp + 1);
    key = vstring_alloc(MAP_SOURCE_LINE_MAX);
    if (source_alias_key(line, key, &why) < 0 || LEN(key) == 0 || *value == 0)
        msg_warn("%s, line %d: %s", src->path, lineno, why);
    else
        status = src->fn(STR(key), value, lineno, src->ctx);
    vstring_free(key);
    return status;
}

static int
source_emit(SOURCE *src, VSTRING *logical, int lineno)
{
    char   *line;

    if (LEN(logical) == 0)
        return 0;
    if (logical->overflow) {
        msg_warn("%s, line %d: line too long -- ignoring this line",
                 src->path, lineno);
        return 0;
    }
    line = source_trim(STR(logical));
    return src->is_alias ? source_alias(src, line, lineno)
        : source_postmap(src, line, lineno);
}

/* source_getline - one physical line without its newline; 0 at EOF, -1 error */

static int
source_getline(STREAM *s, VSTRING *line, VSTRING *piece)
{
    ssize_t n;

    vstring_reset(line);
    for (;;) {
        if ((n = stream_gets(s, piece, SOURCE_PIECE)) < 0)
            return -1;
        if (n == 0)
            return LEN(line) > 0 || line->overflow ? 1 : 0;
        if (STR(piece)[n - 1] == '\n') {
            (void) vstring_ncat(line, STR(piece), (size_t) n - 1);
            return 1;
        }
        (void) vstring_ncat(line, STR(piece), (size_t) n);
    }
}

static int
source_loop(SOURCE *src, STREAM *s)
{
    VSTRING *line = vstring_alloc(MAP_SOURCE_LINE_MAX);
    VSTRING *piece = vstring_alloc(SOURCE_PIECE);
    VSTRING *logical = vstring_alloc(MAP_SOURCE_LINE_MAX);
    int     lineno = 0;
    int     first = 0;
    int     status;
    const char *cp;

    while ((status = source_getline(s, line, piece)) > 0) {
        lineno++;
        for (cp = STR(line); IS_SPACE(*cp); cp++)
             /* void */ ;
        if (*cp == 0 || *cp == '#')
            continue;
        if (cp != STR(line)) {
            if (LEN(logical) == 0 && !logical->overflow) {
                msg_warn("%s, line %d: logical line must not start with"
                         " whitespace -- ignoring this line", src->path, lineno);
                continue;
            }
        } else {
            if ((status = source_emit(src, logical, first)) != 0)
                break;
            vstring_reset(logical);
            first = lineno;
        }
        if (line->overflow)
            logical->overflow = 1;
        else
            (void) vstring_ncat(logical, STR(line), LEN(line));
    }
    if (status == 0)
        status = source_emit(src, logical, first);
    else if (status < 0)
        errno = errno ? errno : EIO;
    vstring_free(line);
    vstring_free(piece);
    vstring_free(logical);
    return status;
}

int
map_source_read(const char *path, int is_alias, MAP_SOURCE_FN fn, void *ctx)
{
    SOURCE  src;
    STREAM *s;
    int     status;
    int     saved;
    int     use_stdin = (path == 0 || strcmp(path, "-") == 0);

    src.path = use_stdin ? "stdin" : path;
    src.is_alias = is_alias;
    src.fn = fn;
    src.ctx = ctx;
    if (use_stdin)
        s = stream_fdopen(0);
    else if ((s = stream_open(path, O_RDONLY | O_CLOEXEC, 0)) == 0)
        return -1;
    errno = 0;
    status = source_loop(&src, s);
    saved = errno;
    if (use_stdin)
        stream_free_keep_fd(s);
    else
        (void) stream_close(s);
    errno = saved;
    return status;
}
