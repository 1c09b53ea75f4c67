/*
 * qmgr.h - the queue manager's private interface.
 *
 * Objects:
 *   QMGR_MESSAGE   one queue file in active/: envelope, recipients, and
 *                  how many delivery entries are still outstanding.
 *   QMGR_TRANSPORT one delivery transport ("local", "smtp"): limits,
 *                  how many requests are in flight, dead (unreachable) state.
 *   QMGR_QUEUE     one destination of a transport (nexthop, or recipient
 *                  when the recipient limit is 1): FIFO of waiting entries.
 *   QMGR_ENTRY     one delivery request: a message, a queue, up to
 *                  <transport>_destination_recipient_limit recipients.
 *
 * Flow: qmgr_scan_* move ready files incoming|deferred -> active and
 * call qmgr_message_read(); qmgr_message_group() resolves recipients and
 * files them as entries in queues; qmgr_sched_run() starts deliveries
 * within the limits; qmgr_deliver_*() talk to private/<transport>;
 * qmgr_entry_done() records results; when a message has no entries left
 * qmgr_message_finish() removes it, defers it with backoff, or expires it.
 *
 * SECURITY: queue files are written by cleanup (same uid) and are still
 * parsed with bounded record sizes; delivery agent replies are untrusted
 * (bounded by attr.h, statuses checked).
 */
#ifndef POSTHORN_QMGR_H
#define POSTHORN_QMGR_H

#include <time.h>
#include "argv.h"
#include "stream.h"
#include "vstring.h"

/* ---- parameters (qmgr_param.c) ---------------------------------------- */

/* Read once at start (qmgr_params_init); qmgr restarts on reload. */
extern long var_min_backoff;            /* minimal_backoff_time */
extern long var_max_backoff;            /* maximal_backoff_time */
extern long var_max_queue_time;         /* maximal_queue_lifetime */
extern long var_dsn_queue_time;         /* bounce_queue_lifetime (null sender) */
extern long var_queue_run_delay;        /* queue_run_delay */
extern long var_transport_retry_time;   /* transport_retry_time */
extern long var_ipc_timeout;            /* ipc_timeout */
extern long var_qmgr_active_limit;      /* qmgr_message_active_limit */
extern long var_proc_limit;             /* default_process_limit */
extern const char *var_def_filter_nexthop;  /* default_filter_nexthop */
extern const char *var_myhostname;      /* myhostname */

void    qmgr_params_init(void);
/* <transport>_destination_{recipient,concurrency}_limit, else default_. */
int     qmgr_transport_rcpt_limit(const char *transport);
int     qmgr_transport_dest_limit(const char *transport);
/* Seconds until the next attempt of a message that arrived at arrival. */
long    qmgr_backoff(time_t now, time_t arrival, long min_backoff, long max_backoff);

/* ---- messages (qmgr_message.c) ---------------------------------------- */

#define QMGR_RCPT_TODO    0     /* not yet attempted in this round */
#define QMGR_RCPT_BUSY    1     /* in a delivery entry */
#define QMGR_RCPT_SENT    2     /* delivered: marked DONE */
#define QMGR_RCPT_BOUNCED 3     /* bounced: logged, marked DONE */
#define QMGR_RCPT_DEFER   4     /* deferred this round */

typedef struct QMGR_RCPT {
    char   *address;
    char   *orig_rcpt;
    char   *dsn_orcpt;
    int     dsn_notify;
    long    offset;             /* of its RCPT record */
    int     state;              /* QMGR_RCPT_* */
    char    dsn[16];            /* last status, "4.3.0" */
    char   *reason;             /* last reason */
} QMGR_RCPT;

typedef struct QMGR_MESSAGE {
    char   *queue_id;
    char   *sender;
    char   *encoding;
    char   *dsn_envid;
    int     dsn_ret;
    char   *client_name;
    char   *client_addr;
    char   *filter;             /* content filter "transport:nexthop", or NULL */
    long    size;               /* content size (SIZE record) */
    long    data_offset;        /* first content record */
    long    nrcpt;              /* recipient count for the log */
    double  arrival_time;       /* TIME record */
    double  active_time;        /* when it entered active/ */
    int     trace_flags;        /* DELIVER_TRACE_VERIFY: ATTR trace_flags=verify */
    QMGR_RCPT *rcpt;
    int     rcpt_count;
    int     rcpt_cap;
    int     refcount;           /* entries not finished yet */
    int     marked;             /* DONE marks written since the last fsync */
    struct QMGR_MESSAGE *next;  /* list of active messages */
    struct QMGR_MESSAGE *prev;
} QMGR_MESSAGE;

/* Read queue/<id>. NULL on a corrupt file (reason in *why, static text),
 * or NULL with *why NULL when it cannot be opened (errno; ENOENT: gone). */
