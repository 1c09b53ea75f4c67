/*
 * pickup.h - private interface of the pickup daemon.
 *
 * pickup.c         main(): trigger_server_main on public/pickup
 * pickup_params.c  the parameters, read once at start (var_*)
 * pickup_scan.c    one scan of maildrop/: each complete file in turn
 * pickup_file.c    opening a maildrop file safely and checking it
 *                  completely before anything is sent (either grammar)
 * pickup_copy.c    handing one checked file to cleanup
 * pickup_requeue.c the records of a queue file that postsuper -r moved
 *                  to maildrop/ (sent again, DONE recipients left out)
 *
 * DIAGNOSTICS: fatal only at start (bad parameter values, server.c); at
 * run time a malformed maildrop file is a warning (with the uid) and is
 * moved to corrupt or bounced, and a cleanup failure is a warning and the
 * file is tried again later.
 */
#ifndef POSTHORN_PICKUP_H
#define POSTHORN_PICKUP_H

#include <sys/stat.h>
#include <sys/types.h>

#include "argv.h"
#include "queue.h"
#include "stream.h"
#include "vstring.h"

/* A complete maildrop file (postdrop's final mode, Postfix's: the owner
 * execute bit says "complete"; 0444 is what older posthorn wrote). */
#define PICKUP_MODE_READY  0744
#define PICKUP_MODE_READY_OLD 0444
/* A queue file that postsuper -r moved here (owned by mail_owner). */
#define PICKUP_MODE_REQUEUE QUEUE_MODE_READY

/* What to do with a file after an attempt. */
#define PICKUP_KEEP     0       /* leave it (not ready, or try later) */
#define PICKUP_REMOVE   1       /* delivered to cleanup, or rejected by it */
#define PICKUP_CORRUPT  2       /* malformed: move to corrupt/ */
#define PICKUP_RETRY    3       /* cleanup trouble: stop this scan */

typedef struct PICKUP_FILE {
    char    name[QUEUE_ID_MAX + 1];     /* file name in maildrop/ */
    char    path[QUEUE_ID_MAX + 16];    /* "maildrop/<name>" */
    struct stat st;
    STREAM *src;
    /* Found by pickup_file_check(): */
    char   *sender;
    long    time_sec, time_usec;
    int     have_time;
    const char *why;            /* reason when corrupt */
    /* Requeued queue file (postsuper -r): */
    int     requeue;
    ARGV   *xtra;               /* extracted-section recipient records,
                                 * each "<type byte><data>", for the envelope */
    ARGV   *xtra_pending;       /* their ORCP/DSN records before a RCPT */
} PICKUP_FILE;

/* pickup_params.c */
void    pickup_params_init(void);
extern const char *var_myhostname;      /* myhostname */
extern const char *var_mail_name;       /* mail_name */
extern long var_line_limit;             /* line_length_limit */
extern long var_ipc_timeout;            /* ipc_timeout */
extern const char *var_filter_xport;    /* content_filter (-o content_filter= turns it off) */

/* pickup_file.c */
/* Open maildrop/name; PICKUP_KEEP (skip quietly), PICKUP_CORRUPT, or -1
 * when the file is open in pf->src and ready to be checked. */
void    pickup_file_init(void);     /* pre_init: $mail_owner's uid */
int     pickup_file_open(PICKUP_FILE *pf, const char *name);
/* Read the whole file against the maildrop grammar (the queue file one
 * for a requeued file), then rewind; 0 or -1 (pf->why says why). */
int     pickup_file_check(PICKUP_FILE *pf, long line_limit);
void    pickup_file_close(PICKUP_FILE *pf);

/* pickup_copy.c */
int     pickup_copy(PICKUP_FILE *pf);   /* PICKUP_REMOVE / PICKUP_RETRY / PICKUP_CORRUPT */
/* "Received: by host (Postfix, from userid N)" and "\tid ID; date". */
void    pickup_received(VSTRING *line1, VSTRING *line2, const char *myhostname,
                        const char *mail_name, long uid, const char *queue_id, time_t when);

/* pickup_requeue.c */
/* A checked record of a requeued file's extracted section (recipients). */
void    pickup_requeue_note(PICKUP_FILE *pf, int type, const VSTRING *buf);
int     pickup_requeue_send(PICKUP_FILE *pf, STREAM *c, const char *queue_id);

/* pickup_scan.c */
void    pickup_scan(void);
int     pickup_one(const char *name);   /* one file; PICKUP_* result */

#endif
