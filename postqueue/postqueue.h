/*
 * postqueue.h - postqueue(1)'s private interface.
 *
 * DIAGNOSTICS: all fatal errors exit 69 (EX_UNAVAILABLE) through
 * postqueue_fatal(): usage, configuration directory, user not authorized,
 * showq or qmgr unreachable, a bad queue id or destination. A showq that
 * is down is a warning and the queue is read directly.
 */
#ifndef POSTHORN_POSTQUEUE_H
#define POSTHORN_POSTQUEUE_H

#include "stream.h"

/* Exit status of every fatal error, as Postfix's postqueue (EX_UNAVAILABLE). */
#define POSTQUEUE_EX_FATAL   69

#define POSTQUEUE_USAGE \
    "usage: postqueue -f | postqueue -i queueid | postqueue -j | postqueue -p | postqueue -s site"

/* Bounds on what showq sends (one attribute name / value). */
#define POSTQUEUE_NAME_MAX   100
#define POSTQUEUE_VALUE_MAX  (64 * 1024)

#define POSTQUEUE_FMT_TEXT   0      /* -p */
#define POSTQUEUE_FMT_JSON   1      /* -j */

/* postqueue_params.c: the parameters, read once after main.cf. */
extern const char *var_queue_dir;
extern const char *var_daemon_dir;
extern const char *var_mail_owner;
extern const char *var_flush_acl;
extern const char *var_showq_acl;
extern long var_ipc_timeout;
void    postqueue_params_init(void);

/* postqueue_env.c */
void    postqueue_check_config_dir(const char *dir);
/* flush: authorized_flush_users, else authorized_mailq_users. */
void    postqueue_check_user(int flush);
void    postqueue_fatal(const char *fmt, ...)
            __attribute__((format(printf, 1, 2), noreturn));

/* postqueue_list.c */
/* Format the listing showq sends on in as text or JSON on out. Returns
 * 0, or -1 when the stream broke or violated the protocol. */
int     postqueue_format(STREAM *in, STREAM *out, int format);
/* Connect to showq (or, for root when it is down, run it) and list. */
void    postqueue_list(int format, const char *config_dir);

/* postqueue_flush.c */
void    postqueue_flush(void);
void    postqueue_flush_id(const char *id);
void    postqueue_flush_site(const char *site);

#endif