QMGR_MESSAGE *qmgr_message_read(const char *queue, const char *id, const char **why);
void    qmgr_message_free(QMGR_MESSAGE *msg);
/* Overwrite the type byte of each listed RCPT record with DONE, then fsync. */
int     qmgr_message_mark_done(const char *queue, const char *id,
                               const long *offsets, int count);
/* All entries of msg finished: remove, defer (backoff) or expire it. */
void    qmgr_message_finish(QMGR_MESSAGE *msg);

/* ---- delay warnings (qmgr_warn.c) ---------------------------------------- */

/* msg is about to be deferred: send the sender's delay warning when the
 * WARN record's time has passed (once; see qmgr_warn.c). */
void    qmgr_warn_check(QMGR_MESSAGE *msg, time_t now);

/* ---- per-message logs and to= lines (qmgr_log.c) ---------------------- */

/* Append one entry to defer/<id> or bounce/<id> (fsynced). 0 or -1. */
int     qmgr_log_append(const char *queue, const QMGR_MESSAGE *msg,
                        const QMGR_RCPT *rcpt, const char *action);
/* "ID: to=<..>, relay=none, delay=.., delays=.., dsn=.., status=S (reason)" */
void    qmgr_log_status(const QMGR_MESSAGE *msg, const QMGR_RCPT *rcpt,
                        const char *status);
/* Hand bounce/<id> to the bounce service: 0 when the notice is queued
 * (or none was due) and the queue file may go, -1 to keep it and retry.
 * Calls qmgr_bounce_flush_fn, set by qmgr_bounce.c in the daemon (unset
 * in unit tests: the log just stays). */
int     qmgr_bounce_flush(const QMGR_MESSAGE *msg);
extern int (*qmgr_bounce_flush_fn)(const QMGR_MESSAGE *msg);
/* The same for trace/<id> (address verification, sendmail -bv): the trace
 * service mails the "Mail Delivery Status Report". */
int     qmgr_trace_flush(const QMGR_MESSAGE *msg);
extern int (*qmgr_trace_flush_fn)(const QMGR_MESSAGE *msg);

/* ---- transports, queues, entries (qmgr_queue.c) ----------------------- */

#define QMGR_QUEUE_HASH 1024

typedef struct QMGR_ENTRY QMGR_ENTRY;
typedef struct QMGR_QUEUE QMGR_QUEUE;

typedef struct QMGR_TRANSPORT {
    char   *name;
    int     rcpt_limit;
    int     dest_limit;
    int     proc_limit;
    int     init_window;        /* <transport>_initial_destination_concurrency */
    double  pos_feedback;       /* ..._concurrency_positive_feedback value */
    int     pos_per_window;     /* "N/concurrency": divide by the window */
    double  neg_feedback;       /* ..._concurrency_negative_feedback */
    int     neg_per_window;
    double  cohort_limit;       /* ..._concurrency_failed_cohort_limit, 0 = off */
    int     active;             /* requests in flight */
    time_t  dead_until;         /* 0 = alive */
    char   *dead_reason;
    QMGR_QUEUE *queues;         /* every queue of this transport, oldest first */
    QMGR_QUEUE *queues_tail;
    QMGR_QUEUE **hash;          /* QMGR_QUEUE_HASH buckets by key */
    QMGR_QUEUE *rr_next;        /* round-robin position */
    struct QMGR_TRANSPORT *next;
} QMGR_TRANSPORT;

struct QMGR_QUEUE {
    char   *key;                /* grouping key (lowercased) */
    char   *nexthop;            /* as resolved */
    QMGR_TRANSPORT *transport;
    int     active;
    int     window;             /* concurrency window; 0 = dead */
    double  success;            /* positive feedback not yet applied */
    double  failure;            /* negative feedback not yet applied (<= 0) */
    double  fail_cohorts;       /* failed pseudo-cohorts in a row */
    time_t  dead_until;         /* window 0: retry after this time */
    char    dead_dsn[16];       /* window 0: the failure that killed it */
    char   *dead_reason;
    QMGR_ENTRY *todo_head;
    QMGR_ENTRY *todo_tail;
    int     todo_count;
    unsigned long fill_gen;     /* grouping round that fill_entry belongs to */
    QMGR_ENTRY *fill_entry;     /* entry being filled in that round */
    QMGR_QUEUE *next;
    QMGR_QUEUE *hnext;          /* hash chain */
};

struct QMGR_ENTRY {
    QMGR_MESSAGE *message;
    QMGR_QUEUE *queue;
    int    *rcpt_index;         /* indexes into message->rcpt */
    int     rcpt_count;
    int     rcpt_cap;
    STREAM *agent;              /* while in flight */
    int     inflight;           /* counted in queue/transport active */
    QMGR_ENTRY *next;
};

