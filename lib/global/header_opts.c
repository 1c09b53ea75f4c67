/*
 * header_opts.c - header name classes and in-place rewriting of the
 * addresses in an address header. Interface: header_opts.h.
 *
 * SECURITY: header text is untrusted network data. Every scan is a
 * bounded single pass over [start, end); quote, comment and bracket
 * state never index outside the text; addresses longer than ADDRESS_MAX
 * are left unchanged; the rebuilt header is a VSTRING bounded by the
 * caller's header VSTRING limit (excess is dropped, as for any header).
 *
 * DIAGNOSTICS: none; an unknown name is a -1 return for the caller to
 * report.
 */
#include <string.h>
#include <strings.h>

#include "address.h"
#include "header_opts.h"

static const HEADER_OPTS header_opts_table[] = {
    {"Apparently-To", HDR_OPT_RECIP},
    {"Bcc", HDR_OPT_RECIP},
    {"Cc", HDR_OPT_RECIP},
    {"Content-Description", HDR_OPT_MIME},
    {"Content-Disposition", HDR_OPT_MIME},
    {"Content-ID", HDR_OPT_MIME},
    {"Content-Transfer-Encoding", HDR_OPT_MIME},
    {"Content-Type", HDR_OPT_MIME},
    {"Disposition-Notification-To", HDR_OPT_SENDER},
    {"Errors-To", HDR_OPT_SENDER},
    {"From", HDR_OPT_SENDER},
    {"MIME-Version", HDR_OPT_MIME},
    {"Reply-To", HDR_OPT_SENDER},
    {"Resent-Bcc", HDR_OPT_RECIP | HDR_OPT_RESENT},
    {"Resent-Cc", HDR_OPT_RECIP | HDR_OPT_RESENT},
    {"Resent-From", HDR_OPT_SENDER | HDR_OPT_RESENT},
    {"Resent-Reply-To", HDR_OPT_SENDER | HDR_OPT_RESENT},
    {"Resent-Sender", HDR_OPT_SENDER | HDR_OPT_RESENT},
    {"Resent-To", HDR_OPT_RECIP | HDR_OPT_RESENT},
    {"Return-Receipt-To", HDR_OPT_SENDER},
    {"Sender", HDR_OPT_SENDER},
    {"To", HDR_OPT_RECIP},
};

const HEADER_OPTS *
header_opts_find(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(header_opts_table) / sizeof(header_opts_table[0]); i++) {
        const HEADER_OPTS *h = header_opts_table + i;

        if (strlen(h->name) == len && strncasecmp(h->name, name, len) == 0)
            return h;
    }
    if (len > 8 && strncasecmp(name, "Content-", 8) == 0) {
        static const HEADER_OPTS content = {"Content-", HDR_OPT_MIME};

        return &content;
    }
    return NULL;
}

