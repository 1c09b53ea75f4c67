/*
 * maildrop.c - checking the record grammar of a locally submitted message.
 *
 * Interface: maildrop.h. Used by postdrop (input from sendmail) and pickup
 * (files in maildrop/), so that both accept exactly the same files; and
 * by pickup for queue files that postsuper -r put in maildrop/.
 *
 * SECURITY: the input comes from an unprivileged local user. Nothing here
 * allocates or copies; each record is checked for its type, its position,
 * its length and its characters before the caller uses it.
 *
 * DIAGNOSTICS: none; a record that breaks the rules is a failed check with
 * the reason in the MAILDROP_CHECK for the caller (pickup, postdrop) to
 * log.
 */
#include <string.h>

#include "address.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "record.h"

void
maildrop_check_init(MAILDROP_CHECK *c, long line_limit)
{
    memset(c, 0, sizeof(*c));
    c->section = MAILDROP_SECT_ENVELOPE;
    c->content_max = MAILDROP_CONTENT_MIN;
    if (line_limit > 0 && (size_t) line_limit > c->content_max)
        c->content_max = (size_t) line_limit < REC_MAX_DEFAULT ?
            (size_t) line_limit : REC_MAX_DEFAULT;
}

void
maildrop_check_init_queue(MAILDROP_CHECK *c)
{
    memset(c, 0, sizeof(*c));
    c->section = MAILDROP_SECT_ENVELOPE;
    c->queue_file = 1;
    c->content_max = REC_MAX_DEFAULT;
}

size_t
maildrop_record_max(const MAILDROP_CHECK *c)
{
    return c->section == MAILDROP_SECT_CONTENT ? c->content_max : MAILDROP_ENV_MAX;
}

int
maildrop_text_ok(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) data[i];

        if (ch < 0x20 || ch == 0x7f)
            return 0;
    }
    return 1;
}

/* "digits" or "digits digits" (arrival time seconds and microseconds). */
static int
maildrop_time_ok(const char *data, size_t len)
{
    size_t  i = 0, n;

    for (int field = 0; field < 2; field++) {
        for (n = 0; i < len && data[i] >= '0' && data[i] <= '9'; i++, n++)
            /* count */ ;
        if (n == 0 || n > 19)
            return 0;
        if (i == len)
            return 1;
        if (field == 0 && data[i++] != ' ')
            return 0;
    }
    return i == len;
}

static int
maildrop_attr_ok(const char *data, size_t len)
{
    static const char *const allowed[] = {
        ATTR_ENCODING "=7bit", ATTR_ENCODING "=8bit", ATTR_ENCODING "=8bitmime",
        ATTR_RWR_CONTEXT "=local", ATTR_TRACE_FLAGS "=" TRACE_FLAGS_VERIFY, 0,
    };

    for (int i = 0; allowed[i]; i++)
        if (len == strlen(allowed[i]) && memcmp(data, allowed[i], len) == 0)
            return 1;
    return 0;
}

static int
maildrop_bad(MAILDROP_CHECK *c, const char *why)
{
    c->why = why;
    return -1;
}

static int
maildrop_address_ok(const char *data, size_t len)
{
    return len <= ADDRESS_MAX && maildrop_text_ok(data, len);
}

static int maildrop_check_dsn_msg(MAILDROP_CHECK *, int, const char *, size_t);

/* One envelope record. */
static int
maildrop_check_envelope(MAILDROP_CHECK *c, int type, const char *data, size_t len)
{
    if (!c->have_time && type != REC_TYPE_TIME)
        return maildrop_bad(c, "first record is not the arrival time");
    switch (type) {
    case REC_TYPE_TIME:
        if (c->have_time || !maildrop_time_ok(data, len))
            return maildrop_bad(c, "bad or duplicate arrival time record");
        c->have_time = 1;
        return 0;
    case REC_TYPE_FULL:
        if (c->have_full || c->have_from || len > MAILDROP_FULL_MAX
            || !maildrop_text_ok(data, len))
            return maildrop_bad(c, "bad full name record");
        c->have_full = 1;
        return 0;
    case REC_TYPE_ATTR:
        if (c->have_from || !maildrop_attr_ok(data, len))
            return maildrop_bad(c, "unexpected or bad attribute record");
        return 0;
    case REC_TYPE_FROM:
        if (c->have_from || !maildrop_address_ok(data, len))
            return maildrop_bad(c, "bad or duplicate sender record");
        c->have_from = 1;
        return 0;
    case REC_TYPE_DSN_ENVID:            /* Postfix's sendmail puts them here */
    case REC_TYPE_DSN_RET:
        if (!c->have_from)
            return maildrop_check_dsn_msg(c, type, data, len);
        break;
    default:
        break;
    }
    if (!c->have_from)
        return maildrop_bad(c, "record before the sender record");
    return 1;                                   /* not decided yet */
}

