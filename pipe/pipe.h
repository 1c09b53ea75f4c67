/*
 * pipe.h - the pipe(8) delivery agent: hands a message to a command
 * named in master.cf, as Postfix's pipe does:
 *
 *   name unix - n n - - pipe flags=DRhu user=vmail argv=/path ${recipient}
 *
 * The parts:
 *   pipe.c          main(), the parameters, one delivery request: checks,
 *                   the command's verdict for every recipient, log lines
 *   pipe_attr.c     the master.cf attributes (flags=, user=, size=, eol=,
 *                   null_sender=, directory=, argv=; argv= comes last;
 *                   user=, argv= and the time limit and environment
 *                   through lib/global/command_attr.c, shared with spawn)
 *   pipe_expand.c   the ${name} macros of argv= (per-recipient arguments
 *                   repeated for each recipient) and the flags h, q, u
 *   pipe_command.c  the command: a child with the user's ids and groups,
 *                   the message on its standard input (flags F R O D . > B
 *                   and eol=), its output kept for the reason, the time
 *                   limit, the exit status through sysexits
 *
 * SECURITY: the command never runs as root, nor as mail_owner, nor with
 * group id 0 (pipe_attr.c refuses them, fatal as in Postfix). Message
 * data reaches the command only as separate argv elements (no shell) and
 * on its standard input; the environment holds only $export_environment.
 *
 * DIAGNOSTICS: fatal at start for a bad master.cf attribute (no argv=,
 * user= root or mail_owner, unknown flag), as Postfix; per message only
 * deferrals and bounces with Postfix's texts.
 */
#ifndef POSTHORN_PIPE_H
#define POSTHORN_PIPE_H

#include <sys/types.h>

#include "argv.h"
#include "deliver.h"
#include "vstring.h"

/* flags= letters */
#define PIPE_FLAG_FROM       (1 << 0)   /* F: "From sender date" line */
#define PIPE_FLAG_ORIG_RCPT  (1 << 1)   /* O: X-Original-To: */
#define PIPE_FLAG_RETURN     (1 << 2)   /* R: Return-Path: */
#define PIPE_FLAG_DELIVERED  (1 << 3)   /* D: Delivered-To: */
#define PIPE_FLAG_FINAL      (1 << 4)   /* X: final delivery (DSN) */
#define PIPE_FLAG_FOLD_HOST  (1 << 5)   /* h: lowercase domains */
#define PIPE_FLAG_QUOTE      (1 << 6)   /* q: quote localparts (RFC 822) */
#define PIPE_FLAG_FOLD_USER  (1 << 7)   /* u: lowercase localparts */
#define PIPE_FLAG_DOT        (1 << 8)   /* .: dot-stuff lines */
#define PIPE_FLAG_QUOTE_FROM (1 << 9)   /* >: quote "From " lines */
#define PIPE_FLAG_BLANK      (1 << 10)  /* B: blank line at the end */

typedef struct PIPE_ATTR {
    int     flags;
    char   *user;               /* user= as written */
    uid_t   uid;
    gid_t   gid;
    char   *user_name;          /* for initgroups */
    long    size_limit;         /* size=, 0: none */
    char   *eol;                /* eol= with \r \n \t \\ decoded */
    char   *null_sender;        /* null_sender=, default MAILER-DAEMON */
    char   *directory;          /* directory=, NULL: stay in the queue directory */
    ARGV   *argv;               /* argv= and everything after it */
} PIPE_ATTR;

/* pipe_attr.c: parse the master.cf arguments; 0, or -1 with why (fatal
 * for the caller). owner_uid is mail_owner's. */
int     pipe_attr_parse(ARGV *args, uid_t owner_uid, PIPE_ATTR *attr, VSTRING *why);
void    pipe_attr_free(PIPE_ATTR *attr);
/* The flags= letters; -1 with why for an unknown one. */
int     pipe_flags_parse(const char *letters, int *flags, VSTRING *why);

/* pipe_expand.c */
typedef struct PIPE_EXPAND {
    const DELIVER_REQUEST *req;
    const int *rcpts;           /* indexes into req->rcpt */
    int     rcpt_count;
    int     flags;
    const char *null_sender;
    const char *delimiters;     /* recipient_delimiter */
} PIPE_EXPAND;

/* The command's arguments, every macro expanded; an argument with a
 * per-recipient macro is repeated for each recipient. */
ARGV   *pipe_expand_argv(const ARGV *templ, const PIPE_EXPAND *x);
/* One macro's value for recipient r (-1: none); NULL when unknown. */
char   *pipe_macro_value(const PIPE_EXPAND *x, const char *name, int r);

/* pipe_command.c */
typedef struct PIPE_RUN {
    const PIPE_ATTR *attr;
    ARGV   *argv;               /* expanded */
    ARGV   *env;
    long    time_limit;
    const DELIVER_REQUEST *req;
    const char *orig_rcpt;      /* for O (single recipient) */
    const char *delivered;      /* for D (single recipient) */
} PIPE_RUN;

/* Run the command and feed it the message: DELIVER_SENT, _DEFER or
 * _BOUNCE with dsn and why set. */
int     pipe_command_run(const PIPE_RUN *run, VSTRING *dsn, VSTRING *why);

#endif
