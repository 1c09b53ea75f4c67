/*
 * mail_proto.h - the internal protocols: service names, attribute names,
 * and the request/reply sequence of each service. All requests are
 * attribute lists (attr.h); queue file content is records (record.h).
 *
 * Sockets are relative to $queue_directory (processes chdir there):
 *   public/cleanup (stock master.cf: cleanup is not private)
 *   private/rewrite  private/local  private/smtp ...
 *   public/qmgr (fifo)  public/pickup (fifo)  public/postlog (unix-dgram)
 *
 * -------------------------------------------------------------------
 * cleanup (public/cleanup; smtpd and pickup are clients)
 *
 *   S: {protocol=cleanup, queue_id=ID}      the queue file exists now
 *   C: {flags=N}                            CLEANUP_FLAG_*
 *   C: records: TIME, [FULL], ATTR..., FROM, then per recipient
 *      [DSN_ORCPT] [DSN_NOTIFY] [ORCP] RCPT, [DSN_ENVID] [DSN_RET],
 *      MESG, NORM/CONT content lines, XTRA, END
 *      (ATTR names: ATTR_CLIENT_NAME, ATTR_CLIENT_ADDR, ... below;
 *       "encoding=8bit|7bit", "log_ident=ID")
 *   S: {status=N, reason=text}              status 0 = queued;
 *      otherwise CLEANUP_STAT_* bits; reason is the SMTP reply text to
 *      use when non-empty ("5.7.1 message content rejected").
 *
 *   cleanup fsyncs the file and marks it ready before it sends status 0,
 *   then triggers qmgr ("I" on public/qmgr).
 *
 * -------------------------------------------------------------------
 * trivial-rewrite (private/rewrite; smtpd, cleanup, qmgr, local are clients)
 *
 *   S: {protocol=rewrite}
 *   C: {request=rewrite, rule=local|remote, address=A}
 *   S: {flags=0, address=A'}                qualified per myorigin/mydomain
 *   C: {request=resolve, sender=S, address=A}
 *   S: {flags=F, transport=T, nexthop=H, recipient=A'}
 *       F: RESOLVE_CLASS_* | RESOLVE_FLAG_*
 *
 * -------------------------------------------------------------------
 * delivery agents (private/<transport>: local, smtp, ...; qmgr is the client)
 *
 *   S: {protocol=delivery}
 *   C: {queue_name, queue_id, offset, size, sender, nexthop, transport,
 *       arrival_time, active_time, encoding, dsn_envid, dsn_ret,
 *       client_name, client_addr, rcpt_count=N}
 *       offset = file offset of the first content record (after MESG)
 *   C: N lists {address, orig_rcpt, offset, dsn_notify, dsn_orcpt}
 *       offset = file offset of the recipient's RCPT record
 *   (the agent delivers, and logs each "to=<...>, relay=..., status=..." line)
 *   S: N lists {status=0|4|5, dsn=X.Y.Z, reason=text}, in request order
 *       0 = delivered (qmgr marks it DONE), 4 = deferred (stays), 5 = bounced
 *   S: {more=0|1}
 *       1 = the agent reads another request on this connection (the
 *       sequence from C: again, without a new greeting) or the end of
 *       the connection; 0 = it reads nothing more (max_use reached,
 *       stopping): a request qmgr has already sent was not seen and is
 *       qmgr's to give to another process. qmgr may send the next request
 *       before this reply (it waits in the socket): one agent process
 *       takes a destination's deliveries one after the other without
 *       waiting for qmgr between them.
 *
 * -------------------------------------------------------------------
 * qmgr wakeups (public/qmgr fifo): single bytes below.
 *
 * DIAGNOSTICS: none (names and constants only).
 */
#ifndef POSTHORN_MAIL_PROTO_H
#define POSTHORN_MAIL_PROTO_H

#define MAIL_CLASS_PRIVATE  "private"
#define MAIL_CLASS_PUBLIC   "public"

#define SERVICE_CLEANUP     "cleanup"
#define SERVICE_REWRITE     "rewrite"
#define SERVICE_QMGR        "qmgr"
#define SERVICE_PICKUP      "pickup"
#define SERVICE_POSTLOG     "postlog"
#define SERVICE_LOCAL       "local"
#define SERVICE_BOUNCE      "bounce"