/* DSN ENVID or RET (once each, before the sender or after the recipients). */
static int
maildrop_check_dsn_msg(MAILDROP_CHECK *c, int type, const char *data, size_t len)
{
    if (type == REC_TYPE_DSN_ENVID) {
        if (c->have_envid || c->pending || len > MAILDROP_ENVID_MAX
            || !maildrop_text_ok(data, len))
            return maildrop_bad(c, "bad dsn envid record");
        c->have_envid = 1;
    } else {
        if (c->have_ret || c->pending || len != 1 || (data[0] != '1' && data[0] != '2'))
            return maildrop_bad(c, "bad dsn ret record");
        c->have_ret = 1;
    }
    c->dsn_late = c->have_from;
    return 0;
}

/* Envelope records after the sender. */
static int
maildrop_check_recipients(MAILDROP_CHECK *c, int type, const char *data, size_t len)
{
    int     after_rcpts = c->dsn_late;

    switch (type) {
    case REC_TYPE_DSN_ORCPT:
    case REC_TYPE_ORCP:
        if (after_rcpts || !maildrop_address_ok(data, len))
            return maildrop_bad(c, "bad original recipient record");
        c->pending = 1;
        return 0;
    case REC_TYPE_DSN_NOTIFY:
        if (after_rcpts || len < 1 || len > 2 || strspn(data, "0123456789") < len
            || data[0] == '0' || (len == 2 && data[0] > '1') || (len == 2 && data[1] > '5'))
            return maildrop_bad(c, "bad dsn notify record");
        c->pending = 1;
        return 0;
    case REC_TYPE_RCPT:
        if (after_rcpts || len == 0 || !maildrop_address_ok(data, len))
            return maildrop_bad(c, "bad recipient record");
        c->pending = 0;
        c->rcpt_count++;
        return 0;
    case REC_TYPE_DSN_ENVID:
    case REC_TYPE_DSN_RET:
        return maildrop_check_dsn_msg(c, type, data, len);
    case REC_TYPE_MESG:
        if (len != 0 || c->pending)
            return maildrop_bad(c, "bad message content record");
        if (c->rcpt_count == 0)
            return maildrop_bad(c, "no recipients");
        c->section = MAILDROP_SECT_CONTENT;
        return 0;
    default:
        return maildrop_bad(c, "unexpected record type in envelope");
    }
}

/*
 * Requeued queue files (postsuper -r). Written by cleanup, but checked as
 * strictly as a user's file: every type against its section, every
 * length against a bound, addresses and text for control characters.
 */

/* SIZE: Postfix's, 3 to 6 fixed-width numbers (digits and spaces). */
static int
maildrop_size_ok(const char *data, size_t len)
{
    REC_SIZE sz;

    return len >= 47 && len <= REC_SIZE_WIDTH && (len + 1) % 16 == 0
        && strspn(data, "0123456789 ") == len && rec_size_parse(data, &sz) == 0;
}

/* "name=value" with a short name and printable text. */
static int
maildrop_queue_attr_ok(const char *data, size_t len)
{
    const char *eq = memchr(data, '=', len);

    return eq != NULL && eq > data && eq - data <= 100 && maildrop_text_ok(data, len);
}

/* Recipient records, in the envelope after FROM or in the extracted section. */
static int
maildrop_queue_rcpt(MAILDROP_CHECK *c, int type, const char *data, size_t len)
{
    switch (type) {
    case REC_TYPE_DSN_ORCPT:
    case REC_TYPE_ORCP:
        if (!maildrop_address_ok(data, len))
            return maildrop_bad(c, "bad original recipient record");
        c->pending = 1;
        return 0;
    case REC_TYPE_DSN_NOTIFY:
        if (len < 1 || len > 2 || strspn(data, "0123456789") < len)
            return maildrop_bad(c, "bad dsn notify record");
        c->pending = 1;
        return 0;
    case REC_TYPE_RCPT:
    case REC_TYPE_DONE:
        if (len == 0 || !maildrop_address_ok(data, len))
            return maildrop_bad(c, "bad recipient record");
        c->pending = 0;
        c->rcpt_count += type == REC_TYPE_RCPT;
        return 0;
    case REC_TYPE_ATTR:
        return maildrop_queue_attr_ok(data, len) ? 0 : maildrop_bad(c, "bad attribute record");
    case REC_TYPE_WARN:
        return maildrop_time_ok(data, len) ? 0 : maildrop_bad(c, "bad warning time record");
    case REC_TYPE_CONTENT_FILTER:
        return maildrop_text_ok(data, len) ? 0 : maildrop_bad(c, "bad content filter record");
    default:
        return 1;                               /* not a recipient record */
    }
}

