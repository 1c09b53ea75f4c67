/*
 * bounce.h - private interface of the bounce daemon (services bounce,
 * defer and trace; mail_proto.h has the request protocol).
 *
 * bounce.c          main(): single_server_main(bounce_service); the
 *                   parameters, read once in post_init (var_* below)
 * bounce_service.c  one request: check it, pick the notices, reply
 * bounce_log.c      read a per-message log (bounce/ID ...) into BOUNCE_LOG
 * bounce_notify.c   compose an RFC 3464 delivery status notification
 *                   (non-delivery, or a delay warning)
 * bounce_post.c     the cleanup client that queues a notice
 *
 * The composition (bounce_notify_write) needs no socket: unit tests
 * drive it with a record stream on a temporary file.
 *
 * DIAGNOSTICS: fatal only at start (bad parameter values, server.c); at
 * run time everything is a warning with the queue id, and a request that
 * cannot be completed answers failure so the caller keeps the log and
 * tries again.
 */
#ifndef POSTHORN_BOUNCE_H
#define POSTHORN_BOUNCE_H

#include <time.h>
#include "stream.h"
#include "vstring.h"

/* ---- per-message logs (bounce_log.c) ------------------------------------ */

#define BOUNCE_LOG_LINE_MAX  (64 * 1024)    /* one "name=value" line */
#define BOUNCE_LOG_RCPT_MAX  100000         /* entries read from one log */

typedef struct BOUNCE_RCPT {
    char   *recipient;
    char   *orig_rcpt;          /* "" when none */
    char   *dsn_orcpt;          /* "rfc822;addr" as given with ORCPT=, or "" */
    int     notify;             /* DSN_NOTIFY_* bits, 0 = not given */
    char   *status;             /* "5.1.1" */
    char   *action;             /* failed, delayed, delivered ... */
    char   *reason;             /* text */
} BOUNCE_RCPT;

typedef struct BOUNCE_LOG {
    BOUNCE_RCPT *rcpt;
    int     count;
    int     cap;
} BOUNCE_LOG;

/* Read queue/id (a log directory: bounce, defer, trace). NULL with errno
 * when it cannot be opened; a damaged entry is skipped with a warning. */
BOUNCE_LOG *bounce_log_read(const char *queue, const char *id);
/* Parse log text from a stream (the part bounce_log_read does after open). */
BOUNCE_LOG *bounce_log_parse(STREAM *fp, const char *id);
/* Keep only the entries for which keep() is true. */
void    bounce_log_filter(BOUNCE_LOG *log, int (*keep)(const BOUNCE_RCPT *));
void    bounce_log_free(BOUNCE_LOG *log);

/* ---- the original message ----------------------------------------------- */

typedef struct BOUNCE_ORIG {
    const char *queue_name;
    const char *queue_id;
    const char *sender;
    const char *encoding;       /* "8bitmime", "7bit" or "" */
    const char *dsn_envid;
    int     dsn_ret;            /* DSN_RET_FULL, DSN_RET_HDRS, 0 = not given */
    STREAM *fp;                 /* queue file, read-only */
    long    data_offset;        /* first content record */
    time_t  arrival;            /* TIME record */
} BOUNCE_ORIG;

/* Open and check queue_name/queue_id (SIZE and TIME records); 0 or -1. */
int     bounce_orig_open(BOUNCE_ORIG *orig);
void    bounce_orig_close(BOUNCE_ORIG *orig);

/* ---- notices (bounce_notify.c) ------------------------------------------ */

#define BOUNCE_NOTICE_SENDER     0  /* to the sender: "Undelivered Mail ..." */
#define BOUNCE_NOTICE_POSTMASTER 1  /* postmaster copy or double bounce */
#define BOUNCE_NOTICE_DELAY      2  /* to the sender: "Delayed Mail (still being retried)" */
#define BOUNCE_NOTICE_DELAY_PM   3  /* postmaster copy of a delay notice */
#define BOUNCE_NOTICE_TRACE      4  /* to the sender: "Mail Delivery Status Report" (-bv) */

typedef struct BOUNCE_NOTICE {
    int     kind;               /* BOUNCE_NOTICE_* */
    const char *recipient;      /* To: */
    const char *new_id;         /* queue id of the notice (Received:) */
    int     ret;                /* what to return: DSN_RET_FULL or DSN_RET_HDRS */
    time_t  now;
    const char *myhostname;
    const char *mail_name;
    long    size_limit;         /* bounce_size_limit: returned content bytes */
    /* delay notices only (zero otherwise) */
    long    warn_after;         /* delay_warning_time, seconds */
    long    retry_for;          /* maximal_queue_lifetime, seconds */
    int     smtputf8;           /* smtputf8_enable: the text part is utf-8, 8bit */
} BOUNCE_NOTICE;

/* Line sink: one content line (no newline). 0 or -1. */
typedef int (*BOUNCE_LINE_FN)(const char *line, size_t len, void *ctx);

/* Which log entries a notice reports (NOTIFY allows a failure report). */
int     bounce_rcpt_wanted(const BOUNCE_RCPT *rcpt);
/* Which defer log entries a delay notice reports (no NOTIFY, or DELAY). */
int     bounce_rcpt_delay_wanted(const BOUNCE_RCPT *rcpt);
/* Write the whole notice (headers and the three MIME parts) as lines,
 * reporting every entry of log. 0 or -1 (sink or queue file). */
int     bounce_notify_write(const BOUNCE_NOTICE *notice, BOUNCE_ORIG *orig,
                            const BOUNCE_LOG *log, BOUNCE_LINE_FN fn, void *ctx);

/* ---- queueing a notice (bounce_post.c) ---------------------------------- */

typedef struct BOUNCE_POST BOUNCE_POST;

/* Connect to public/cleanup, send the envelope (sender may be "").
 * NULL when cleanup cannot be reached. The queue id is in post_id(). */
BOUNCE_POST *bounce_post_open(const char *sender, const char *recipient);
const char *bounce_post_id(const BOUNCE_POST *post);
/* The BOUNCE_LINE_FN that writes content lines to cleanup. */
int     bounce_post_line(const char *line, size_t len, void *ctx);
/* Finish the message and read cleanup's verdict; 0 = queued. Frees post. */
int     bounce_post_close(BOUNCE_POST *post);
/* Drop an unfinished message (cleanup removes its file). Frees post. */
void    bounce_post_abort(BOUNCE_POST *post);

/* ---- parameters (bounce.c), read once at start from the one table ------- */

extern const char *var_myhostname;          /* myhostname */
extern const char *var_mail_name;           /* mail_name */
extern long var_bounce_limit;               /* bounce_size_limit */
extern int var_smtputf8_enable;             /* smtputf8_enable */
extern long var_delay_warn_time;            /* delay_warning_time */
extern long var_max_queue_time;             /* maximal_queue_lifetime */
extern const char *var_double_bounce_sender;    /* double_bounce_sender */
extern const char *var_2bounce_rcpt;        /* 2bounce_notice_recipient */
extern const char *var_bounce_rcpt;         /* bounce_notice_recipient */
extern const char *var_delay_rcpt;          /* delay_notice_recipient */
extern const char *var_notify_classes;      /* notify_classes */
extern long var_ipc_timeout;                /* ipc_timeout */

void    bounce_params_init(void);

/* ---- the service (bounce_service.c) ------------------------------------- */

int     bounce_greet(STREAM *client);
void    bounce_service(STREAM *client);

#endif
