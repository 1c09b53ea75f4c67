/*
 * mastercf.h - master.cf parsing.
 *
 * One entry per service: "service type private unpriv chroot wakeup
 * maxproc command args...". '-' means the default (private y, unpriv y,
 * chroot n (y below compatibility_level 1, as Postfix), wakeup 0,
 * maxproc $default_process_limit). Lines starting
 * with white space continue the previous entry; '#' lines are comments.
 * Arguments are kept verbatim (the "-o name=value" pairs included),
 * except that "{ text with spaces }" is one argument with the braces and
 * surrounding space removed, as in Postfix 3.0+.
 *
 * Errors read "<file>: line <n>: <problem>". A service/type that appears
 * twice is an error.
 *
 * Service names: for inet, "port", "host:port", "[addr]:port" (port may
 * be a name from /etc/services); for unix/unix-dgram/fifo/pass a name
 * relative to $queue_directory/{private,public}.
 *
 * DIAGNOSTICS: a bad default_process_limit is fatal (with its name and
 * value); a master.cf syntax error is returned as a message with the file
 * and line, for the caller to report.
 */
#ifndef POSTHORN_MASTERCF_H
#define POSTHORN_MASTERCF_H

#include "argv.h"

typedef enum {
    MASTER_INET, MASTER_UNIX, MASTER_UNIX_DGRAM, MASTER_FIFO, MASTER_PASS
} MASTER_TYPE;

typedef struct MASTER_ENT {
    char   *service;            /* as written: "smtp", "127.0.0.1:10025", "cleanup" */
    MASTER_TYPE type;
    char   *type_name;          /* "inet", "unix", ... */
    int     private_;           /* 1: private/ directory, 0: public/ */
    int     unpriv;             /* 1: run as mail_owner */
    int     chroot;             /* 1: chroot to queue_directory */
    int     wakeup;             /* seconds, 0 = none */
    int     wakeup_conditional; /* "?" suffix: only after first use */
    int     maxproc;            /* 0 = unlimited */
    char   *command;            /* "smtpd", "local" */
    ARGV   *args;               /* everything after command */
    int     line;               /* line number in master.cf */
    char   *fields[5];          /* private..maxproc as written ("-", "60?") */
} MASTER_ENT;

typedef struct MASTER_TABLE {
    MASTER_ENT **ents;
    int     count;
} MASTER_TABLE;

/* Parse path; on error returns NULL and fills err (allocated message). */
MASTER_TABLE *mastercf_load(const char *path, char **err);
MASTER_TABLE *mastercf_parse_text(const char *text, const char *origin, char **err);
void    mastercf_free(MASTER_TABLE *tab);
/* Find "service/type", e.g. ("smtp", "inet"); type NULL matches any. */
MASTER_ENT *mastercf_find(MASTER_TABLE *tab, const char *service, const char *type);

#endif