static int
maildrop_queue_envelope(MAILDROP_CHECK *c, int type, const char *data, size_t len)
{
    int     ret;

    if (!c->have_size)
        return type == REC_TYPE_SIZE && maildrop_size_ok(data, len) ?
            (c->have_size = 1, 0) : maildrop_bad(c, "first record is not the size record");
    if (!c->have_time)
        return type == REC_TYPE_TIME && maildrop_time_ok(data, len) ?
            (c->have_time = 1, 0) : maildrop_bad(c, "no arrival time after the size record");
    switch (type) {
    case REC_TYPE_CTIM:
        return maildrop_time_ok(data, len) ? 0 : maildrop_bad(c, "bad create time record");
    case REC_TYPE_FULL:
        return len <= MAILDROP_FULL_MAX && maildrop_text_ok(data, len) ? 0
            : maildrop_bad(c, "bad full name record");
    case REC_TYPE_FROM:
        if (c->have_from || !maildrop_address_ok(data, len))
            return maildrop_bad(c, "bad or duplicate sender record");
        c->have_from = 1;
        return 0;
    case REC_TYPE_ATTR:
        return maildrop_queue_attr_ok(data, len) ? 0 : maildrop_bad(c, "bad attribute record");
    default:
        break;
    }
    if (!c->have_from)
        return maildrop_bad(c, "record before the sender record");
    if ((ret = maildrop_queue_rcpt(c, type, data, len)) <= 0)
        return ret;
    switch (type) {
    case REC_TYPE_DSN_ENVID:
        return len <= MAILDROP_ENVID_MAX && maildrop_text_ok(data, len) ? 0
            : maildrop_bad(c, "bad dsn envid record");
    case REC_TYPE_DSN_RET:
        return len == 1 && (data[0] == '1' || data[0] == '2') ? 0
            : maildrop_bad(c, "bad dsn ret record");
    case REC_TYPE_MESG:
        if (len != 0 || c->pending)
            return maildrop_bad(c, "bad message content record");
        c->section = MAILDROP_SECT_CONTENT;
        return 0;
    default:
        return maildrop_bad(c, "unexpected record type in envelope");
    }
}

/* ---- both grammars ---------------------------------------------------- */

int
maildrop_check(MAILDROP_CHECK *c, int type, const char *data, size_t len)
{
    int     ret;

    c->records++;
    if (type < 0)
        return maildrop_bad(c, "truncated or malformed record");
    if (len > maildrop_record_max(c))
        return maildrop_bad(c, "record too long");
    switch (c->section) {
    case MAILDROP_SECT_ENVELOPE:
        if (c->queue_file)
            return maildrop_queue_envelope(c, type, data, len);
        if ((ret = maildrop_check_envelope(c, type, data, len)) <= 0)
            return ret;
        return maildrop_check_recipients(c, type, data, len);
    case MAILDROP_SECT_CONTENT:
        if (type == REC_TYPE_NORM || type == REC_TYPE_CONT)
            return 0;
        if (type == REC_TYPE_XTRA && len == 0) {
            c->section = MAILDROP_SECT_EXTRA;
            return 0;
        }
        return maildrop_bad(c, "unexpected record type in message content");
    case MAILDROP_SECT_EXTRA:
        if (type == REC_TYPE_END && len == 0) {
            if (c->pending)         /* queue file (a maildrop file has none here) */
                return maildrop_bad(c, "original recipient without recipient");
            if (c->rcpt_count == 0)
                return maildrop_bad(c, "no recipients left to deliver");
            c->section = MAILDROP_SECT_DONE;
            return 1;
        }
        if (c->queue_file && (ret = maildrop_queue_rcpt(c, type, data, len)) <= 0)
            return ret;
        return maildrop_bad(c, "unexpected record type after message content");
    default:
        return maildrop_bad(c, "record after the end record");
    }
}

int
maildrop_check_end(MAILDROP_CHECK *c)
{
    if (c->section != MAILDROP_SECT_DONE)
        return maildrop_bad(c, "premature end of input");
    return 0;
}
