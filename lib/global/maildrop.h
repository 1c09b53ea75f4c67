/*
 * maildrop.h - the format of a locally submitted message (maildrop/ files).
 *
 * sendmail writes it to postdrop's stdin, postdrop stores it unchanged in
 * $queue_directory/maildrop/, pickup reads it and hands it to cleanup. It
 * is a record stream (record.h) with a fixed grammar:
 *
 *   envelope:  TIME [FULL] [ATTR...] FROM
 *              {[DSN_ORCPT] [DSN_NOTIFY] [ORCP] RCPT}...   (at least one)
 *              [DSN_ENVID] [DSN_RET]   (once each, here or anywhere
 *                                       before FROM: Postfix's order)
 *   content:   MESG (empty), then NORM/CONT records
 *   extracted: XTRA (empty), END (empty); nothing after END
 *
 * The layout is Postfix's postdrop's, so that either pickup takes the
 * other's files: the DSN_* records are Postfix's named attributes on
 * disk (record.h), the file is complete at mode 0744.
 *
 * ATTR records are limited to "encoding=7bit|8bit" (8bitmime: older
 * posthorn),
 * "trace_flags=verify" (sendmail -bv) and "rewrite_context=local": a
 * local user must not be able to claim a
 * remote client name or address.
 *
 * Interface:
 *   maildrop_check_init()   start checking a new stream (maildrop grammar)
 *   maildrop_record_max()   the length bound to pass to rec_get() next
 *   maildrop_check()        check one record: 0 = ok, 1 = END (done),
 *                           -1 = malformed (c->why says why)
 *   maildrop_check_end()    after the stream ended: 0 if END was seen
 *
 * Requeued queue files (postsuper -r moves a queue file to maildrop/,
 * owned by mail_owner, mode 0700) have their own, equally strict grammar,
 * that of the queue files cleanup writes (record.h):
 *
 *   envelope:  SIZE (Postfix's, 3 to 6 fields) TIME, then CTIM FULL ATTR
 *              (before or after FROM),
 *              FROM once, then {[DSN_ORCPT] [DSN_NOTIFY] [ORCP] RCPT|DONE}...
 *              DSN_ENVID DSN_RET WARN CONTENT_FILTER, then MESG (empty)
 *   content:   NORM/CONT, then XTRA (empty)
 *   extracted: the recipient records and ATTR WARN CONTENT_FILTER, then END
 *
 * maildrop_check_init_queue() starts checking with this grammar; the
 * other functions are the same. pickup trusts a file with this grammar
 * only when mail_owner owns it; a user's file is always checked with the
 * maildrop grammar.
 *
 * SECURITY: the records come from an unprivileged user (postdrop's stdin,
 * or a file that user owns in maildrop/). Every record type is checked
 * against its section, every length against a bound, addresses against
 * ADDRESS_MAX and for control characters.
 *
 * DIAGNOSTICS: none; a failed check carries its reason for the caller to
 * log.
 */
#ifndef POSTHORN_MAILDROP_H
#define POSTHORN_MAILDROP_H

#include <stddef.h>

#define MAILDROP_SECT_ENVELOPE  0
#define MAILDROP_SECT_CONTENT   1
#define MAILDROP_SECT_EXTRA     2
#define MAILDROP_SECT_DONE      3

#define MAILDROP_ENV_MAX        4096    /* one envelope record */
#define MAILDROP_FULL_MAX       1024    /* sender full name */
#define MAILDROP_ENVID_MAX      100     /* RFC 3461 ENVID */
#define MAILDROP_CONTENT_MIN    (64 * 1024)     /* content record bound, at least */

typedef struct MAILDROP_CHECK {
    int     section;            /* MAILDROP_SECT_* */
    int     queue_file;         /* the queue file grammar (postsuper -r) */
    int     have_size;          /* queue file: SIZE seen */
    int     have_time;
    int     have_full;
    int     have_from;
    int     have_envid;
    int     have_ret;
    int     dsn_late;           /* ENVID/RET came after the sender: no RCPT now */
    int     pending;            /* DSN_ORCPT/DSN_NOTIFY/ORCP waiting for RCPT (or DONE) */
    long    rcpt_count;         /* RCPT records (DONE ones not counted) */
    size_t  content_max;        /* bound for one content record */
    long    records;
    const char *why;            /* reason of the last -1 */
} MAILDROP_CHECK;

/* line_limit: $line_length_limit (content pieces are at most this). */
void    maildrop_check_init(MAILDROP_CHECK *c, long line_limit);
/* A requeued queue file (content records up to REC_MAX_DEFAULT). */
void    maildrop_check_init_queue(MAILDROP_CHECK *c);
size_t  maildrop_record_max(const MAILDROP_CHECK *c);
int     maildrop_check(MAILDROP_CHECK *c, int type, const char *data, size_t len);
int     maildrop_check_end(MAILDROP_CHECK *c);

/* Is text (len bytes) free of NUL and control characters? */
int     maildrop_text_ok(const char *data, size_t len);

#endif
