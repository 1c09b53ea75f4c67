/*
 * fuzz_smtpd_data.c - libFuzzer harness for smtpd's DATA reader
 * (smtpd/smtpd_data.c: dot-unstuffing, bare LF handling, line limits)
 * and its ESMTP MAIL/RCPT parameter parser (smtpd/smtpd_esmtp.c). Both
 * read bytes straight from SMTP clients.
 *
 * Input: byte 0 picks the bare LF mode and the line limit; the rest is
 * fed to the DATA reader, and its first line to the ESMTP parsers.
 */
#include "../../smtpd/smtpd_data.c"
#include "../../smtpd/smtpd_esmtp.c"
#include "../../smtpd/smtpd_params.c"
#include "../../smtpd/smtpd_milter.c"    /* the var_*, left zero */
#include "../unit/smtpd_data_stubs.h"
#include "fuzz_util.h"

/* Each record must be a whole line without CR LF framing left over in
 * reject mode; here we only check the bounds the reader promises. */
static int
fuzz_line(void *ctx, int type, const char *data, size_t len)
{
    size_t  limit = *(size_t *) ctx;

    if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
        abort();
    if (len > limit)
        abort();
    if (len > 0)
        (void) memchr(data, 0, len);            /* touch every byte */
    return 0;
}

static void
fuzz_esmtp(const char *text)
{
    SMTPD_MAIL_ARGS m;
    SMTPD_RCPT_ARGS r;
    VSTRING *reply = vstring_alloc(200);

    memset(&m, 0, sizeof(m));
    memset(&r, 0, sizeof(r));
    (void) smtpd_esmtp_mail_args(text, &m, 10240000, reply);
    smtpd_esmtp_mail_args_free(&m);
    (void) smtpd_esmtp_rcpt_args(text, &r, reply);
    smtpd_esmtp_rcpt_args_free(&r);
    (void) smtpd_esmtp_keyword(text, "SIZE");
    vstring_free(reply);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SMTPD_DATA_IN din;
    STREAM *s;
    size_t  limit;
    uint8_t sel;

    if (size < 1)
        return 0;
    sel = data[0];
    memset(&din, 0, sizeof(din));
    din.bare_lf_mode = data[0] % 3;
    limit = (data[0] & 0x80) ? 2048 : 16 + (data[0] >> 2 & 0x1f);
    din.line_limit = limit;
    data++, size--;

    /* ESMTP parameters: the first line, NUL-terminated. */
    const uint8_t *nl = memchr(data, '\n', size);
    char   *line = mem_strndup((const char *) data, nl ? (size_t) (nl - data) : size);
    fuzz_esmtp(line);
    mem_free(line);

    if ((s = fuzz_stream(data, size)) == NULL)
        return 0;
    (void) smtpd_data_read(s, &din, fuzz_line, &limit);
    stream_close(s);

    /* BDAT: the same bytes in chunks cut at arbitrary places. */
    SMTPD_BDAT_IN bin;
    size_t  off = 0, chunk = 1 + sel % 97;

    smtpd_data_bdat_init(&bin, din.bare_lf_mode, limit);
    while (off < size) {
        size_t  n = size - off < chunk ? size - off : chunk;

        if (smtpd_data_bdat_feed(&bin, (const char *) data + off, n, fuzz_line, &limit) != 0)
            break;
        off += n;
    }
    if (off >= size)
        (void) smtpd_data_bdat_finish(&bin, fuzz_line, &limit);
    smtpd_data_bdat_free(&bin);
    return 0;
}
