/*
 * smtp_reply.c - the pure pieces of the SMTP/LMTP client protocol:
 * server replies, enhanced status codes, EHLO keywords, and the message
 * body writer. (xtext for ENVID= and ORCPT= is in lib/xtext.c.)
 *
 * Interface (smtp.h):
 *   smtp_reply_add_line() / smtp_reply_read()  collect one reply
 *       ("250-..." continuation lines, "250 ..." or "250" last line).
 *       The reply text is every line joined with a space, as Postfix
 *       logs it ("550-5.1.1 a 550 5.1.1 b"). A line that does not start
 *       with three digits counts as a continuation line.
 *   smtp_ehlo_features()  PIPELINING, SIZE n, 8BITMIME, DSN, ...
 *   smtp_body_*()         CRLF, dot-stuffing, smtp_line_length_limit
 *                         (long lines broken with CRLF SPACE, as Postfix).
 *
 * SECURITY: replies come from the network. A line is cut at
 * SMTP_REPLY_LINE_MAX (the rest is read and dropped), the joined text at
 * SMTP_REPLY_TEXT_MAX, and a reply has at most SMTP_REPLY_LINES_MAX
 * lines; the per-command timeout bounds the time. The text is logged
 * through msg_*(), which replaces control characters.
 *
 * DIAGNOSTICS: none (pure protocol pieces); bad replies are return values.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "deliver.h"
#include "mem.h"
#include "smtp.h"

SMTP_REPLY *
smtp_reply_alloc(void)
{
    SMTP_REPLY *r = mem_alloc(sizeof(*r));

    r->text = vstring_alloc(SMTP_REPLY_TEXT_MAX);
    r->lines = argv_alloc();
    return r;
}

void
smtp_reply_free(SMTP_REPLY *r)
{
    if (r == NULL)
        return;
    vstring_free(r->text);
    argv_free(r->lines);
    mem_free(r);
}

void
smtp_reply_reset(SMTP_REPLY *r)
{
    r->code = 0;
    r->dsn[0] = 0;
    vstring_reset(r->text);
    argv_truncate(r->lines, 0);
}

/* Set r->dsn from the first line's text, or derive it from the code. */
static void
smtp_reply_set_dsn(SMTP_REPLY *r)
{
    const char *first = r->lines->argc ? r->lines->argv[0] : "";

    if (r->code < 200 || deliver_dsn_scan(first, r->dsn, sizeof(r->dsn)) == 0)
        snprintf(r->dsn, sizeof(r->dsn), "%d.0.0", r->code >= 200 ? r->code / 100 : 4);
    else
        r->dsn[0] = (char) ('0' + r->code / 100);  /* class follows the code */
}

int
smtp_reply_add_line(SMTP_REPLY *r, const char *line, size_t len)
{
    const char *p = line;
    int     has_code, last;

    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    has_code = len >= 3 && isdigit((unsigned char) p[0]) && isdigit((unsigned char) p[1])
        && isdigit((unsigned char) p[2]) && (len == 3 || p[3] == ' ' || p[3] == '-');
    last = has_code && (len == 3 || p[3] == ' ');
    if (LEN(r->text) > 0)
        vstring_addch(r->text, ' ');
    vstring_ncat(r->text, line, len);
    if (has_code) {
        size_t  skip = len > 3 ? 4 : 3;

        argv_addn(r->lines, line + skip, len - skip);
        r->code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
        if (r->code < 100 || r->code > 599)
            r->code = 0;
    } else {
        argv_addn(r->lines, line, len);
    }
    if (r->lines->argc > SMTP_REPLY_LINES_MAX) {
        r->code = 0;
        return -1;
    }
    if (last) {
        if (r->code == 0)
            return -1;
        smtp_reply_set_dsn(r);
        return 1;
    }
    return 0;
}

int
smtp_reply_read(STREAM *fp, SMTP_REPLY *r)
{
    VSTRING *buf = vstring_alloc(SMTP_REPLY_LINE_MAX);
    ssize_t n;
    int     ret = -1, st;

    smtp_reply_reset(r);
    for (;;) {
        n = stream_gets(fp, buf, SMTP_REPLY_LINE_MAX);
        if (n <= 0)
            break;
        if (STR(buf)[LEN(buf) - 1] != '\n') {   /* overlong: drop the rest */
            VSTRING *junk = vstring_alloc(SMTP_REPLY_LINE_MAX);
            ssize_t m;

            do {
                m = stream_gets(fp, junk, SMTP_REPLY_LINE_MAX);
            } while (m > 0 && STR(junk)[LEN(junk) - 1] != '\n');
            vstring_free(junk);
            if (m <= 0)
                break;
        }
        st = smtp_reply_add_line(r, STR(buf), LEN(buf));
        if (st != 0) {
            ret = st > 0 ? 0 : -1;
            break;
        }
    }
    vstring_free(buf);
    if (ret < 0)
        r->code = 0;
    return ret;
}

