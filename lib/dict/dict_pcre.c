/*
 * dict_pcre.c - "pcre:/path" tables: Perl-compatible regular expressions
 * through PCRE2 (libpcre2-8), in the rule-file format of dict_rx.h.
 *
 * Patterns are /re/flags with any delimiter that is not white space or
 * alphanumeric. Flags:
 *     i  toggles case-insensitive matching (on by default)
 *     m  multi-line (^ and $ at embedded newlines)
 *     s  dot matches newline
 *     x  extended (white space and # comments in the pattern)
 *     A  anchored at the start
 *     E  $ matches only at the very end
 *     U  ungreedy quantifiers
 *     X  accepted and ignored (PCRE1's "extra", always on in PCRE2)
 *
 * Interface: dict_pcre_ops, registered in maps.c.
 *
 * SECURITY: keys come from the network; matching uses a match context
 * with a bounded match limit, so a pathological pattern fails the lookup
 * (the caller then defers) instead of spinning.
 *
 * DIAGNOSTICS: nothing is fatal; a pattern that does not compile is
 * skipped with a warning (file and line, dict_regexp.c), and a matching
 * error at lookup time is a warning ("pcre map: matching ...") and counts
 * as no match.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <string.h>

#include "dict_rx.h"
#include "mem.h"
#include "msg.h"

#define DICT_PCRE_MATCH_LIMIT 1000000

typedef struct DICT_PCRE_PAT {
    pcre2_code *code;
    pcre2_match_data *md;
    int     groups;
} DICT_PCRE_PAT;

static pcre2_match_context *dict_pcre_mctx;

static int
dict_pcre_flags(const char *flags, uint32_t *options, VSTRING *why)
{
    *options = PCRE2_CASELESS;
    for (const char *f = flags; *f; f++) {
        switch (*f) {
        case 'i':
            *options ^= PCRE2_CASELESS;
            break;
        case 'm':
            *options ^= PCRE2_MULTILINE;
            break;
        case 's':
            *options ^= PCRE2_DOTALL;
            break;
        case 'x':
            *options ^= PCRE2_EXTENDED;
            break;
        case 'A':
            *options ^= PCRE2_ANCHORED;
            break;
        case 'E':
            *options ^= PCRE2_DOLLAR_ENDONLY;
            break;
        case 'U':
            *options ^= PCRE2_UNGREEDY;
            break;
        case 'X':
            break;
        default:
            vstring_sprintf(why, "unknown regexp option \"%c\"", *f);
            return -1;
        }
    }
    return 0;
}

static void *
dict_pcre_parse(const char **cp, VSTRING *why)
{
    VSTRING *re = vstring_alloc(MAP_SOURCE_LINE_MAX);
    VSTRING *flags = vstring_alloc(256);
    DICT_PCRE_PAT *pat = NULL;
    uint32_t options, count;
    int     err;
    PCRE2_SIZE off;
    PCRE2_UCHAR buf[256];

    if (dict_rx_delimited(cp, re, flags, why) < 0
        || dict_pcre_flags(STR(flags), &options, why) < 0)
        goto done;
    pat = mem_alloc(sizeof(*pat));
    pat->code = pcre2_compile((PCRE2_SPTR) STR(re), LEN(re), options, &err, &off, NULL);
    if (pat->code == NULL) {
        pcre2_get_error_message(err, buf, sizeof(buf));
        vstring_sprintf(why, "error while compiling expression \"%s\" at offset %lu: %s",
                        STR(re), (unsigned long) off, (char *) buf);
        mem_free(pat);
        pat = NULL;
        goto done;
    }
    pcre2_pattern_info(pat->code, PCRE2_INFO_CAPTURECOUNT, &count);
    pat->groups = (int) count;
    pat->md = pcre2_match_data_create(DICT_RX_GROUPS, NULL);
done:
    vstring_free(re);
    vstring_free(flags);
    return pat;
}

static int
dict_pcre_match(void *p, const char *key, DICT_RX_MATCH *m)
{
    DICT_PCRE_PAT *pat = p;
    PCRE2_SIZE *ov;
    int     rc;

    if (dict_pcre_mctx == NULL) {
        dict_pcre_mctx = pcre2_match_context_create(NULL);
        pcre2_set_match_limit(dict_pcre_mctx, DICT_PCRE_MATCH_LIMIT);
    }
    rc = pcre2_match(pat->code, (PCRE2_SPTR) key, strlen(key), 0, 0, pat->md, dict_pcre_mctx);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0) {
        PCRE2_UCHAR buf[256];

        pcre2_get_error_message(rc, buf, sizeof(buf));
        msg_warn("pcre map: matching \"%s\": %s", key, (char *) buf);
        return -1;
    }
    ov = pcre2_get_ovector_pointer(pat->md);
    for (int i = 0; m && i < DICT_RX_GROUPS; i++) {
        if (i < rc && ov[2 * i] != PCRE2_UNSET) {
            m->start[i] = (long) ov[2 * i];
            m->end[i] = (long) ov[2 * i + 1];
        }
    }
    return 1;
}

static void
dict_pcre_free(void *p)
{
    DICT_PCRE_PAT *pat = p;

    pcre2_match_data_free(pat->md);
    pcre2_code_free(pat->code);
    mem_free(pat);
}

static int
dict_pcre_groups(void *p)
{
    return ((DICT_PCRE_PAT *) p)->groups;
}

static const DICT_RX_TYPE dict_pcre_type = {
    dict_pcre_parse, dict_pcre_match, dict_pcre_free, dict_pcre_groups,
};

static int
dict_pcre_open(DICT *d)
{
    return dict_rx_open(d, &dict_pcre_type);
}

const DICT_OPS dict_pcre_ops = {
    .type = "pcre", .needs_name = 1, .open = dict_pcre_open,
    .get = dict_rx_get, .close = dict_rx_close,
};