size_t
header_name_len(const char *text, size_t len)
{
    size_t  n = 0;
    size_t  i;

    while (n < len && text[n] > ' ' && text[n] < 127 && text[n] != ':')
        n++;
    if (n == 0)
        return 0;
    for (i = n; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
         /* void */ ;
    return (i < len && text[i] == ':') ? n : 0;
}

/* ---- address spans ---------------------------------------------------- */

static int
header_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Inside <...> at lt: the '>' that closes it, or NULL. */
static const char *
header_angle_end(const char *lt, const char *end)
{
    int     quoted = 0;

    for (const char *cp = lt + 1; cp < end; cp++) {
        if (*cp == '\\' && cp + 1 < end)
            cp++;
        else if (*cp == '"')
            quoted = !quoted;
        else if (*cp == '>' && !quoted)
            return cp;
    }
    return NULL;
}

/*
 * Inside a quoted string or a (nested) comment: consume the character at
 * *cpp (a backslash takes the next one along) and track where it ends.
 * Returns 0 without consuming anything when outside both. quoted NULL:
 * the caller handles quotes itself (only comments are skipped).
 */
static int
header_skip_special(const char **cpp, const char *end, int *quoted, int *comment)
{
    int     c = (unsigned char) **cpp;
    int     in_quote = quoted != NULL && *quoted;

    if (!in_quote && !*comment)
        return 0;
    if (c == '\\' && *cpp + 1 < end)
        (*cpp)++;
    else if (in_quote && c == '"')
        *quoted = 0;
    else if (*comment && c == '(')
        (*comment)++;
    else if (*comment && c == ')')
        (*comment)--;
    return 1;
}

/*
 * The address of one list element [s, e): the inside of <...> (source
 * route dropped) or the element without leading/trailing comments and
 * space. Returns 1 and the span, or 0 when there is no address.
 */
static int
header_addr_span(const char *s, const char *e, const char **as, const char **ae)
{
    const char *first = NULL, *last = NULL;
    int     quoted = 0, comment = 0;

    for (const char *cp = s; cp < e; cp++) {
        int     c = (unsigned char) *cp;

        if (quoted) {
            header_skip_special(&cp, e, &quoted, &comment);
            last = cp;
            continue;
        }
        if (header_skip_special(&cp, e, &quoted, &comment))
            continue;
        if (c == '(') {
            comment = 1;
        } else if (c == '<') {
            const char *gt = header_angle_end(cp, e);
            const char *colon;

            if (gt == NULL)
                return 0;
            *as = cp + 1;
            *ae = gt;
            if (**as == '@' && (colon = memchr(*as, ':', gt - *as)) != NULL)
                *as = colon + 1;
            return 1;
        } else if (!header_is_space(c)) {
            if (c == '"')
                quoted = 1;
            if (first == NULL)
                first = cp;
            last = cp;
        }
    }
    if (first == NULL)
        return 0;
    *as = first;
    *ae = last + 1;
    return 1;
}

/* The span's text without comments and unquoted space, in internal form. */
static int
header_addr_text(const char *s, const char *e, VSTRING *ext, VSTRING *internal)
{
    int     quoted = 0, comment = 0;

    vstring_reset(ext);
    for (const char *cp = s; cp < e; cp++) {
        int     c = (unsigned char) *cp;

        if (header_skip_special(&cp, e, NULL, &comment))
            continue;                           /* comments go; quotes are kept */
        if (!quoted && c == '(') {
            comment = 1;
            continue;
        }
        if (!quoted && header_is_space(c))
            continue;
        if (c == '\\' && cp + 1 < e) {
            vstring_addch(ext, c);
            c = (unsigned char) *++cp;
        } else if (c == '"') {
            quoted = !quoted;
        }
        vstring_addch(ext, c);
    }
    if (ext->overflow || LEN(ext) == 0)
        return -1;
    address_unquote(internal, STR(ext));
    return internal->overflow || LEN(internal) == 0 ? -1 : 0;
}

typedef struct HEADER_REWRITE {
    VSTRING *result;            /* the rebuilt header, once one changes */
    size_t  max;                /* ... its limit, the header's */
    const char *copied;         /* original text copied up to here */
    VSTRING *ext, *internal, *out, *quoted;
    HEADER_ADDR_FN fn;
    void   *ctx;
    int     changed;
    int     count;
} HEADER_REWRITE;

/* One list element [s, e). */
static void
header_addr_element(HEADER_REWRITE *hr, const char *s, const char *e)
{
    const char *as, *ae;

    if (++hr->count > HEADER_ADDR_MAX || !header_addr_span(s, e, &as, &ae)
        || header_addr_text(as, ae, hr->ext, hr->internal) < 0)
        return;
    vstring_reset(hr->out);
    if (hr->fn(hr->ctx, STR(hr->internal), hr->out) != 1 || LEN(hr->out) == 0
        || strcmp(STR(hr->out), STR(hr->internal)) == 0)
        return;
    address_quote(hr->quoted, STR(hr->out));
    if (hr->result == NULL)                     /* the first change */
        hr->result = vstring_alloc(hr->max);
    vstring_ncat(hr->result, hr->copied, as - hr->copied);
    vstring_cat(hr->result, STR(hr->quoted));
    hr->copied = ae;
    hr->changed++;
}

int
header_addr_rewrite(VSTRING *header, HEADER_ADDR_FN fn, void *ctx)
{
    const char *text = STR(header);
    const char *end = text + LEN(header);
    const char *colon = memchr(text, ':', LEN(header));
    const char *elem;
    int     quoted = 0, comment = 0, angle = 0;
    HEADER_REWRITE hr;
    static HEADER_REWRITE scratch;      /* its four address buffers, kept */

    if (colon == NULL)
        return 0;
    if (scratch.ext == NULL) {
        scratch.ext = vstring_alloc(ADDRESS_MAX);
        scratch.internal = vstring_alloc(ADDRESS_MAX);
        scratch.out = vstring_alloc(ADDRESS_MAX);
        scratch.quoted = vstring_alloc(ADDRESS_MAX * 2 + 2);
    }
    memset(&hr, 0, sizeof(hr));
    hr.max = header->max;
    hr.ext = scratch.ext;
    hr.internal = scratch.internal;
    hr.out = scratch.out;
    hr.quoted = scratch.quoted;
    hr.fn = fn;
    hr.ctx = ctx;
    hr.copied = text;
    elem = colon + 1;
    for (const char *cp = elem; cp <= end; cp++) {
        int     c = cp < end ? (unsigned char) *cp : 0;

        if (cp < end && header_skip_special(&cp, end, &quoted, &comment))
            continue;
        if (c == '"')
            quoted = 1;
        else if (c == '(')
            comment = 1;
        else if (c == '<')
            angle = 1;
        else if (c == '>')
            angle = 0;
        else if (c == ':' && !angle)
            elem = cp + 1;                      /* group name ends */
        else if (cp == end || ((c == ',' || c == ';') && !angle)) {
            header_addr_element(&hr, elem, cp);
            elem = cp + 1;
        }
    }
    if (hr.changed) {
        vstring_ncat(hr.result, hr.copied, end - hr.copied);
        vstring_ncpy(header, STR(hr.result), LEN(hr.result));
        vstring_free(hr.result);
    }
    return hr.changed;
}
