/*
 * deliver.h - the delivery request between qmgr and a delivery agent
 * (see mail_proto.h for the wire sequence), and the per-recipient log
 * line every agent writes:
 *
 *   ID: to=<rcpt>, [orig_to=<orig>, ]relay=R, delay=D, delays=a/b/c/d, dsn=X.Y.Z, status=S (text)
 *
 * delay is the total time since arrival; delays splits it into: before
 * qmgr (arrival -> active), in qmgr (active -> agent start), connection
 * setup, and transmission; each printed as Postfix does (two significant
 * digits, "0" below the $delay_logging_resolution_limit).
 *
 * The one interface of five files, each on one subject:
 *
 *   deliver_request.c  the protocol: read, check, answer and free a
 *                      request (agent), write it and read the answers (qmgr)
 *   deliver_result.c   record a recipient's result and log it
 *   deliver_log.c      the to= log line and the delay formatting
 *   deliver_dsn.c      enhanced status codes (X.Y.Z)
 *   deliver_content.c  read the message content as lines
 *
 * Greeting: deliver_request_read() first sends {protocol=delivery};
 * deliver_request_write() first reads and checks it, or the qmgr sends
 * the request first and checks the greeting before the reply
 * (deliver_greeting_read); callers do not call
 * attr_send_protocol/attr_expect_protocol themselves.
 *
 * Parameters: delay_logging_resolution_limit (deliver_log.c).
 *
 * SECURITY: the agent side treats the request as untrusted: queue name
 * and id are validated before the file is opened (read-only, O_NOFOLLOW),
 * the offsets must lie inside the file, counts are bounded.
 *
 * DIAGNOSTICS: nothing in the agent-side protocol is fatal: a malformed
 * request, reply or queue file is a warning and a failed call; a recipient
 * index out of range (deliver_result) and formatting before
 * mail_params_init() are programming errors (panic). See each deliver_*.c.
 */
#ifndef POSTHORN_DELIVER_H
#define POSTHORN_DELIVER_H

#include "argv.h"
#include "stream.h"
#include "vstring.h"

#define DELIVER_MAX_RCPT 10000
#define DELIVER_REASON_MAX  2000    /* reason text kept and sent to qmgr */

#define DELIVER_SENT     0
#define DELIVER_DEFER    4
#define DELIVER_BOUNCE   5

#define DELIVER_TRACE_VERIFY (1 << 0)   /* trace_flags: verify only (sendmail -bv):
                                         * agents report, do not deliver; the
                                         * log says status=deliverable/undeliverable */
#define DELIVER_TRACE_PROBE  (1 << 1)   /* with VERIFY: an address verification
                                         * probe (verify service): each result
                                         * goes to the verify service, a
                                         * deferral too is "undeliverable" */
#define DELIVER_TRACE_MASK   (DELIVER_TRACE_VERIFY | DELIVER_TRACE_PROBE)

/* flags: qmgr's connection cache hint (smtp_connection_cache_on_demand):
 * the destination has a backlog, so fetch a cached connection and store
 * this one; FETCH alone while the backlog drains. */
#define DELIVER_CONN_FETCH   (1 << 0)
#define DELIVER_CONN_STORE   (1 << 1)
#define DELIVER_CONN_MASK    (DELIVER_CONN_FETCH | DELIVER_CONN_STORE)

typedef struct DELIVER_RCPT {
    char   *address;
    char   *orig_rcpt;
    long    offset;             /* of the RCPT record in the queue file */
    int     dsn_notify;
    char   *dsn_orcpt;
    /* result */
    int     status;             /* DELIVER_*; -1 = not yet */
    char    dsn[16];
    char   *reason;
} DELIVER_RCPT;

typedef struct DELIVER_REQUEST {
    char   *queue_name;
    char   *queue_id;
    long    offset;             /* first content record */
    long    size;               /* content size */
    char   *sender;
    char   *nexthop;
    char   *transport;
    double  arrival_time;       /* epoch seconds */
    double  active_time;
    double  agent_time;         /* set by deliver_request_read */
    char   *encoding;
    char   *dsn_envid;
    int     dsn_ret;
    char   *client_name;        /* the client, as Postfix's delivery request: */
    char   *client_addr;        /* from the log_* attributes (the up-stream */
    char   *client_port;        /* client after XFORWARD), else the real one; */
    char   *client_helo;        /* "" when not known */
    char   *client_proto;
    char   *log_ident;          /* queue id for XFORWARD IDENT */
    char   *rewrite_context;    /* "local" / "remote" (XFORWARD SOURCE) */
    char   *sasl_method;        /* SMTP AUTH of the submission ("" if none): */
    char   *sasl_username;      /* the queue file's sasl_* attributes */
    char   *sasl_sender;
    int     trace_flags;        /* DELIVER_TRACE_*; optional attribute */
    int     flags;              /* DELIVER_CONN_*; optional attribute */
    int     rcpt_count;
    DELIVER_RCPT *rcpt;
    STREAM *fp;                 /* agent side: the queue file, read-only */
} DELIVER_REQUEST;

/* Agent side. deliver_request_read() greets and reads the first request
 * of a connection, deliver_request_next() a further one (NULL without a
 * warning when qmgr closed the connection instead). Both return NULL (and
 * log why) on a protocol error or a queue file that cannot be opened. */
