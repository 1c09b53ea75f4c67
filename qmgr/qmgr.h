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
 * qmgr_log_result() records each result; qmgr_entry_done() finishes an
 * entry; when a message has no entries left qmgr_message_finish()
 * removes it, defers it with backoff, or expires it.
 *
 * Each function lives in the file named by its prefix: qmgr_message_*()
 * in qmgr_message.c, qmgr_queue_*() in qmgr_queue.c, and so on.
 *
 * SECURITY: queue files are written by cleanup (same uid) and are still
 * parsed with bounded record sizes; delivery agent replies are untrusted
 * (bounded by attr.h, statuses checked).
 *
 * DIAGNOSTICS: fatal only at start (bad parameter values, a bad
 * concurrency feedback value, server.c). At run time every problem is a
 * warning with the queue id, and the message or recipient is deferred,
 * moved to corrupt or retried on the next scan; a queue missing from its
 * table is a programming error (panic).
 */
#ifndef POSTHORN_QMGR_H
#define POSTHORN_QMGR_H

#include <time.h>
#include "argv.h"
#include "htable.h"
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
extern long var_qmgr_rcpt_limit;        /* qmgr_message_recipient_limit */
extern long var_proc_limit;             /* default_process_limit */
extern const char *var_def_filter_nexthop;  /* default_filter_nexthop */
extern const char *var_myhostname;      /* myhostname */
extern const char *var_conc_pos_feedback;   /* default_destination_concurrency_positive_feedback */
extern const char *var_conc_neg_feedback;   /* default_destination_concurrency_negative_feedback */

void    qmgr_params_init(void);

/* ---- the objects ------------------------------------------------------- */

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
    char   *client_name;        /* the client (qmgr_message.c): log_* attributes, */
    char   *client_addr;        /* else the real client's */
    char   *client_port;
    char   *client_helo;
    char   *client_proto;
    char   *log_ident;
    char   *rewrite_context;
    char   *sasl_method;        /* the sasl_* attributes, or NULL */
    char   *sasl_username;
    char   *sasl_sender;
    int     client_from_log;    /* bits: which of them came from log_* */
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
    int     is_new;             /* came from incoming/ (qmgr_message_new) */
    struct QMGR_MESSAGE *next;  /* list of active messages */
    struct QMGR_MESSAGE *prev;
} QMGR_MESSAGE;

typedef struct QMGR_ENTRY QMGR_ENTRY;
typedef struct QMGR_QUEUE QMGR_QUEUE;
typedef struct QMGR_AGENT QMGR_AGENT;   /* a connection to an agent (qmgr_deliver.c) */

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
    int     agents;             /* connections to its agent processes */
    time_t  dead_until;         /* 0 = alive */
    char   *dead_reason;
    QMGR_QUEUE *queues;         /* every queue of this transport, oldest first */
    QMGR_QUEUE *queues_tail;
    HTABLE *queue_table;        /* the same queues by key */
    QMGR_QUEUE *rr_next;        /* round-robin position */
    struct QMGR_TRANSPORT *next;
} QMGR_TRANSPORT;

struct QMGR_QUEUE {
    const char *key;            /* grouping key (lowercased), owned by queue_table */
    char   *nexthop;            /* as resolved */
    QMGR_TRANSPORT *transport;
    int     active;             /* entries in flight (on its agents) */
    int     agents;             /* agent connections: its concurrency */
    int     window;             /* concurrency window (agents); 0 = dead */
    double  success;            /* positive feedback not yet applied */
    double  failure;            /* negative feedback not yet applied (<= 0) */
    double  fail_cohorts;       /* failed pseudo-cohorts in a row */
    time_t  dead_until;         /* window 0: retry after this time */
    char    dead_dsn[16];       /* window 0: the failure that killed it */
    char   *dead_reason;
    QMGR_ENTRY *todo_head;
    QMGR_ENTRY *todo_tail;
    int     todo_count;
    int     conn_flags;         /* DELIVER_CONN_* hint for the agents */
    time_t  last_done;          /* a delivery to it ended (back-to-back) */
    unsigned long fill_gen;     /* grouping round that fill_entry belongs to */
    QMGR_ENTRY *fill_entry;     /* entry being filled in that round */
    QMGR_AGENT *agent_list;     /* its agent connections */
    QMGR_QUEUE *next;
};

struct QMGR_ENTRY {
    QMGR_MESSAGE *message;
    QMGR_QUEUE *queue;
    int    *rcpt_index;         /* indexes into message->rcpt */
    int     rcpt_count;
    int     rcpt_cap;
    QMGR_AGENT *agent;          /* while in flight: its connection */
    int     sent;               /* the request was written to it */
    int     inflight;           /* counted in queue/transport active */
    QMGR_ENTRY *next;           /* waiting list, or the agent's requests */
};