#define PROTO_CLEANUP       "cleanup"
#define PROTO_REWRITE       "rewrite"
#define PROTO_DELIVERY      "delivery"

/* Timeout for one internal request (ipc_timeout default 3600s). */
#define MAIL_IPC_TIMEOUT_PARAM "ipc_timeout"

/* qmgr trigger bytes */
#define QMGR_REQ_SCAN_INCOMING  'I'
#define QMGR_REQ_SCAN_DEFERRED  'D'
#define QMGR_REQ_SCAN_ALL       'A'
#define QMGR_REQ_FLUSH_DEAD     'F'
#define TRIGGER_REQ_WAKEUP      'W'

/* cleanup flags (client -> cleanup) */
#define CLEANUP_FLAG_NONE       0
#define CLEANUP_FLAG_BOUNCE     (1 << 0)    /* bounce on content rejection instead of reporting */
#define CLEANUP_FLAG_FILTER     (1 << 1)    /* apply header/body checks */
#define CLEANUP_FLAG_HOLD       (1 << 2)    /* put into hold/ */
#define CLEANUP_FLAG_DISCARD    (1 << 3)
#define CLEANUP_FLAG_MAP_OK     (1 << 4)    /* address mappings allowed */
#define CLEANUP_FLAG_LOCAL      (1 << 5)    /* local submission: add From:/Date: etc */
#define CLEANUP_FLAG_MILTER     (1 << 6)    /* run non_smtpd_milters (receive_override_options) */
#define CLEANUP_FLAG_SMTPD_MILTERS (1 << 7) /* smtpd's milters follow END (milter_pass.c) */

/* cleanup status bits (cleanup -> client) */
#define CLEANUP_STAT_OK         0
#define CLEANUP_STAT_BAD        (1 << 0)    /* internal protocol error */
#define CLEANUP_STAT_WRITE      (1 << 1)    /* queue file write error */
#define CLEANUP_STAT_SIZE       (1 << 2)    /* message too large */
#define CLEANUP_STAT_CONT       (1 << 3)    /* content rejected */
#define CLEANUP_STAT_HOPS       (1 << 4)    /* too many hops */
#define CLEANUP_STAT_RCPT       (1 << 6)    /* no recipients */
#define CLEANUP_STAT_DEFER      (1 << 8)    /* temporary reject */

/* attribute names */
#define ATTR_PROTOCOL       "protocol"
#define ATTR_QUEUE_ID       "queue_id"
#define ATTR_QUEUE_NAME     "queue_name"
#define ATTR_FLAGS          "flags"
#define ATTR_STATUS         "status"
#define ATTR_REASON         "reason"
#define ATTR_MILTER_FAILED  "milter_failed" /* cleanup -> smtpd: bit i = milter i failed */
#define ATTR_REQUEST        "request"
#define ATTR_RULE           "rule"
#define ATTR_ADDRESS        "address"
#define ATTR_SENDER         "sender"
#define ATTR_TRANSPORT      "transport"
#define ATTR_NEXTHOP        "nexthop"
#define ATTR_RECIPIENT      "recipient"
#define ATTR_ORIG_RCPT      "orig_rcpt"
#define ATTR_OFFSET         "offset"
#define ATTR_SIZE           "size"
#define ATTR_ARRIVAL_TIME   "arrival_time"
#define ATTR_ACTIVE_TIME    "active_time"
#define ATTR_ENCODING       "encoding"
#define ATTR_DSN_ENVID      "dsn_envid"
#define ATTR_DSN_RET        "dsn_ret"
#define ATTR_DSN_NOTIFY     "dsn_notify"
#define ATTR_DSN_ORCPT      "dsn_orcpt"
#define ATTR_DSN_STATUS     "dsn"
#define ATTR_MORE           "more"      /* agent -> qmgr: it reads another request */
#define ATTR_RCPT_COUNT     "rcpt_count"
#define ATTR_CLIENT_NAME    "client_name"
#define ATTR_CLIENT_ADDR    "client_addr"
#define ATTR_CLIENT_PORT    "client_port"
#define ATTR_HELO_NAME      "helo_name"
#define ATTR_PROTO_NAME     "protocol_name"
#define ATTR_RWR_CONTEXT    "rewrite_context"
#define ATTR_LOG_IDENT      "log_ident"
/* smtpd -> cleanup -> queue file: the SMTP AUTH login and MAIL FROM AUTH= */
#define ATTR_SASL_METHOD    "sasl_method"
#define ATTR_SASL_USERNAME  "sasl_username"
#define ATTR_SASL_SENDER    "sasl_sender"
/* the client for logging and XFORWARD (the up-stream one after XFORWARD) */
#define ATTR_LOG_CLIENT_NAME "log_client_name"
#define ATTR_LOG_CLIENT_ADDR "log_client_address"
#define ATTR_LOG_CLIENT_PORT "log_client_port"
#define ATTR_LOG_ORIGIN     "log_message_origin"
#define ATTR_LOG_HELO_NAME  "log_helo_name"
#define ATTR_LOG_PROTO_NAME "log_protocol_name"
/* smtpd/pickup -> cleanup: their content_filter parameter, "transport:nexthop"
 * (an empty value is not sent); cleanup writes it as one CONTENT_FILTER record. */