/* Resolver used for grouping (resolve_clnt by default; tests replace it).
 * Fills transport/nexthop/recipient and flags; returns 0 or -1. */
typedef int (*QMGR_RESOLVE_FN)(const char *sender, const char *addr,
                               VSTRING *transport, VSTRING *nexthop,
                               VSTRING *recipient, int *flags);
extern QMGR_RESOLVE_FN qmgr_resolve_fn;

QMGR_TRANSPORT *qmgr_transport_find(const char *name, int create);
QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *tr, const char *key,
                            const char *nexthop, int create);
extern QMGR_TRANSPORT *qmgr_transport_list;
/* Resolve and group the TODO recipients of msg into queued entries;
 * recipients bounced or deferred at once get no entry (when none got
 * one, msg->refcount stays 0 and the caller finishes the message). */
void    qmgr_message_group(QMGR_MESSAGE *msg);
/* Free queues of a transport that hold nothing. */
void    qmgr_queue_gc(void);
/* Defer every recipient of an entry with dsn/reason (qmgr's own verdict). */
void    qmgr_entry_defer(QMGR_ENTRY *entry, const char *dsn, const char *reason);
/* Take the entry out of accounting, free it, finish the message if last. */
void    qmgr_entry_done(QMGR_ENTRY *entry);
/* Pop the first waiting entry of a queue (NULL if none). */
QMGR_ENTRY *qmgr_queue_pop(QMGR_QUEUE *q);

/* ---- active message list and feeding (qmgr_scan.c) -------------------- */

extern QMGR_MESSAGE *qmgr_message_list;
extern int qmgr_message_count;

#define QMGR_SCAN_INCOMING  (1 << 0)
#define QMGR_SCAN_DEFERRED  (1 << 1)
#define QMGR_SCAN_ALL       (1 << 2)    /* deferred: ignore next-retry time */

void    qmgr_recover(void);                 /* active/ -> incoming/ */
void    qmgr_scan_request(int flags);       /* schedule a scan */
/* Move up to max ready files into active/ and group them; returns count. */
int     qmgr_scan_feed(int max);
int     qmgr_scan_pending(void);

/* ---- scheduler (qmgr_sched.c) ----------------------------------------- */

/* Arrange for feed + scheduling on the next event loop round. */
void    qmgr_kick(void);
void    qmgr_sched_run(void);
/* Forget dead transports and destinations ('F'). */
void    qmgr_sched_flush_dead(void);

/*
 * Per-destination concurrency (Postfix 2.5 scheduler): a queue starts with
 * a window of <transport>_initial_destination_concurrency (at most the
 * destination concurrency limit). qmgr_queue_feedback() applies one
 * finished delivery: positive feedback grows the window up to the limit,
 * negative feedback (a connection or handshake failure, dsn/reason tell
 * which) shrinks it, never below 1; after <transport>_destination_
 * concurrency_failed_cohort_limit failed pseudo-cohorts (a pseudo-cohort
 * = window deliveries) the destination is dead for minimal_backoff_time:
 * window 0, its waiting entries and new recipients are deferred with
 * "delivery temporarily suspended: <reason>".
 */
#define QMGR_FEEDBACK_NONE  0   /* no verdict (transport trouble) */
#define QMGR_FEEDBACK_OK    1
#define QMGR_FEEDBACK_FAIL  2   /* connection or handshake failure */
/* Read the transport's window parameters (qmgr_param.c; qmgr_transport_find calls it). */
void    qmgr_transport_init_feedback(QMGR_TRANSPORT *tr);
void    qmgr_queue_init_window(QMGR_QUEUE *q);
void    qmgr_queue_feedback(QMGR_QUEUE *q, int verdict, const char *dsn,
                            const char *reason, time_t now);
/* Is q dead at now? (a dead period that has passed revives it) */
int     qmgr_queue_dead(QMGR_QUEUE *q, time_t now);
/* Defer every recipient of entry for a dead queue, and finish it. */
void    qmgr_queue_defer_dead(QMGR_ENTRY *entry);
/* What a finished entry tells about its destination (QMGR_FEEDBACK_*). */
int     qmgr_entry_verdict(const QMGR_ENTRY *entry, const char **dsn,
                           const char **reason);
void    qmgr_sched_timers_init(void);

/* ---- delivery (qmgr_deliver.c) ---------------------------------------- */

/* Start the request: 0 = in flight, -1 = finished at once (deferred). */
int     qmgr_deliver_start(QMGR_ENTRY *entry);
/* Apply one agent result to a recipient (status DELIVER_*). */
void    qmgr_rcpt_result(QMGR_MESSAGE *msg, int index, int status,
                         const char *dsn, const char *reason);

#endif