/* ---- messages (qmgr_message.c) ---------------------------------------- */

/* The active messages (qmgr_scan.c adds, qmgr_message_finish() removes). */
extern QMGR_MESSAGE *qmgr_message_list;
extern int qmgr_message_count;

/* Read queue/<id>. NULL on a corrupt file (reason in *why, static text),
 * or NULL with *why NULL when it cannot be opened (errno; ENOENT: gone). */
QMGR_MESSAGE *qmgr_message_read(const char *queue, const char *id, const char **why);
void    qmgr_message_free(QMGR_MESSAGE *msg);

/* Resolver used for grouping (resolve_clnt by default; tests replace it).
 * Fills transport/nexthop/recipient and flags; returns 0 or -1. */
typedef int (*QMGR_RESOLVE_FN)(const char *sender, const char *addr,
                               VSTRING *transport, VSTRING *nexthop,
                               VSTRING *recipient, int *flags);
extern QMGR_RESOLVE_FN qmgr_message_resolve_fn;
/* Resolve and group the TODO recipients of msg into queued entries;
 * recipients bounced or deferred at once get no entry (when none got
 * one, msg->refcount stays 0 and the caller finishes the message). */
void    qmgr_message_group(QMGR_MESSAGE *msg);
/* Overwrite the type byte of each listed RCPT record with DONE. */
int     qmgr_message_mark_done(const char *queue, const char *id,
                               const long *offsets, int count);
/* All entries of msg finished: remove, defer (backoff) or expire it. */
void    qmgr_message_finish(QMGR_MESSAGE *msg);
/* Seconds until the next attempt of a message that arrived at arrival. */
long    qmgr_message_backoff(time_t now, time_t arrival, long min_backoff,
                             long max_backoff);

/* ---- delay warnings (qmgr_warn.c) ---------------------------------------- */

/* msg is about to be deferred: send the sender's delay warning when the
 * WARN record's time has passed (once; see qmgr_warn.c). */
void    qmgr_warn_check(QMGR_MESSAGE *msg, time_t now);

/* ---- recipient results and per-message logs (qmgr_log.c) -------------- */

/* Append one entry to defer/<id>, bounce/<id> or trace/<id> (fsynced). 0 or -1. */
int     qmgr_log_append(const char *queue, const QMGR_MESSAGE *msg,
                        const QMGR_RCPT *rcpt, const char *action);
/* "ID: to=<..>, relay=none, delay=.., delays=.., dsn=.., status=S (reason)" */
void    qmgr_log_status(const QMGR_MESSAGE *msg, const QMGR_RCPT *rcpt,
                        const char *status);
/* Apply one result to a recipient (status DELIVER_*): state and logs. */
void    qmgr_log_result(QMGR_MESSAGE *msg, int index, int status,
                        const char *dsn, const char *reason);
/* The same for a delivery agent's answer (a probe's result was reported
 * by the agent to the verify service: not again). */
void    qmgr_log_agent_result(QMGR_MESSAGE *msg, int index, int status,
                              const char *dsn, const char *reason);
/* The same for a verdict qmgr reaches itself, plus the to= line. */
void    qmgr_log_verdict(QMGR_MESSAGE *msg, int index, int status,
                         const char *dsn, const char *reason);
/* Hand bounce/<id> (queue QUEUE_BOUNCE) or trace/<id> (QUEUE_TRACE) to
 * its service: 0 when the notice is queued (or no log exists) and the
 * queue file may go, -1 to keep it and retry. Calls qmgr_log_flush_fn,
 * which qmgr.c sets to qmgr_bounce_flush (unset in unit tests: the log
 * just stays). */
int     qmgr_log_flush(const char *queue, const QMGR_MESSAGE *msg);
extern int (*qmgr_log_flush_fn)(const char *queue, const QMGR_MESSAGE *msg);

/* ---- bounce, defer and trace service client (qmgr_bounce.c) ----------- */

/* Send request (BOUNCE_REQ_*) about msg to private/<service>; 0 when the
 * service says done; what names the notice in the warnings. */
int     qmgr_bounce_request(const QMGR_MESSAGE *msg, const char *service,
                            const char *request, const char *what);
/* qmgr_log_flush_fn: "flush" to private/bounce or private/trace. */
int     qmgr_bounce_flush(const char *queue, const QMGR_MESSAGE *msg);

/* ---- transports (qmgr_transport.c) ------------------------------------ */

