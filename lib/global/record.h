/*
 * record.h - queue file records.
 *
 * A queue file is a sequence of records: one type byte, the data length
 * as a base-128 number (low 7 bits first, high bit set on every byte but
 * the last, at most 5 bytes), then the data. The file has three sections:
 *
 *   envelope:  SIZE TIME [CTIM] [FULL] [ATTR...] FROM [DSN_*] {ORCP? RCPT}... [PRIO]
 *   content:   MESG, then NORM/CONT records (the message, one line per
 *              record; NORM ends a line, CONT is a piece of a long line)
 *   extracted: XTRA, then RCPT/DONE/ATTR/... records added later, then END
 *
 * The SIZE record is written first with fixed-width fields so it can be
 * rewritten in place: "%15ld %15ld %15ld %15ld" = content size in bytes,
 * offset of the first content record (after MESG), recipient count,
 * offset of the XTRA record.
 *
 * A delivered recipient's RCPT record has its type byte overwritten with
 * DONE in place (the record keeps its length), so progress survives a
 * crash without rewriting the file.
 *
 * SECURITY: rec_get() bounds the record length by the caller's maximum;
 * a longer record, a bad length encoding or a truncated record is an
 * error (REC_TYPE_ERROR) and the file goes to corrupt/.
 *
 * DIAGNOSTICS: none; malformed records are REC_TYPE_ERROR returns, write
 * errors -1.
 */
#ifndef POSTHORN_RECORD_H
#define POSTHORN_RECORD_H

#include "stream.h"
#include "vstring.h"

#define REC_TYPE_SIZE   'C'     /* first record, fixed-width sizes */
#define REC_TYPE_TIME   'T'     /* arrival time "sec usec" */
#define REC_TYPE_CTIM   'c'     /* create time */
#define REC_TYPE_FULL   'F'     /* sender full name */
#define REC_TYPE_ATTR   'A'     /* name=value */
#define REC_TYPE_FROM   'S'     /* envelope sender ("" = null sender) */
#define REC_TYPE_ORCP   'O'     /* original recipient of the next RCPT */
#define REC_TYPE_RCPT   'R'     /* recipient, to be delivered */
#define REC_TYPE_DONE   'D'     /* recipient, delivered or bounced */
#define REC_TYPE_DSN_ORCPT  'o' /* DSN ORCPT= of the next RCPT */
#define REC_TYPE_DSN_NOTIFY 'n' /* DSN NOTIFY= bits of the next RCPT */
#define REC_TYPE_DSN_ENVID  'i' /* DSN ENVID= */
#define REC_TYPE_DSN_RET    '<' /* DSN RET= (1 full, 2 headers) */
#define REC_TYPE_WARN   'W'     /* time of the next delay warning */
#define REC_TYPE_MESG   'M'     /* start of content */
#define REC_TYPE_NORM   'N'     /* a content line, ends in newline */
#define REC_TYPE_CONT   'L'     /* a piece of a long content line */
#define REC_TYPE_XTRA   'X'     /* start of extracted information */
#define REC_TYPE_END    'E'     /* end of file */
#define REC_TYPE_CONTENT_FILTER 'f' /* content_filter transport:nexthop */
#define REC_TYPE_FLGS   'J'     /* smtpd -> cleanup: CLEANUP_FLAG_HOLD / _DISCARD bits */
#define REC_TYPE_RDR    '>'     /* smtpd -> cleanup: REDIRECT address */

#define REC_TYPE_EOF    (-1)    /* clean end of stream */
#define REC_TYPE_ERROR  (-2)    /* bad length, oversize, truncated */

#define REC_SIZE_FORMAT "%15ld %15ld %15ld %15ld"
#define REC_SIZE_WIDTH  63

#define REC_MAX_DEFAULT (1024 * 1024)

/* Write one record; returns 0, or -1 if the stream is in error. */
int     rec_put(STREAM *s, int type, const char *data, size_t len);
int     rec_puts(STREAM *s, int type, const char *str);
int     rec_printf(STREAM *s, int type, const char *fmt, ...)
            __attribute__((format(printf, 3, 4)));
/* Read one record into buf (reset first); returns its type, REC_TYPE_EOF
 * at a clean end, REC_TYPE_ERROR otherwise. max bounds the data length. */
int     rec_get(STREAM *s, VSTRING *buf, size_t max);
/* True for the type bytes posthorn writes. */
int     rec_type_known(int type);
const char *rec_type_name(int type);    /* "sender", "recipient", ... for postcat */

#endif
