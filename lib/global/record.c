/*
 * record.c - queue file records: write and read one typed record.
 *
 * Interface: record.h. A record is one type byte, the data length as a
 * base-128 number (low 7 bits first, the high bit set on every length
 * byte except the last, at most 5 bytes), then the data bytes.
 *
 * SECURITY: rec_get() reads queue files and cleanup clients, both
 * untrusted. The length is bounded by the caller's maximum before any
 * data is read; a length encoding longer than 5 bytes, a length over the
 * maximum or a record cut short is REC_TYPE_ERROR, never a crash or an
 * allocation the peer chose.
 *
 * DIAGNOSTICS: none; a malformed or oversized record, or a read error, is
 * REC_TYPE_ERROR (a write error -1) for the caller to log and act on.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

#define REC_LEN_BYTES_MAX 5
#define REC_READ_CHUNK    4096

/* A record type and a name: the attribute behind a pseudo type, or the
 * name postcat prints. */
typedef struct REC_NAME {
    int     type;
    const char *name;
} REC_NAME;

/* The named attributes behind the pseudo types. */
static const REC_NAME rec_attr_map[] = {
    {REC_TYPE_CTIM, "create_time"},
    {REC_TYPE_DSN_ORCPT, "dsn_orig_rcpt"},
    {REC_TYPE_DSN_NOTIFY, "notify_flags"},
    {REC_TYPE_DSN_ENVID, "envelope_id"},
    {REC_TYPE_DSN_RET, "ret_flags"},
};

#define REC_ATTR_MAP_LEN (sizeof(rec_attr_map) / sizeof(rec_attr_map[0]))

/* Type byte and length bytes into hdr; returns their count. */
static size_t
rec_put_header(unsigned char *hdr, int type, size_t len)
{
    size_t  n = 0;

    hdr[n++] = (unsigned char) type;
    do {
        unsigned char ch = len & 0x7f;

        len >>= 7;
        if (len)
            ch |= 0x80;
        hdr[n++] = ch;
    } while (len && n < 1 + REC_LEN_BYTES_MAX);
    return n;
}

int
rec_put(STREAM *s, int type, const char *data, size_t len)
{
    unsigned char hdr[1 + REC_LEN_BYTES_MAX];
    const char *name = NULL;
    size_t  nlen = 0;

    for (size_t i = 0; i < REC_ATTR_MAP_LEN; i++)
        if (rec_attr_map[i].type == type) {
            name = rec_attr_map[i].name;
            nlen = strlen(name) + 1;
            type = REC_TYPE_ATTR;
        }
    if (len > 0xffffffffUL - nlen)
        return -1;
    if (stream_write(s, hdr, rec_put_header(hdr, type, len + nlen)) < 0)
        return -1;
    if (name && (stream_write(s, name, nlen - 1) < 0 || stream_putc(s, '=') < 0))
        return -1;
    if (len > 0 && stream_write(s, data, len) < 0)
        return -1;
    return stream_error(s) ? -1 : 0;
}

int
rec_puts(STREAM *s, int type, const char *str)
{
    return rec_put(s, type, str, strlen(str));
}

int
rec_printf(STREAM *s, int type, const char *fmt, ...)
{
    static VSTRING *buf;                /* scratch, kept: one per process */
    va_list ap;
    int     ret;

    if (buf == NULL)
        buf = vstring_alloc(REC_MAX_DEFAULT);
    vstring_reset(buf);
    va_start(ap, fmt);
    ret = vstring_vsprintf_append(buf, fmt, ap);
    va_end(ap);
    if (ret >= 0)
        ret = rec_put(s, type, STR(buf), LEN(buf));
    if (buf->cap > 65536) {             /* a rare big record: give it back */
        vstring_free(buf);
        buf = NULL;
    }
    return ret;
}

/* Read the base-128 length; 0, or -1 on a bad encoding or early end. */
static int
rec_get_length(STREAM *s, size_t *len)
{
    size_t  value = 0;
    int     shift = 0;
    int     ch;

    for (int i = 0; i < REC_LEN_BYTES_MAX; i++) {
        if ((ch = stream_getc(s)) == STREAM_EOF)
            return -1;
        value |= (size_t) (ch & 0x7f) << shift;
        shift += 7;
        if ((ch & 0x80) == 0) {
            *len = value;
            return 0;
        }
    }
    return -1;                                  /* continuation on byte 5 */
}

int
rec_get_raw(STREAM *s, VSTRING *buf, size_t max)
{
    char    chunk[REC_READ_CHUNK];
    size_t  len;
    int     type;

    vstring_reset(buf);
    if ((type = stream_getc(s)) == STREAM_EOF)
        return stream_error(s) ? REC_TYPE_ERROR : REC_TYPE_EOF;
    if (rec_get_length(s, &len) < 0 || len > max || len > buf->max)
        return REC_TYPE_ERROR;
    while (len > 0) {
        size_t  want = len < sizeof(chunk) ? len : sizeof(chunk);

        if (stream_read(s, chunk, want) != (ssize_t) want)
            return REC_TYPE_ERROR;
        if (vstring_ncat(buf, chunk, want) < 0)
            return REC_TYPE_ERROR;
        len -= want;
    }
    return type;
}