extern QMGR_TRANSPORT *qmgr_transport_list;
QMGR_TRANSPORT *qmgr_transport_find(const char *name, int create);
/* <transport>_destination_{recipient,concurrency}_limit, else default_. */
int     qmgr_transport_rcpt_limit(const char *transport);
int     qmgr_transport_dest_limit(const char *transport);
/* Read the transport's window parameters (qmgr_transport_find calls it). */
void    qmgr_transport_init_feedback(QMGR_TRANSPORT *tr);

/* ---- destination queues (qmgr_queue.c) -------------------------------- */

QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *tr, const char *key,
                            const char *nexthop, int create);
/* Append an entry to a queue's waiting list, put one back in front (a
 * request an agent did not take); pop the first (NULL if none). */
void    qmgr_queue_append(QMGR_QUEUE *q, QMGR_ENTRY *e);
void    qmgr_queue_push(QMGR_QUEUE *q, QMGR_ENTRY *e);
QMGR_ENTRY *qmgr_queue_pop(QMGR_QUEUE *q);
/* Free queues of a transport that hold nothing. */
void    qmgr_queue_gc(void);

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
void    qmgr_queue_init_window(QMGR_QUEUE *q);
void    qmgr_queue_feedback(QMGR_QUEUE *q, int verdict, const char *dsn,
                            const char *reason, time_t now);
/* Is q dead at now? (a dead period that has passed revives it) */
int     qmgr_queue_dead(QMGR_QUEUE *q, time_t now);
/* Defer every recipient of entry for a dead queue, and finish it. */
void    qmgr_queue_defer_dead(QMGR_ENTRY *entry);

/* ---- delivery entries (qmgr_entry.c) ---------------------------------- */

/* A new empty entry of msg, appended to q (counted in msg->refcount). */
QMGR_ENTRY *qmgr_entry_create(QMGR_QUEUE *q, QMGR_MESSAGE *msg);
void    qmgr_entry_add_rcpt(QMGR_ENTRY *e, int index);
/* Defer every recipient of an entry with dsn/reason (qmgr's own verdict). */
void    qmgr_entry_defer(QMGR_ENTRY *entry, const char *dsn, const char *reason);
/* What a finished entry tells about its destination (QMGR_FEEDBACK_*). */
int     qmgr_entry_verdict(const QMGR_ENTRY *entry, const char **dsn,
                           const char **reason);
/* Take the entry out of accounting, free it, finish the message if last. */
void    qmgr_entry_done(QMGR_ENTRY *entry);

/* ---- queue scans (qmgr_scan.c) ---------------------------------------- */

/* What is in active/: messages from incoming/ not finished yet, and the
 * recipients of all active messages (qmgr_scan.c counts them in,
 * qmgr_message_finish() out). */
extern int qmgr_message_new;
extern long qmgr_rcpt_count;

/* Deferred messages a feed round takes while new mail is in active/. */
#define QMGR_FEED_DEFERRED_BUSY 1
/* Queue entries a feed round looks at (not due, gone, or taken). */
#define QMGR_SCAN_LOOK      1000

#define QMGR_SCAN_INCOMING  (1 << 0)
#define QMGR_SCAN_DEFERRED  (1 << 1)
#define QMGR_SCAN_ALL       (1 << 2)    /* deferred: ignore next-retry time */

void    qmgr_scan_recover(void);            /* active/ -> incoming/ */
void    qmgr_scan_request(int flags);       /* schedule a scan */
/* Move up to max ready files into active/ and group them; returns count. */
int     qmgr_scan_feed(int max);
int     qmgr_scan_pending(void);
/* Room in active/ for another message (both limits)? */
int     qmgr_scan_room(void);

/* ---- scheduler (qmgr_sched.c) ----------------------------------------- */

/* Arrange for feed + scheduling on the next event loop round. */
void    qmgr_sched_kick(void);
void    qmgr_sched_run(void);
/* Forget dead transports and destinations ('F'). */
void    qmgr_sched_flush_dead(void);
void    qmgr_sched_timers_init(void);
/* in_flow_delay tokens: top up to default_process_limit. */
void    qmgr_sched_flow(void);

/* ---- delivery (qmgr_deliver.c) ---------------------------------------- */

/*
 * Can q's next waiting entry start: a new agent connection within the
 * queue's window and the transport's process limit, or a place behind
 * the request an agent connection of q is delivering (QMGR_AGENT_DEPTH
 * requests per connection, small ones only)?
 */
int     qmgr_deliver_room(QMGR_QUEUE *q);
/* Start the request (q had room): 0 = in flight, -1 = finished at once
 * (deferred). */
int     qmgr_deliver_start(QMGR_ENTRY *entry);

#endif