DELIVER_REQUEST *deliver_request_read(STREAM *client);
DELIVER_REQUEST *deliver_request_next(STREAM *client);
/* Send every recipient's status (those still -1 are sent as deferred)
 * and whether this agent reads another request (more); for a probe
 * (DELIVER_TRACE_PROBE) first report each to the verify service
 * (verify_clnt.h), as Postfix's agents do. */
int     deliver_request_reply(STREAM *client, DELIVER_REQUEST *req, int more);
void    deliver_request_free(DELIVER_REQUEST *req);
/*
 * The loop body of every delivery agent: read a request from qmgr
 * (nothing more happens when that fails), let fn deliver it (fn records
 * each recipient's result), send the results, free the request; then the
 * next request on the same connection, as long as the server skeleton
 * lets this process take another (single_server_take_another: max_use,
 * stop, reload, a changed table) and qmgr sends one. A reply that cannot
 * be sent is a warning; qmgr then defers the recipients.
 */
typedef void (*DELIVER_REQUEST_FN) (DELIVER_REQUEST *req, void *ctx);
void    deliver_request_serve(STREAM *client, DELIVER_REQUEST_FN fn, void *ctx);
/*
 * Record recipient i's result and log the to= line. relay is "local",
 * "host[addr]:port", "none"; conn_time/xfer_time are the c and d parts.
 */
void    deliver_result(DELIVER_REQUEST *req, int i, int status, const char *dsn,
                       const char *relay, double conn_time, double xfer_time,
                       const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/*
 * Same, for one destination that recipient i expanded into (aliases,
 * .forward): logs "to=<to>, orig_to=<rcpt i>". A recipient that gets
 * several results keeps the worst: deferred over bounced over sent.
 */
void    deliver_result_to(DELIVER_REQUEST *req, int i, const char *to, int status,
                          const char *dsn, const char *relay, double conn_time,
                          double xfer_time, const char *fmt, ...)
            __attribute__((format(printf, 9, 10)));
/*
 * Log "ID: to=<to>, [orig_to=<orig>, ]relay=R, delay=D, delays=a/b/c/d,
 * dsn=X.Y.Z, status=S (text)" (orig_to when it differs from to, case
 * ignored; the delays as deliver_format_delays with now = deliver_now()).
 * For verdicts reached without a delivery request: qmgr, cleanup.
 */
void    deliver_log_status(const char *queue_id, const char *to, const char *orig,
                           const char *relay, double arrival, double active,
                           double agent, double conn, double xfer, const char *dsn,
                           const char *status, const char *text);
/* The current time in epoch seconds (with microseconds). */
double  deliver_now(void);
/* Format "delay=..., delays=..." into out (appends). */
void    deliver_format_delays(VSTRING *out, double arrival, double active,
                              double agent, double conn, double xfer, double now);

/*
 * An enhanced status code "X.Y.Z" (X 2, 4 or 5; Y, Z one to three
 * digits) at the start of text, ended by the end of text, a space or a
 * tab: copied into dsn (when it fits dsnlen with its NUL); returns its
 * length, or 0 when there is none.
 */
size_t  deliver_dsn_scan(const char *text, char *dsn, size_t dsnlen);
/* 1 when dsn is one whole "X.Y.Z" status that fits DELIVER_RCPT.dsn. */
int     deliver_dsn_ok(const char *dsn);

/* Client (qmgr) side: read the greeting, write the request; read the
 * replies into rcpt[].status/dsn/reason. deliver_request_send() writes the
 * request without the greeting (read it later with deliver_greeting_read);
 * deliver_request_size() is an upper bound of its size on the wire. */
int     deliver_request_write(STREAM *agent, const DELIVER_REQUEST *req);
int     deliver_request_send(STREAM *agent, const DELIVER_REQUEST *req);
int     deliver_greeting_read(STREAM *agent);
size_t  deliver_request_size(const DELIVER_REQUEST *req);
/* *more: the agent reads another request on this connection. */
int     deliver_reply_read(STREAM *agent, DELIVER_REQUEST *req, int *more);

/* Read the message content (from req->offset) as lines for delivery:
 * calls fn with each piece; is_eol tells whether the piece ends a line
 * (the newline itself is not passed). Returns 0, or -1 on a corrupt file,
 * or fn's own non-zero return value (which stops the walk; use a positive
 * value to tell a write error from a corrupt file). */
typedef int (*DELIVER_LINE_FN)(const char *data, size_t len, int is_eol, void *ctx);
int     deliver_read_content(DELIVER_REQUEST *req, DELIVER_LINE_FN fn, void *ctx);
/* The Delivered-To: values of the message's headers (loop detection by
 * local, pipe and virtual), lowercased, white space trimmed, at most max of them,
 * added to values. */
void    deliver_delivered_to(DELIVER_REQUEST *req, ARGV *values, size_t max);
/* 1 when one of the first max Delivered-To: headers is rcpt (any case):
 * the message was delivered to rcpt before (pipe's flag D, virtual). */
int     deliver_loop_found(DELIVER_REQUEST *req, const char *rcpt, size_t max);

#endif