#define ATTR_CONTENT_FILTER "content_filter"
#define ATTR_TRACE_FLAGS    "trace_flags"   /* queue file: "verify" (sendmail -bv);
                                             * delivery request: DELIVER_TRACE_* bits */
#define TRACE_FLAGS_VERIFY  "verify"
#define TRACE_FLAGS_PROBE   "probe"     /* an address verification probe (verify) */

/* resolve classes and flags */
#define RESOLVE_FLAG_FINAL   (1 << 0)   /* final destination: local or virtual */
#define RESOLVE_FLAG_ROUTED  (1 << 1)   /* address had a source route or %-hack */
#define RESOLVE_FLAG_ERROR   (1 << 2)   /* bad address syntax */
#define RESOLVE_FLAG_FAIL    (1 << 3)   /* table lookup failed: try again later */
#define RESOLVE_CLASS_LOCAL   (1 << 8)  /* mydestination, inet_interfaces */
#define RESOLVE_CLASS_ALIAS   (1 << 9)  /* virtual_alias_domains */
#define RESOLVE_CLASS_VIRTUAL (1 << 10) /* virtual_mailbox_domains */
#define RESOLVE_CLASS_RELAY   (1 << 11) /* relay_domains */
#define RESOLVE_CLASS_DEFAULT (1 << 12) /* everything else */
#define RESOLVE_CLASS_MASK    (0x1f << 8)

/* DSN NOTIFY bits */
#define DSN_NOTIFY_NEVER    (1 << 0)
#define DSN_NOTIFY_SUCCESS  (1 << 1)
#define DSN_NOTIFY_FAILURE  (1 << 2)
#define DSN_NOTIFY_DELAY    (1 << 3)
#define DSN_RET_FULL        1
#define DSN_RET_HDRS        2

/*
 * -------------------------------------------------------------------
 * bounce, defer, trace (private/bounce, private/defer, private/trace;
 * one program "bounce"; qmgr is the client)
 *
 * The service name picks the per-message log the request works on:
 * bounce -> bounce/ID, defer -> defer/ID, trace -> trace/ID (log format:
 * qmgr/qmgr_log.c, one "name=value" block per recipient).
 *
 *   S: {protocol=bounce}
 *   C: {request=flush, queue_name=Q, queue_id=ID, sender=S, encoding=E,
 *       dsn_envid=X, dsn_ret=0|1|2}
 *      The log's recipients whose NOTIFY allows a failure report (no
 *      NOTIFY given, or FAILURE among them) go into one RFC 3464
 *      non-delivery notification from MAILER-DAEMON (null sender) to S,
 *      returning the message Q/ID (full content unless dsn_ret=2), queued
 *      through public/cleanup. A null S (bounce of a bounce) makes it a
 *      postmaster notice to 2bounce_notice_recipient when notify_classes
 *      has "2bounce", otherwise it is dropped; a failed postmaster notice
 *      (S is double_bounce_sender@myhostname) is dropped. notify_classes
 *      "bounce" adds a headers-only copy to bounce_notice_recipient.
 *      Then the log is removed.
 *   S: {status=0|1}
 *      0: done (notice queued, or none was due; the log is gone);
 *      1: not done (log unreadable, cleanup unreachable...): the log stays,
 *         the client keeps the queue file and asks again later.
 *   The queue file Q/ID must exist until the reply arrives.
 *
 *   C: {request=warn, queue_name, queue_id, sender, encoding, dsn_envid,
 *       dsn_ret}                        (to private/defer)
 *      A delay warning: the defer log's recipients whose NOTIFY allows a
 *      delay report (no NOTIFY given, or DELAY among them) go into one
 *      "Delayed Mail (still being retried)" notice (Action: delayed,
 *      message headers only) from the null sender to S; with "delay" in
 *      notify_classes a copy goes to delay_notice_recipient. A null S,
 *      or S = double_bounce_sender@myhostname, gets none. The log stays.
 *   S: {status=0|1}
 *      0: done (queued, or none was due): the client records that the
 *         warning was sent; 1: not done, the client may ask again later.
 *
 *   C: {request=flush, ...}             (to private/trace)
 *      Address verification (sendmail -bv): every trace log entry
 *      (action=deliverable|undeliverable) goes into one "Mail Delivery
 *      Status Report" from the null sender to S, headers only; then the
 *      log is removed. Reply as for bounce flush.
 */