/* A named attribute behind a pseudo type becomes that type, its value. */
static int
rec_attr_unmap(VSTRING *buf)
{
    for (size_t i = 0; i < REC_ATTR_MAP_LEN; i++) {
        size_t  nlen = strlen(rec_attr_map[i].name);

        if (LEN(buf) > nlen && STR(buf)[nlen] == '='
            && memcmp(STR(buf), rec_attr_map[i].name, nlen) == 0) {
            memmove(STR(buf), STR(buf) + nlen + 1, LEN(buf) - nlen);   /* with NUL */
            vstring_truncate(buf, LEN(buf) - nlen - 1);
            return rec_attr_map[i].type;
        }
    }
    return REC_TYPE_ATTR;
}

int
rec_get(STREAM *s, VSTRING *buf, size_t max)
{
    int     type = rec_get_raw(s, buf, max);

    return type == REC_TYPE_ATTR ? rec_attr_unmap(buf) : type;
}

int
rec_ptr_follow(STREAM *s, const char *data, int *jumps)
{
    char   *end;
    long    to = strtol(data, &end, 10);

    if (end == data || *end != 0 || to < 0)
        return -1;
    if (to == 0)
        return 0;
    if (++*jumps > REC_PTR_JUMPS_MAX || stream_seek(s, (off_t) to) < 0)
        return -1;
    return 0;
}

int
rec_get_walk(STREAM *s, VSTRING *buf, size_t max, REC_WALK *walk)
{
    int     type;

    for (;;) {
        walk->offset = (long) stream_tell(s);
        type = rec_get(s, buf, max);
        if (type == REC_TYPE_DTXT)
            continue;
        if (type != REC_TYPE_PTR)
            return type;
        if (rec_ptr_follow(s, STR(buf), &walk->jumps) < 0)
            return REC_TYPE_ERROR;
    }
}

int
rec_size_parse(const char *data, REC_SIZE *size)
{
    long    f[6] = {0, 0, 0, 0, -1, 0};
    int     n;
    char    extra;

    n = sscanf(data, "%ld %ld %ld %ld %ld %ld %c", f, f + 1, f + 2, f + 3, f + 4, f + 5, &extra);
    if (n < 3 || n > 6)
        return -1;
    size->data_size = f[0];
    size->data_offset = f[1];
    size->rcpt_count = f[2];
    size->qmgr_opts = f[3];
    size->cont_length = f[4] < 0 ? f[0] : f[4];
    size->smtputf8 = f[5];
    if (size->data_size < 0 || size->data_offset <= 0 || size->rcpt_count < 0
        || size->data_offset > (long) (0x7fffffffffffffffUL >> 1)
        || size->data_size > (long) (0x7fffffffffffffffUL >> 1))
        return -1;
    return 0;
}

int
rec_size_put(STREAM *s, long data_offset, long xtra_offset, long rcpt_count, long qmgr_opts)
{
    long    data_size = xtra_offset - data_offset;

    return rec_printf(s, REC_TYPE_SIZE, REC_SIZE_FORMAT, data_size, data_offset,
                      rcpt_count, qmgr_opts, data_size, 0L);
}

static const REC_NAME rec_names[] = {
    {REC_TYPE_SIZE, "message_size"},
    {REC_TYPE_TIME, "message_arrival_time"},
    {REC_TYPE_CTIM, "create_time"},
    {REC_TYPE_FULL, "sender_fullname"},
    {REC_TYPE_ATTR, "named_attribute"},
    {REC_TYPE_FROM, "sender"},
    {REC_TYPE_ORCP, "original_recipient"},
    {REC_TYPE_RCPT, "recipient"},
    {REC_TYPE_DONE, "done_recipient"},
    {REC_TYPE_DRCP, "canceled_recipient"},
    {REC_TYPE_DSN_ORCPT, "dsn_original_recipient"},
    {REC_TYPE_DSN_NOTIFY, "dsn_notify_flags"},
    {REC_TYPE_DSN_ENVID, "dsn_envelope_id"},
    {REC_TYPE_DSN_RET, "dsn_return_flags"},
    {REC_TYPE_WARN, "warning_message_time"},
    {REC_TYPE_MESG, "message_content"},
    {REC_TYPE_NORM, "regular_text"},
    {REC_TYPE_CONT, "unterminated_text"},
    {REC_TYPE_XTRA, "extracted_info"},
    {REC_TYPE_END, "message_end"},
    {REC_TYPE_FLGS, "cleanup_flags"},
    {REC_TYPE_RDR, "redirect_to"},
    {REC_TYPE_PRIO, "priority"},
    {REC_TYPE_VERP, "verp_delimiters"},
    {REC_TYPE_RRTO, "return_receipt"},
    {REC_TYPE_ERTO, "errors_to"},
    {REC_TYPE_KILL, "killed"},
    {REC_TYPE_MILT, "milter_count"},
    {REC_TYPE_INSP, "content_inspector"},
    {REC_TYPE_PTR, "pointer_record"},
    {REC_TYPE_DTXT, "padding"},
    {REC_TYPE_EOF, "end-of-file"},
    {REC_TYPE_ERROR, "error"},
};

int
rec_type_known(int type)
{
    if (type < 0)
        return 0;
    for (size_t i = 0; i < sizeof(rec_names) / sizeof(rec_names[0]); i++)
        if (rec_names[i].type == type)
            return 1;
    return 0;
}

const char *
rec_type_name(int type)
{
    for (size_t i = 0; i < sizeof(rec_names) / sizeof(rec_names[0]); i++)
        if (rec_names[i].type == type)
            return rec_names[i].name;
    return "unknown";
}

const char *
rec_type_name_env(int type)
{
    return type == REC_TYPE_FILT ? "content_filter" : rec_type_name(type);
}
