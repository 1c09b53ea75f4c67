/*
 * postsuper.h - postsuper(1)'s private interface.
 *
 * DIAGNOSTICS: fatal only for usage, permission and configuration problems
 * (postsuper.c); every per-file problem is a warning and the file is left
 * as it was.
 */
#ifndef POSTHORN_POSTSUPER_H
#define POSTHORN_POSTSUPER_H

#include "argv.h"

#define POSTSUPER_USAGE \
    "usage: postsuper [-c config_dir] [-d queue_id (delete)] [-h queue_id (hold)] " \
    "[-H queue_id (un-hold)] [-p (purge temporary files)] [-r queue_id (requeue)] " \
    "[-s (structure fix)] [-S (redundant structure fix)][-v (verbose)] [queue...]"

/* Operations on messages, in the order they are done. */
#define PS_OP_DELETE   0
#define PS_OP_HOLD     1
#define PS_OP_RELEASE  2
#define PS_OP_REQUEUE  3
#define PS_OP_COUNT    4

typedef struct PS_REQUEST {
    ARGV   *ids[PS_OP_COUNT];   /* queue ids, "ALL" or "-" */
    ARGV   *queues;             /* queues named on the command line, or empty */
    int     purge;              /* -p */
    int     structure;          /* -s / -S */
} PS_REQUEST;

/* postsuper.c: the parameters, read once after main.cf is loaded. */
extern const char *var_queue_dir;       /* queue_directory */
extern long var_daemon_timeout;         /* daemon_timeout */

/* postsuper_ops.c */
/* Do one operation on the listed ids; returns how many messages changed. */
long    postsuper_op(int op, ARGV *ids, ARGV *queues);
void    postsuper_summary(int op, long count);

/* postsuper_fix.c */
void    postsuper_purge(void);
void    postsuper_structure(void);

#endif
