/*
 * showq.h - the showq service's private interface.
 *
 * showq lists the mail queue for postqueue(1) -p/-j and for queue
 * monitors (postfix_exporter and the like). It speaks Postfix's showq
 * protocol in the attr0 form (attr.h): a greeting list
 * {protocol=mail_queue_list_protocol}, then one list per message:
 *
 *   queue_name, queue_id, time, size, forced_expire, sender,
 *   then per recipient still to deliver: recipient, reason
 *
 * each message ended by an empty name, and the whole listing ended by an
 * empty list (a lone empty name). The client sends nothing.
 *
 * Messages are read from maildrop (finished submissions only), active,
 * incoming, deferred and hold, in that order; delay reasons come from
 * the defer/ID logs that qmgr writes (qmgr_log.c).
 *
 * DIAGNOSTICS: nothing fatal at run time: a queue directory or file that
 * cannot be read, or a malformed queue file, is a warning and is skipped.
 */
#ifndef POSTHORN_SHOWQ_H
#define POSTHORN_SHOWQ_H

#include "argv.h"
#include "stream.h"
#include "vstring.h"

#define SHOWQ_PROTOCOL  "mail_queue_list_protocol"

/* Bounds for what showq reads: one record, one defer log. */
#define SHOWQ_RECORD_MAX   REC_MAX_DEFAULT
#define SHOWQ_LOG_MAX      (16 * 1024 * 1024)
#define SHOWQ_LOG_LINE_MAX (64 * 1024)

/* The envelope of one queue file, as listed. */
typedef struct SHOWQ_MSG {
    long    size;               /* content bytes */
    long    arrival;            /* seconds since the epoch */
    int     have_from;
    VSTRING *sender;            /* "" = null sender */
    ARGV   *rcpts;              /* recipients not yet delivered */
} SHOWQ_MSG;

/* showq_read.c */
void    showq_msg_init(SHOWQ_MSG *m);
void    showq_msg_free(SHOWQ_MSG *m);
/* Read queue/id; 0 = listed, < 0 = skip it (gone, unfinished, corrupt; -2:
 * emptied for recycling while read, no warning). */
int     showq_msg_read(const char *queue, const char *id, SHOWQ_MSG *m);
/* Load defer/<id>: recipients and reasons as parallel lists. */
void    showq_defer_read(const char *id, ARGV *rcpts, ARGV *reasons);

/* showq_list.c */
void    showq_list(STREAM *client);
/* attr0 output: one "name\0value\0" pair, control characters as '?'. */
void    showq_put(STREAM *client, const char *name, const char *value);

#endif
