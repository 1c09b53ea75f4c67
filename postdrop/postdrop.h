/*
 * postdrop.h - private interface of the postdrop command.
 *
 * postdrop.c        main(): options, configuration, the copy, the trigger
 * postdrop_env.c    authorized users, fatal exits (the set-gid hygiene
 *                   itself: lib/setgid_env.h)
 * postdrop_copy.c   reading the message from stdin into a maildrop file
 * postdrop_params.c the parameters (one table, read once)
 *
 * DIAGNOSTICS: fatal for usage, configuration directory, user and input
 * problems (with the uid); a file that cannot be created or written is a
 * warning and postdrop exits with failure, leaving no file behind.
 */
#ifndef POSTHORN_POSTDROP_H
#define POSTHORN_POSTDROP_H

#include <sys/types.h>
#include "stream.h"
#include "vstring.h"

/* sysexits.h values, as Postfix's commands use them */
#define POSTDROP_EX_OK        0
#define POSTDROP_EX_USAGE     64
#define POSTDROP_EX_DATAERR   65
#define POSTDROP_EX_TOOBIG    69     /* EX_UNAVAILABLE: message_size_limit */
#define POSTDROP_EX_NOPERM    77
#define POSTDROP_EX_SOFTWARE  70
#define POSTDROP_EX_TEMPFAIL  75

/* A complete maildrop file: readable by pickup, not writable; the owner
 * execute bit marks it complete, as Postfix's postdrop does. */
#define POSTDROP_MODE_READY   0744

/* postdrop_params.c: the parameters, read once after main.cf. */
extern const char *var_queue_dir;
extern const char *var_pickup_service;
extern const char *var_submit_acl;
extern long var_message_limit;
extern long var_line_limit;
void    postdrop_params_init(void);

/* postdrop_env.c */
void    postdrop_check_user(uid_t uid, const char *program);

/* postdrop_copy.c: copy and check records from in to out; 0, or -1 with
 * *why set (malformed input), or -2 (write error, errno). */
int     postdrop_copy(STREAM *in, STREAM *out, long line_limit, const char **why);
/* Create the maildrop file, copy, publish; returns the exit status. */
int     postdrop_enqueue(STREAM *in, VSTRING *id);

#endif