#define SERVICE_DEFER       "defer"
#define SERVICE_TRACE       "trace"
#define PROTO_BOUNCE        "bounce"
#define BOUNCE_REQ_FLUSH    "flush"
#define BOUNCE_REQ_WARN     "warn"
#define BOUNCE_STAT_OK      0
#define BOUNCE_STAT_FAIL    1

/*
 * -------------------------------------------------------------------
 * anvil (private/anvil; one process; smtpd is the client): connection
 * count and event rate per client, for the smtpd_client_*_limit checks.
 * ident is "service:client_addr" ("smtp:192.0.2.1"). Rates count the
 * events in the current anvil_rate_time_unit window, this one included.
 *
 *   S: {protocol=anvil}
 *   C: {request=connect, ident=I}     S: {status=0, count=N, rate=N}
 *   C: {request=disconnect, ident=I}  S: {status=0}
 *   C: {request=message, ident=I}     S: {status=0, rate=N}   (MAIL)
 *   C: {request=recipient, ident=I}   S: {status=0, rate=N}   (RCPT)
 *   C: {request=newtls, ident=I}      S: {status=0, rate=N}   (new TLS session)
 *   C: {request=newtls_status, ident=I} S: {status=0, rate=N} (no increment)
 *   C: {request=auth, ident=I}        S: {status=0, rate=N}   (AUTH)
 *   C: {request=lookup, ident=I}      S: {status=0, count=N, rate=N,
 *                                         message=N, recipient=N, newtls=N, auth=N}
 *   status -1 (ANVIL_STAT_FAIL): bad request or no room; clients then
 *   allow the event (fail open), as when anvil cannot be reached.
 *
 *   The connections a client announced are taken back when its
 *   connection to anvil closes (an smtpd process that exits or crashes).
 *   anvil logs "statistics: max ..." lines every anvil_status_update_time
 *   and when it exits.
 */
#define SERVICE_ANVIL       "anvil"
#define PROTO_ANVIL         "anvil"
#define ANVIL_REQ_CONN      "connect"
#define ANVIL_REQ_DISC      "disconnect"
#define ANVIL_REQ_MAIL      "message"
#define ANVIL_REQ_RCPT      "recipient"
#define ANVIL_REQ_NTLS      "newtls"
#define ANVIL_REQ_NTLS_STAT "newtls_status"
#define ANVIL_REQ_AUTH      "auth"
#define ANVIL_REQ_LOOKUP    "lookup"
#define ATTR_IDENT          "ident"
#define ATTR_COUNT          "count"
#define ATTR_RATE           "rate"
#define ATTR_ANVIL_MAIL     "message"
#define ATTR_ANVIL_RCPT     "recipient"
#define ATTR_ANVIL_NTLS     "newtls"
#define ATTR_ANVIL_AUTH     "auth"
#define ANVIL_STAT_OK       0
#define ANVIL_STAT_FAIL     (-1)

