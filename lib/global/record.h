/*
 * record.h - queue file records, in Postfix 3.7's format.
 *
 * A queue file is a sequence of records: one type byte, the data length
 * as a base-128 number (low 7 bits first, high bit set on every byte but
 * the last, at most 5 bytes), then the data. The file has three sections,
 * laid out as Postfix's cleanup writes them (so that Postfix's postcat,
 * qmgr, postsuper and mailq read posthorn's files and the other way
 * round; tests/data/postfix-queue/ holds files Postfix made):
 *
 *   envelope:  SIZE TIME [A create_time] [FULL] [A ...] FROM [A ...]
 *              {[A notify_flags] [A dsn_orig_rcpt] [ORCP] RCPT}... [WARN]
 *   content:   MESG (empty), then NORM/CONT records (the message, one
 *              line per record; NORM ends a line, CONT is a piece of a
 *              long line)
 *   extracted: XTRA (empty), then [FILT] [A ...] RCPT/DONE records added
 *              later, then END
 *
 * The SIZE record is written first with fixed-width fields so that it
 * can be rewritten in place, REC_SIZE_FORMAT: content size (the bytes of
 * the content records: XTRA offset minus content offset, what mailq
 * shows), offset of the first content record (after MESG), recipient
 * count, qmgr options (the DSN NOTIFY bits of all recipients ORed,
 * shifted left by one), content length (= content size) and SMTPUTF8
 * flags. Postfix's older writers left out the last fields; readers take
 * 3 to 6 (rec_size_parse).
 *
 * Postfix keeps the DSN and create-time data in named attributes ('A',
 * "name=value"): create_time, notify_flags, dsn_orig_rcpt, envelope_id,
 * ret_flags. posthorn code uses the pseudo types REC_TYPE_CTIM,
 * REC_TYPE_DSN_* for them: rec_put() writes them as those attributes
 * and rec_get() turns those attributes back into the pseudo types
 * (rec_get_raw() does not). Other attributes stay REC_TYPE_ATTR.
 *
 * FILT ('L', the content filter "transport:nexthop") shares its letter
 * with CONT: it is FILT in the envelope and extracted sections, CONT in
 * the content section, as in Postfix.
 *
 * Postfix's cleanup edits a file in place for milters: a record is
 * overwritten by a PTR record (and DTXT padding) that points to records
 * appended after END, which end with a PTR back; a PTR of 0 is a reserved
 * slot (go on with the next record). Readers of Postfix's files walk
 * with rec_get_walk(), which follows PTRs (at most REC_PTR_JUMPS_MAX per
 * file), skips DTXT and reports where the record it returns starts.
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
#define REC_TYPE_FULL   'F'     /* sender full name */
#define REC_TYPE_ATTR   'A'     /* name=value */
#define REC_TYPE_FROM   'S'     /* envelope sender ("" = null sender) */
#define REC_TYPE_ORCP   'O'     /* original recipient of the next RCPT */
#define REC_TYPE_RCPT   'R'     /* recipient, to be delivered */
#define REC_TYPE_DONE   'D'     /* recipient, delivered or bounced */
#define REC_TYPE_DRCP   '/'     /* recipient, cancelled (Postfix) */
#define REC_TYPE_WARN   'W'     /* time of the next delay warning */
#define REC_TYPE_MESG   'M'     /* start of content */
#define REC_TYPE_NORM   'N'     /* a content line, ends in newline */
#define REC_TYPE_CONT   'L'     /* a piece of a long content line */
#define REC_TYPE_FILT   'L'     /* content_filter transport:nexthop (not content) */
#define REC_TYPE_CONTENT_FILTER REC_TYPE_FILT
#define REC_TYPE_XTRA   'X'     /* start of extracted information */
#define REC_TYPE_END    'E'     /* end of file */
#define REC_TYPE_FLGS   'f'     /* smtpd -> cleanup: CLEANUP_FLAG_HOLD / _DISCARD bits
                                 * (in a queue file of an earlier posthorn: the
                                 * content filter; qmgr still reads it so) */
