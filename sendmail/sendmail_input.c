/*
 * sendmail_input.c - the message on stdin, as content records.
 *
 * Interface (sendmail.h):
 *   sendmail_input_init()    bind a SM_INPUT to stdin
 *   sendmail_input_piece()   the next piece of a line: NORM ends a line
 *                            (its newline and a CR before it removed, as
 *                            sendmail_fix_line_endings=always does), CONT
 *                            is a piece of a line longer than
 *                            line_length_limit; EOF at the end of input
 *                            or at a line of just "." (unless -i)
 *   sendmail_read_headers()  buffer the header block, at most
 *                            header_size_limit bytes
 *   sendmail_extract()       -t: recipients from To:, Cc:, Bcc: (from the
 *                            Resent- versions when any Resent- header is
 *                            present); Bcc: headers are removed
 *
 * A leading mbox "From " line is dropped, as Postfix does.
 *
 * SECURITY: stdin is the user's own data; everything read is bounded by
 * line_length_limit per piece and header_size_limit for the buffered
 * header block; the body is streamed, never held in memory.
 *
 * DIAGNOSTICS: none; the message is read and bounded here, problems are
 * returned to sendmail.c.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "mem.h"
#include "msg.h"
#include "record.h"
#include "sendmail.h"

void
sendmail_input_init(SM_INPUT *inp, STREAM *in, long line_limit, int dot_ends)
{
    memset(inp, 0, sizeof(*inp));
    inp->in = in;
    inp->line_limit = line_limit > 0 ? (size_t) line_limit : 2048;
    inp->buf = vstring_alloc(inp->line_limit + 1);
    inp->dot_ends = dot_ends;
    inp->at_line_start = 1;
    inp->first_line = 1;
}

/* One raw piece; handles the line ending. */
static int
sendmail_input_raw(SM_INPUT *inp)
{
    ssize_t n;

    n = stream_gets(inp->in, inp->buf, inp->line_limit);
    if (n <= 0) {
        inp->done = 1;
        return REC_TYPE_EOF;
    }
    if (STR(inp->buf)[LEN(inp->buf) - 1] == '\n') {
        vstring_truncate(inp->buf, LEN(inp->buf) - 1);
        if (LEN(inp->buf) > 0 && STR(inp->buf)[LEN(inp->buf) - 1] == '\r')
            vstring_truncate(inp->buf, LEN(inp->buf) - 1);
        return REC_TYPE_NORM;
    }
    if ((size_t) n < inp->line_limit)
        return REC_TYPE_NORM;           /* last line without newline */
    return REC_TYPE_CONT;
}

int
sendmail_input_piece(SM_INPUT *inp)
{
    int     type;
    int     line_start;

    for (;;) {
        if (inp->done)
            return REC_TYPE_EOF;
        line_start = inp->at_line_start;
        if ((type = sendmail_input_raw(inp)) == REC_TYPE_EOF)
            return type;
        inp->at_line_start = (type == REC_TYPE_NORM);
        if (!line_start)
            return type;
        if (inp->first_line) {
            inp->first_line = 0;
            if (LEN(inp->buf) >= 5 && strncmp(STR(inp->buf), "From ", 5) == 0) {
                /* skip the whole mbox From_ line */
                while (type == REC_TYPE_CONT && (type = sendmail_input_raw(inp)) != REC_TYPE_EOF)
                    /* void */ ;
                inp->at_line_start = 1;
                continue;
            }
        }
        if (inp->dot_ends && type == REC_TYPE_NORM && strcmp(STR(inp->buf), ".") == 0) {
            inp->done = 1;
            return REC_TYPE_EOF;
        }
        return type;
    }
}

/* Header name length when data starts a header ("Name:"), else 0. */
static size_t
sendmail_header_name(const char *data, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) data[i];

        if (ch == ':')
            return i;
        if (ch <= ' ' || ch >= 0x7f)
            return 0;
    }
    return 0;
}

static void
sendmail_headers_add(SM_HEADERS *hdrs, int type, int header, const char *data, size_t len)
{
    SM_PIECE *p;

    if (hdrs->count == hdrs->cap) {
        hdrs->cap = hdrs->cap ? hdrs->cap * 2 : 32;
        hdrs->pieces = mem_realloc_array(hdrs->pieces, hdrs->cap, sizeof(SM_PIECE));
    }
    p = hdrs->pieces + hdrs->count++;
    p->type = type;
    p->header = header;
    p->len = len;
    p->data = mem_strndup(data, len);
    hdrs->bytes += len + 1;
}

void
sendmail_read_headers(SM_INPUT *inp, SM_HEADERS *hdrs, size_t header_limit)
{
    int     type, line_start = 1, cur = -1;

    memset(hdrs, 0, sizeof(*hdrs));
    while ((type = sendmail_input_piece(inp)) != REC_TYPE_EOF) {
        const char *data = STR(inp->buf);
        size_t  len = LEN(inp->buf);

        if (line_start) {
            if (sendmail_header_name(data, len) > 0)
                cur = hdrs->nheaders++;
            else if (!(cur >= 0 && len > 0 && (data[0] == ' ' || data[0] == '\t')))
                cur = -1;       /* not a header: the body starts here */
        }
        sendmail_headers_add(hdrs, type, cur, data, len);
        line_start = (type == REC_TYPE_NORM);
        if ((cur < 0 && line_start) || hdrs->bytes > header_limit)
            break;
    }
    if (type == REC_TYPE_EOF)
        hdrs->ended = 1;
}

/* Unfolded text of logical header h (name included). */
static char *
sendmail_header_text(const SM_HEADERS *hdrs, int h)
{
    VSTRING *text = vstring_alloc(VSTRING_UNLIMITED);

    for (size_t i = 0; i < hdrs->count; i++)
        if (hdrs->pieces[i].header == h)
            vstring_ncat(text, hdrs->pieces[i].data, hdrs->pieces[i].len);
    return vstring_export(text);
}

static int
sendmail_header_is(const char *text, const char *name)
{
    size_t  n = strlen(name);

    return strncasecmp(text, name, n) == 0 && text[n] == ':';
}

void
sendmail_extract(SM_HEADERS *hdrs, ARGV *rcpts)
{
    static const char *const plain[] = {"To", "Cc", "Bcc", 0};
    static const char *const resent[] = {"Resent-To", "Resent-Cc", "Resent-Bcc", 0};
    const char *const *names = plain;
    int     h;

    for (h = 0; h < hdrs->nheaders; h++) {
        char   *text = sendmail_header_text(hdrs, h);

        if (strncasecmp(text, "Resent-", 7) == 0)
            names = resent;
        mem_free(text);
    }
    for (h = 0; h < hdrs->nheaders; h++) {
        char   *text = sendmail_header_text(hdrs, h);
        int     bcc = sendmail_header_is(text, "Bcc") || sendmail_header_is(text, "Resent-Bcc");

        for (int i = 0; names[i]; i++)
            if (sendmail_header_is(text, names[i]))
                sendmail_add_recipients(rcpts, text + strlen(names[i]) + 1);
        mem_free(text);
        if (bcc)
            for (size_t i = 0; i < hdrs->count; i++)
                if (hdrs->pieces[i].header == h)
                    hdrs->pieces[i].type = 0;   /* removed */
    }
}

void
sendmail_headers_free(SM_HEADERS *hdrs)
{
    for (size_t i = 0; i < hdrs->count; i++)
        mem_free(hdrs->pieces[i].data);
    mem_free(hdrs->pieces);
    memset(hdrs, 0, sizeof(*hdrs));
}