/*
 * -------------------------------------------------------------------
 * scache: the connection cache (scache/, smtp/smtp_cache.c). smtp
 * processes keep one connection to private/scache. Requests:
 *   {request=save_endp, ttl, label, property} S: {status}; when 0 the
 *       client sends the descriptor (attr_send_fd) and scache keeps it
 *       under the endpoint label (ttl seconds, at most
 *       connection_cache_ttl_limit).
 *   {request=save_dest, ttl, label, property, endp_label} S: {status}:
 *       the destination label now names that endpoint.
 *   {request=find_endp, label} / {request=find_dest, label}
 *       S: {status, property[, endp_property]}; when status is 0 the
 *       client answers {status=0} and scache sends the descriptor, which
 *       leaves the cache.
 * The descriptor steps are lockstep so that no stream has bytes buffered
 * past the descriptor's message (attr.h).
 */
#define SERVICE_SCACHE      "scache"
#define PROTO_SCACHE        "scache"
#define SCACHE_REQ_SAVE_ENDP "save_endp"
#define SCACHE_REQ_SAVE_DEST "save_dest"
#define SCACHE_REQ_FIND_ENDP "find_endp"
#define SCACHE_REQ_FIND_DEST "find_dest"
#define ATTR_TTL            "ttl"
#define ATTR_LABEL          "label"
#define ATTR_PROPERTY       "property"
#define ATTR_ENDP_LABEL     "endp_label"
#define ATTR_ENDP_PROP      "endp_property"
#define SCACHE_STAT_OK      0
#define SCACHE_STAT_FAIL    (-1)
#define SCACHE_LABEL_MAX    1000        /* bytes in a label */
#define SCACHE_PROP_MAX     2000        /* bytes in a property */

/*
 * -------------------------------------------------------------------
 * verify (private/verify; one process; smtpd asks, the delivery agents
 * and qmgr report): the address verification cache (verify/verify.c).
 *
 *   S: {protocol=verify}
 *   C: {request=query, address=A}
 *   S: {status=0, recipient_status=N, reason=text}
 *      N: VERIFY_ADDR_* below; an unknown or stale address is probed
 *      (a message with trace_flags=probe through public/cleanup) and
 *      answered VERIFY_ADDR_TODO until the probe's result arrives.
 *   C: {request=update, address=A, recipient_status=N, reason=text}
 *   S: {status=0}
 *   status -1: bad request. Addresses and reasons are bounded
 *   (VERIFY_ADDR_MAX, VERIFY_TEXT_MAX).
 */
#define SERVICE_VERIFY      "verify"
#define PROTO_VERIFY        "verify"
#define VERIFY_REQ_QUERY    "query"
#define VERIFY_REQ_UPDATE   "update"
#define ATTR_ADDR_STATUS    "recipient_status"
#define VERIFY_STAT_OK      0
#define VERIFY_STAT_FAIL    (-1)
#define VERIFY_ADDR_OK      0           /* deliverable */
#define VERIFY_ADDR_DEFER   1           /* undeliverable for now (4xx) */
#define VERIFY_ADDR_BOUNCE  2           /* undeliverable (5xx) */
#define VERIFY_ADDR_TODO    3           /* not known yet: probe in progress */
#define VERIFY_ADDR_MAX     1000
#define VERIFY_TEXT_MAX     2000

/*
 * -------------------------------------------------------------------
 * flush (private/flush; smtpd for ETRN, postqueue -s/-f, qmgr): the
 * fast flush service (flush/flush.c), per-destination lists of
 * deferred queue ids under $queue_directory/flush.
 *
 *   S: {protocol=flush}
 *   C: {request=add, site=S, queue_id=ID}    (qmgr, for each deferral)
 *   C: {request=send_site, site=S}           (ETRN, postqueue -s)
 *   C: {request=refresh}                     (postqueue -f)
 *   S: {status=N}   N: FLUSH_STAT_* below
 */
#define SERVICE_FLUSH       "flush"
#define PROTO_FLUSH         "flush"
#define FLUSH_REQ_ADD       "add"
#define FLUSH_REQ_SEND_SITE "send_site"
#define FLUSH_REQ_REFRESH   "refresh"
#define ATTR_SITE           "site"
#define FLUSH_STAT_OK       0
#define FLUSH_STAT_FAIL     (-1)        /* request failed (or no service) */
#define FLUSH_STAT_BAD      3           /* invalid request parameter */
#define FLUSH_STAT_DENY     4           /* site not in fast_flush_domains */

#endif
