/*
 * address.c - RFC 5321 / RFC 5322 mail address syntax.
 *
 * Interface: see address.h. The internal form of an address is
 * "localpart@domain" with any quoting removed; the external form quotes
 * the local part when it holds characters that RFC 5321 only allows in a
 * quoted string.
 *
 * SECURITY: every input here is untrusted (SMTP command arguments,
 * message headers, queue files). Each parser walks its input once, never
 * reads past the terminating NUL, refuses control characters in SMTP
 * addresses, and bounds its output by ADDRESS_MAX through the VSTRING
 * maximum and an explicit length check.
 *
 * DIAGNOSTICS: none (pure functions); a bad address is a -1 return.
 */
#include <ctype.h>
#include <string.h>

#include "address.h"
#include "argv.h"
#include "mem.h"
#include "vstring.h"

/* RFC 5322 atext plus '.', for deciding whether a local part needs quotes. */
static int
address_atext(int ch)
{
    if (ch >= 0x80)
        return 1;               /* SMTPUTF8: 8-bit text is left alone */
    if (isalnum(ch))
        return 1;
    return ch != 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

/* True when the local part [lp, lp+len) must be quoted. */
static int
address_needs_quote(const char *lp, size_t len)
{
    if (len == 0)
        return 1;
    if (lp[0] == '.' || lp[len - 1] == '.')
        return 1;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) lp[i];
        if (ch == '.') {
            if (i + 1 < len && lp[i + 1] == '.')
                return 1;
            continue;
        }
        if (!address_atext(ch))
            return 1;
    }
    return 0;
}

const char *
address_quote(VSTRING *out, const char *internal)
{
    const char *at = strrchr(internal, '@');
    size_t  lplen = at ? (size_t) (at - internal) : strlen(internal);

    vstring_reset(out);
    if (*internal == 0)
        return STR(out);
    if (lplen > 0 && !address_needs_quote(internal, lplen)) {
        vstring_ncat(out, internal, lplen);
    } else if (lplen > 0 || at == NULL) {
        vstring_addch(out, '"');
        for (size_t i = 0; i < lplen; i++) {
            if (internal[i] == '"' || internal[i] == '\\')
                vstring_addch(out, '\\');
            vstring_addch(out, internal[i]);
        }
        vstring_addch(out, '"');
    }
    if (at)
        vstring_cat(out, at);
    return STR(out);
}

const char *
address_unquote(VSTRING *out, const char *external)
{
    int     quoted = 0;

    vstring_reset(out);
    for (const char *cp = external; *cp; cp++) {
        if (*cp == '\\' && cp[1] != 0) {
            vstring_addch(out, *++cp);
        } else if (*cp == '"') {
            quoted = !quoted;
        } else {
            vstring_addch(out, *cp);
        }
    }
    return STR(out);
}

/*
 * Copy one address (no brackets) from [start, end) into out in internal
 * form. Returns 0, or -1 for control characters, unbalanced quotes or a
 * result that is too long.
 */
static int
address_copy_internal(VSTRING *out, const char *start, const char *end)
{
    int     quoted = 0;

    vstring_reset(out);
    for (const char *cp = start; cp < end; cp++) {
        unsigned char ch = (unsigned char) *cp;
        if (ch < 0x20 || ch == 0x7f)
            return -1;
        if (ch == '\\' && quoted) {
            if (cp + 1 >= end)
                return -1;
            ch = (unsigned char) *++cp;
            if (ch < 0x20 || ch == 0x7f)
                return -1;
            vstring_addch(out, ch);
        } else if (ch == '"') {
            quoted = !quoted;
        } else {
            vstring_addch(out, ch);
        }
    }
    if (quoted || out->overflow || LEN(out) > ADDRESS_MAX)
        return -1;
    return 0;
}

/* Find the end of an address: the closing '>' (bracketed) or white space. */
static const char *
address_scan_end(const char *cp, int bracketed)
{
    int     quoted = 0;

    for (; *cp; cp++) {
        if (quoted && *cp == '\\' && cp[1]) {
            cp++;
            continue;
        }
        if (*cp == '"') {
            quoted = !quoted;
            continue;
        }
        if (quoted)
            continue;
        if (bracketed ? (*cp == '>' || *cp == '<') : (*cp == ' ' || *cp == '\t'))
            return cp;
    }
    return quoted ? NULL : cp;
}

int
address_parse_smtp(const char *arg, VSTRING *out, const char **rest)
{
    const char *cp = arg;
    const char *end;
    int     bracketed;

    while (*cp == ' ' || *cp == '\t')
        cp++;
    if ((bracketed = (*cp == '<')) != 0)
        cp++;
    if ((end = address_scan_end(cp, bracketed)) == NULL)
        return -1;
    if (bracketed && *end != '>')
        return -1;              /* missing '>' or a nested '<' */
    if (!bracketed && (*cp == 0 || (strchr(cp, '>') && strchr(cp, '>') < end)))
        return -1;
    if ((size_t) (end - cp) > ADDRESS_MAX)
        return -1;
    /* Source route "@a,@b:user@domain": drop the route. */
    if (*cp == '@') {
        const char *colon = cp;
        while (colon < end && *colon != ':')
            colon++;
        if (colon >= end)
            return -1;
        cp = colon + 1;
    }
    if (address_copy_internal(out, cp, end) != 0)
        return -1;
    if (!bracketed && LEN(out) == 0)
        return -1;
    if (bracketed)
        end++;
    if (*end != 0 && *end != ' ' && *end != '\t')
        return -1;              /* "<a@b>junk" */
    while (*end == ' ' || *end == '\t')
        end++;
    if (rest)
        *rest = end;
    return 0;
}