#define REC_TYPE_RDR    '>'     /* smtpd -> cleanup: REDIRECT address */
#define REC_TYPE_PRIO   'P'     /* Postfix: priority (ignored) */
#define REC_TYPE_VERP   'V'     /* Postfix: VERP delimiters (ignored) */
#define REC_TYPE_RRTO   'r'     /* Postfix: Return-Receipt-To (ignored) */
#define REC_TYPE_ERTO   'e'     /* Postfix: Errors-To (ignored) */
#define REC_TYPE_KILL   'K'     /* Postfix: killed (ignored) */
#define REC_TYPE_MILT   'm'     /* Postfix: milter count (ignored) */
#define REC_TYPE_INSP   'I'     /* Postfix: old content inspector (ignored) */
#define REC_TYPE_PTR    'p'     /* Postfix: go on at this offset ("%15ld"; 0: next) */
#define REC_TYPE_DTXT   'w'     /* Postfix: padding where a record was overwritten */

/* Pseudo types: written and read as Postfix's named attributes. */
#define REC_TYPE_CTIM       'c' /* A create_time=sec */
#define REC_TYPE_DSN_ORCPT  'o' /* A dsn_orig_rcpt= (DSN ORCPT= of the next RCPT) */
#define REC_TYPE_DSN_NOTIFY 'n' /* A notify_flags= (NOTIFY= bits of the next RCPT) */
#define REC_TYPE_DSN_ENVID  'i' /* A envelope_id= (DSN ENVID=) */
#define REC_TYPE_DSN_RET    '<' /* A ret_flags= (DSN RET=, 1 full, 2 headers) */

#define REC_TYPE_EOF    (-1)    /* clean end of stream */
#define REC_TYPE_ERROR  (-2)    /* bad length, oversize, truncated */

#define REC_SIZE_FORMAT "%15ld %15ld %15ld %15ld %15ld %15ld"
#define REC_SIZE_WIDTH  95

typedef struct REC_SIZE {
    long    data_size;          /* content records, bytes */
    long    data_offset;        /* first content record */
    long    rcpt_count;
    long    qmgr_opts;          /* DSN NOTIFY bits << 1 */
    long    cont_length;
    long    smtputf8;
} REC_SIZE;

#define REC_SIZE_XTRA(sz)   ((sz)->data_offset + (sz)->data_size)
#define REC_QMGR_OPTS(notify) ((long) (notify) << 1)

/* Parse a SIZE record (3 to 6 numbers); 0, or -1 when malformed. */
int     rec_size_parse(const char *data, REC_SIZE *size);
/* Write the SIZE record for content at [data_offset, xtra_offset). */
int     rec_size_put(STREAM *s, long data_offset, long xtra_offset,
                     long rcpt_count, long qmgr_opts);

#define REC_MAX_DEFAULT (1024 * 1024)

/* Write one record; returns 0, or -1 if the stream is in error. */
int     rec_put(STREAM *s, int type, const char *data, size_t len);
int     rec_puts(STREAM *s, int type, const char *str);
int     rec_printf(STREAM *s, int type, const char *fmt, ...)
            __attribute__((format(printf, 3, 4)));
/* Read one record into buf (reset first); returns its type, REC_TYPE_EOF
 * at a clean end, REC_TYPE_ERROR otherwise. max bounds the data length. */
int     rec_get(STREAM *s, VSTRING *buf, size_t max);
/* The same without the named-attribute to pseudo type mapping (postcat). */
int     rec_get_raw(STREAM *s, VSTRING *buf, size_t max);

/* rec_get() that follows PTR records and skips DTXT padding. Zero the
 * REC_WALK before the first record of a file; offset is where the
 * returned record starts, jumps counts the PTRs followed. A bad or
 * looping pointer is REC_TYPE_ERROR. */
#define REC_PTR_JUMPS_MAX 10000
typedef struct REC_WALK {
    long    offset;
    int     jumps;
} REC_WALK;
int     rec_get_walk(STREAM *s, VSTRING *buf, size_t max, REC_WALK *walk);
/* Follow one PTR record's data ("%15ld"; 0 stays put); 0, or -1 when the
 * data is bad or *jumps passes REC_PTR_JUMPS_MAX. */
int     rec_ptr_follow(STREAM *s, const char *data, int *jumps);
/* True for the type bytes of Postfix's queue files. */
int     rec_type_known(int type);
const char *rec_type_name(int type);    /* "sender", "recipient", ... for postcat */
/* The same for a record outside the content section ('L' is FILT there). */
const char *rec_type_name_env(int type);

#endif
