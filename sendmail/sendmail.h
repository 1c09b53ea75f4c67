/*
 * sendmail.h - private interface of the sendmail command (also run as
 * mailq and newaliases).
 *
 * sendmail.c          main(): the mode by argv[0] and -b, exec helpers
 * sendmail_opts.c     command line: Sendmail options into SM_STATE
 * sendmail_input.c    the message from stdin: lines into records, the
 *                     header block (-t recipients, Bcc removal)
 * sendmail_post.c     running postdrop and writing the records to it
 * sendmail_params.c   the parameters (one table, read once)
 *
 * DIAGNOSTICS: fatal for usage and option errors, missing recipients, and
 * a postdrop that cannot be run or fails; a malformed recipient address
 * and a bad -N value are warnings and are ignored. See each sendmail_*.c.
 */
#ifndef POSTHORN_SENDMAIL_H
#define POSTHORN_SENDMAIL_H

#include <sys/types.h>
#include "argv.h"
#include "stream.h"
#include "vstring.h"

/* sysexits.h values, as Postfix's sendmail returns them */
#define SM_EX_OK        0
#define SM_EX_USAGE     64
#define SM_EX_DATAERR   65
#define SM_EX_NOUSER    67
#define SM_EX_UNAVAILABLE 69
#define SM_EX_SOFTWARE  70
#define SM_EX_OSERR     71
#define SM_EX_TEMPFAIL  75
#define SM_EX_NOPERM    77
#define SM_EX_EXEC      127     /* private: the postdrop child could not exec */

#define SM_MODE_ENQUEUE   0     /* -bm, the default */
#define SM_MODE_MAILQ     1     /* -bp, mailq */
#define SM_MODE_NEWALIAS  2     /* -bi, -I, newaliases */
#define SM_MODE_SMTP      3     /* -bs */
#define SM_MODE_DAEMON    4     /* -bd, -bD */
#define SM_MODE_FLUSH     5     /* -q */
#define SM_MODE_VERIFY    6     /* -bv: report on the recipients, deliver nothing */

#define SM_RCPT_MAX       10000 /* addresses taken from one header or argument */

typedef struct SM_STATE {
    int     mode;
    const char *config_dir;     /* -c / -C, else MAIL_CONFIG, else NULL */
    char   *sender;             /* -f / -r: internal form; NULL: login name */
    char   *fullname;           /* -F */
    int     extract;            /* -t */
    int     dot_ends;           /* a "." line ends input (no -i / -oi) */
    int     dsn_notify;         /* -N, DSN_NOTIFY_* bits, 0 = unset */
    int     dsn_ret;            /* -R, DSN_RET_*, 0 = unset */
    char   *dsn_envid;          /* -V */
    const char *encoding;       /* -B: "7bit", "8bitmime" or NULL */
    char   *alias_file;         /* -oA */
    const char *flush_site;     /* -qRsite: postqueue -s site */
    const char *flush_id;       /* -qIid: postqueue -i id */
    ARGV   *rcpts;              /* command line recipients, internal form */
    int     verbose;
} SM_STATE;

/* sendmail_params.c: the parameters, read once after main.cf. */
extern const char *var_command_dir;
extern const char *var_daemon_dir;
extern const char *var_alias_db;
extern long var_line_limit;
extern long var_header_limit;
extern long var_message_limit;
void    sendmail_params_init(void);

/* sendmail_opts.c */
void    sendmail_state_init(SM_STATE *sm);
/* Parse options; returns the index of the first recipient argument. */
int     sendmail_parse_args(SM_STATE *sm, int argc, char **argv);
/* "success,delay,failure" / "never" -> bits; -1 when invalid. */
int     sendmail_parse_notify(const char *text);
/* One recipient argument (may be a list) into internal addresses. */
int     sendmail_add_recipients(ARGV *out, const char *arg);
/* -f argument into internal form ("" for "<>"); NULL when invalid. */
char   *sendmail_parse_sender(const char *arg);
/* A log line at a msg.h level (MSG_FATAL without exiting). */
void    sendmail_report(int level, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));

/* sendmail_input.c */
typedef struct SM_PIECE {
    int     type;               /* REC_TYPE_NORM or REC_TYPE_CONT */
    int     header;             /* logical header index, -1: not a header */
    size_t  len;
    char   *data;
} SM_PIECE;

typedef struct SM_HEADERS {
    SM_PIECE *pieces;
    size_t  count, cap;
    int     nheaders;
    size_t  bytes;
    int     ended;              /* input ended inside the header block */
} SM_HEADERS;

typedef struct SM_INPUT {
    STREAM *in;
    VSTRING *buf;
    size_t  line_limit;
    int     dot_ends;
    int     at_line_start;
    int     first_line;
    int     done;               /* EOF or the "." line */
} SM_INPUT;

void    sendmail_input_init(SM_INPUT *inp, STREAM *in, long line_limit, int dot_ends);
/* Next piece of input: REC_TYPE_NORM/CONT with data in inp->buf, or
 * REC_TYPE_EOF at the end (EOF or the "." line). */
int     sendmail_input_piece(SM_INPUT *inp);
/* Read the header block (bounded by header_limit bytes). */
void    sendmail_read_headers(SM_INPUT *inp, SM_HEADERS *hdrs, size_t header_limit);
/* -t: add To/Cc/Bcc (or Resent-To/Cc/Bcc) recipients, drop Bcc headers. */
void    sendmail_extract(SM_HEADERS *hdrs, ARGV *rcpts);
void    sendmail_headers_free(SM_HEADERS *hdrs);

/* sendmail_post.c */
typedef struct SM_POST {
    pid_t   pid;
    STREAM *out;
} SM_POST;

void    sendmail_post_open(SM_POST *post, const SM_STATE *sm);
/* Write envelope, headers, the rest of the input, and the end. */
void    sendmail_post_envelope(SM_POST *post, const SM_STATE *sm, const char *sender,
                               const char *fullname, const ARGV *rcpts);
/* Close the pipe and wait; returns the exit status for sendmail. */
int     sendmail_post_close(SM_POST *post, const char *who);

#endif