const char *
address_at(const char *addr)
{
    return strrchr(addr, '@');
}

const char *
address_domain(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : NULL;
}

const char *
address_localpart(VSTRING *out, const char *addr)
{
    const char *at = strrchr(addr, '@');

    vstring_reset(out);
    if (at)
        vstring_ncat(out, addr, (size_t) (at - addr));
    else
        vstring_cat(out, addr);
    return STR(out);
}

void
address_fold_domain(char *addr)
{
    char   *at = strrchr(addr, '@');

    if (at == NULL)
        return;
    for (char *cp = at + 1; *cp; cp++)
        if (*cp >= 'A' && *cp <= 'Z')
            *cp = (char) (*cp - 'A' + 'a');
}

/*
 * One step of a scan over header text at *cpp (before end), tracking
 * quoted strings and (nested) comments: returns 1 when the character
 * stands outside both and is not a quote or parenthesis itself (the
 * caller looks at it), else 0. Inside a quoted string a backslash pair
 * is one step (*cpp advances to the escaped character).
 */
static int
address_scan_step(const char **cpp, const char *end, int *depth, int *quoted)
{
    const char *cp = *cpp;

    if (*quoted) {
        if (*cp == '\\' && cp + 1 < end)
            *cpp = cp + 1;
        else if (*cp == '"')
            *quoted = 0;
        return 0;
    }
    if (*cp == '"' && *depth == 0) {
        *quoted = 1;
        return 0;
    }
    if (*cp == '(') {
        (*depth)++;
        return 0;
    }
    if (*cp == ')' && *depth > 0) {
        (*depth)--;
        return 0;
    }
    return *depth == 0;
}

/* Strip RFC 5322 comments and surrounding white space from one element. */
static void
address_header_element(const char *start, const char *end, ARGV *out)
{
    VSTRING *buf = vstring_alloc(ADDRESS_MAX);
    VSTRING *addr = vstring_alloc(ADDRESS_MAX);
    const char *lt = NULL, *gt = NULL;
    int     depth = 0, quoted = 0;

    /* An angle-bracketed part wins over the phrase. */
    for (const char *cp = start; cp < end; cp++) {
        if (!address_scan_step(&cp, end, &depth, &quoted))
            continue;
        if (*cp == '<' && lt == NULL)
            lt = cp;
        else if (*cp == '>' && lt && gt == NULL)
            gt = cp;
    }
    if (lt && gt) {
        start = lt + 1;
        end = gt;
        if (start < end && *start == '@') {     /* source route */
            const char *colon = memchr(start, ':', (size_t) (end - start));
            if (colon)
                start = colon + 1;
        }
    }
    depth = quoted = 0;
    for (const char *cp = start; cp < end; cp++) {
        if (quoted) {
            vstring_addch(buf, *cp);
            if (*cp == '\\' && cp + 1 < end)
                vstring_addch(buf, *++cp);
            else if (*cp == '"')
                quoted = 0;
        } else if (*cp == '(') {
            depth++;
        } else if (*cp == ')' && depth > 0) {
            depth--;
        } else if (depth > 0) {
            if (*cp == '\\' && cp + 1 < end)
                cp++;
        } else if (*cp == '"') {
            quoted = 1;
            vstring_addch(buf, *cp);
        } else if (!isspace((unsigned char) *cp)) {
            vstring_addch(buf, *cp);
        }
    }
    if (!buf->overflow && LEN(buf) > 0) {
        address_unquote(addr, STR(buf));
        if (!addr->overflow && LEN(addr) > 0)
            argv_add(out, STR(addr));
    }
    vstring_free(buf);
    vstring_free(addr);
}

int
address_parse_header_list(const char *value, ARGV *out, int max)
{
    const char *start = value;
    const char *end = value + strlen(value);
    int     depth = 0, quoted = 0, angle = 0, found = 0;
    size_t  before = out->argc;

    for (const char *cp = value;; cp++) {
        int     top = (cp < end) ? address_scan_step(&cp, end, &depth, &quoted) : 1;

        if (*cp == '<' && top)
            angle = 1;
        else if (*cp == '>' && top)
            angle = 0;
        else if (*cp == ':' && top && !angle)
            start = cp + 1;     /* group "name:" prefix */
        else if (*cp == 0 || ((*cp == ',' || *cp == ';') && top && !angle)) {
            if (found < max) {
                address_header_element(start, cp, out);
                found = (int) (out->argc - before);
            }
            if (*cp == 0)
                break;
            start = cp + 1;
        }
    }
    return found;
}