/* Is word (len bytes) in the comma/space separated list? */
static int
smtp_word_in_list(const char *list, const char *word, size_t len)
{
    ARGV   *a;
    size_t  i;
    int     found = 0;

    if (list == NULL || *list == 0)
        return 0;
    a = argv_split(list, ", \t\r\n");
    for (i = 0; i < a->argc && !found; i++)
        found = strlen(a->argv[i]) == len && strncasecmp(a->argv[i], word, len) == 0;
    argv_free(a);
    return found;
}

int
smtp_ehlo_features(const SMTP_REPLY *r, const char *discard, long *size_limit)
{
    static const struct {
        const char *name;
        int     bit;
    } table[] = {
        {"PIPELINING", SMTP_FEATURE_PIPELINING},
        {"SIZE", SMTP_FEATURE_SIZE},
        {"8BITMIME", SMTP_FEATURE_8BITMIME},
        {"DSN", SMTP_FEATURE_DSN},
        {"SMTPUTF8", SMTP_FEATURE_SMTPUTF8},
        {"STARTTLS", SMTP_FEATURE_STARTTLS},
        {"AUTH", SMTP_FEATURE_AUTH},
        {"ENHANCEDSTATUSCODES", SMTP_FEATURE_ENHANCED},
        {"XFORWARD", SMTP_FEATURE_XFORWARD},
    };
    int     features = SMTP_FEATURE_ESMTP;
    size_t  i, k, len;

    *size_limit = 0;
    for (i = 1; i < r->lines->argc; i++) {
        const char *line = r->lines->argv[i];

        len = strcspn(line, " \t=");
        if (len == 0 || smtp_word_in_list(discard, line, len))
            continue;
        for (k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
            if (strlen(table[k].name) != len || strncasecmp(table[k].name, line, len) != 0)
                continue;
            features |= table[k].bit;
            if (table[k].bit == SMTP_FEATURE_SIZE && line[len] == ' ') {
                char   *end;
                long    n = strtol(line + len + 1, &end, 10);

                if (n > 0 && (*end == 0 || *end == ' '))
                    *size_limit = n;
            }
        }
    }
    return features;
}

/* ---- message body -------------------------------------------------------- */

void
smtp_body_init(SMTP_BODY *b, long limit,
               int (*write)(void *ctx, const char *data, size_t len), void *ctx)
{
    b->bol = 1;
    b->col = 0;
    b->limit = limit == 1 ? 2 : limit;     /* 1: the SPACE alone would fill a line */
    b->folded = 0;
    b->write = write;
    b->ctx = ctx;
}

static int
smtp_body_eol(SMTP_BODY *b)
{
    b->bol = 1;
    b->col = 0;
    return b->write(b->ctx, "\r\n", 2);
}

/*
 * A line longer than the limit is broken as Postfix breaks it: after
 * exactly limit bytes on the output line, CRLF and a SPACE, and the SPACE
 * counts toward the next output line (so every output line but the last
 * of a folded line is exactly limit bytes). Unfolding the copy gives the
 * original line back. A line of exactly limit bytes is not touched; a
 * piece (not the end of its line) that ends exactly at the limit still
 * gets its CRLF SPACE. Only a '.' at the start of a real line is doubled:
 * a continuation starts with the SPACE.
 */
int
smtp_body_piece(SMTP_BODY *b, const char *data, size_t len, int is_eol)
{
    int     ret;
    size_t  room;

    do {
        if (b->bol && len > 0 && data[0] == '.' && (ret = b->write(b->ctx, ".", 1)) != 0)
            return ret;
        if (len > 0)
            b->bol = 0;
        room = b->limit > 0 ? (size_t) (b->limit - b->col) : 0;
        if (b->limit > 0 && len >= room) {
            if ((ret = b->write(b->ctx, data, room)) != 0 || (ret = smtp_body_eol(b)) != 0)
                return ret;
            data += room;
            len -= room;
            if (len > 0 || !is_eol) {
                b->folded = 1;
                b->bol = 0;
                b->col = 1;
                if ((ret = b->write(b->ctx, " ", 1)) != 0)
                    return ret;
            }
            if (len == 0)
                return 0;
        } else {
            if (len > 0 && (ret = b->write(b->ctx, data, len)) != 0)
                return ret;
            b->col += (long) len;
            return is_eol ? smtp_body_eol(b) : 0;
        }
    } while (len > 0);
    return 0;
}

int
smtp_body_finish(SMTP_BODY *b)
{
    int     ret;

    if (!b->bol && (ret = smtp_body_eol(b)) != 0)
        return ret;
    return b->write(b->ctx, ".\r\n", 3);
}
