/*
 * smtp.h - private interface of the SMTP/LMTP delivery agent.
 *
 * One binary: started as "smtp" it speaks SMTP (MX lookups, port 25);
 * started as "lmtp" (argv[0] basename or service name) it speaks LMTP
 * (LHLO, one reply per recipient after the final dot, no MX lookups,
 * port 24, "unix:/path" next hops). Parameters are read with the
 * "smtp_" or "lmtp_" prefix accordingly (smtp_param.c).
 *
 * Parts:
 *   smtp.c           main(): single_server_main with smtp_service
 *   smtp_param.c     per-protocol parameters (timeouts, limits, names)
 *   smtp_nexthop.c   next-hop syntax: [host]:port, host:port, unix:/path
 *   smtp_reply.c     reply parsing, EHLO keywords, DSN status,
 *                    message body writer (dot-stuffing, CRLF, line limit)
 *   smtp_generic.c   smtp_generic_maps: envelope and header addresses
 *                    rewritten on the way out (generic(5))
 *   smtp_xforward.c  XFORWARD: the original client's attributes for a
 *                    content filter (smtp_send_xforward_command)
 *   smtp_dns.c       MX / address lookup, loop detection (our addresses)
 *   smtp_connect.c   TCP and UNIX-domain connects with a timeout
 *   smtp_sasl.c      AUTH with Cyrus SASL (smtp_sasl_password_maps)
 *   smtp_tls.c       TLS levels and policy (smtp_tls_security_level,
 *                    smtp_tls_policy_maps), handshake, certificate check
 *   smtp_dane.c      the dane and dane-only levels: per MX host, the
 *                    DNSSEC-validated TLSA records decide the level
 *   smtp_proto.c     one session: greeting, EHLO, MAIL/RCPT/DATA, QUIT
 *   smtp_service.c   one delivery request: destinations, fallback,
 *                    results (deliver_result), reply to qmgr
 *
 * DIAGNOSTICS: fatal only at start (bad parameter values, server.c). At
 * run time server, DNS and connection problems are recipient results
 * (deferred or bounced with Postfix's reasons), and a few are also
 * warnings: a bad next hop, a server that greets with our own name, a
 * control character in a command, an unusable cached connection timer.
 */
#ifndef POSTHORN_SMTP_H
#define POSTHORN_SMTP_H

#include <netdb.h>
#include <sys/socket.h>

#include "argv.h"
#include "deliver.h"
#include "stream.h"
#include "tls.h"
#include "vstring.h"

/* ---- parameters (smtp_param.c) ------------------------------------------- */

typedef struct SMTP_PARAMS {
    int     lmtp;                   /* speak LMTP */
    const char *proto;              /* "SMTP" or "LMTP" (for messages) */
    long    connect_timeout;
    long    helo_timeout;
    long    mail_timeout;
    long    rcpt_timeout;
    long    data_init_timeout;
    long    data_xfer_timeout;
    long    data_done_timeout;
    long    quit_timeout;
    long    rset_timeout;
    long    line_length_limit;      /* 0: no limit */
    int     send_xforward;          /* smtp_send_xforward_command */
    long    xforward_timeout;
    long    mx_address_limit;       /* 0: no limit */
    long    mx_session_limit;       /* 0: no limit */
    int     skip_5xx_greeting;
    int     skip_quit_response;
    int     always_send_ehlo;
    int     never_send_ehlo;
    int     randomize_addresses;
    int     quote_rfc821_envelope;
    int     soft_bounce;
    int     disable_dns_lookups;
    const char *dns_support_level;  /* "", disabled, enabled, dnssec */
    int     dnssec;                 /* smtp_dns_support_level = dnssec */
    const char *helo_name;
    const char *myhostname;
    const char *default_port;       /* "smtp" or "24" */
    const char *discard_ehlo_keywords;  /* list */
    const char *inet_protocols;
    const char *host_lookup;        /* "dns", "native" or both */
    const char *bind_address;       /* "": none */
    const char *bind_address6;
    const char *fallback_relay;     /* smtp_fallback_relay / lmtp_fallback_relay */
    int     cache_on_demand;        /* connection cache (smtp_cache.c) */
    const char *cache_destinations;
    long    cache_time_limit;
    long    reuse_time_limit;
    long    reuse_count_limit;
    char   *refusal;                /* param_guard: why no mail may go out */
} SMTP_PARAMS;

extern SMTP_PARAMS smtp_params;

/* Read all parameters, once; lmtp selects the lmtp_* names. The strings
 * stay valid until config_reset(). */
void    smtp_params_init(int lmtp);
/* config_read_vars() of vars with "smtp_" or "lmtp_" in front of each name. */
struct CONFIG_VAR;
void    smtp_param_read_prefixed(const struct CONFIG_VAR *vars, int lmtp);

/* ---- next hop (smtp_nexthop.c) -------------------------------------------- */

#define SMTP_HOST_MAX   256
#define SMTP_PORT_MAX   32
#define SMTP_PATH_MAX   108

#define SMTP_NEXTHOP_INET  1
#define SMTP_NEXTHOP_UNIX  2

typedef struct SMTP_NEXTHOP {
    int     kind;                   /* SMTP_NEXTHOP_* */
    char    host[SMTP_HOST_MAX];    /* domain or host; no brackets */
    char    port[SMTP_PORT_MAX];    /* service name or number */
    char    path[SMTP_PATH_MAX];    /* UNIX-domain socket */
    int     no_mx;                  /* [host], IP literal, or LMTP */
} SMTP_NEXTHOP;

/*
 * Parse a next hop. lmtp: accept unix:/inet: prefixes and never do MX
 * lookups. dflt_port is used when none is given. Returns 0, or -1 with
 * the reason in why.
 */
int     smtp_nexthop_parse(const char *nexthop, int lmtp, const char *dflt_port,
                           SMTP_NEXTHOP *out, VSTRING *why);

/* ---- replies and content (smtp_reply.c) ------------------------------------ */

#define SMTP_REPLY_LINE_MAX   4096  /* one reply line (bigger is cut) */
#define SMTP_REPLY_TEXT_MAX   8192  /* all lines joined */
#define SMTP_REPLY_LINES_MAX  1000  /* lines per reply */

typedef struct SMTP_REPLY {
    int     code;                   /* 100..599, or 0 = no (valid) reply */
    char    dsn[16];                /* "X.Y.Z" (from the reply or derived) */
    VSTRING *text;                  /* all lines joined with a space */
    ARGV   *lines;                  /* each line without its code (EHLO) */
} SMTP_REPLY;

SMTP_REPLY *smtp_reply_alloc(void);
void    smtp_reply_free(SMTP_REPLY *r);
void    smtp_reply_reset(SMTP_REPLY *r);

/*
 * Feed one received line (without CRLF). Returns 1 when it was the last
 * line of the reply, 0 when more follow, -1 for a malformed line (the
 * reply is then code 0 and the text says what arrived).
 */
int     smtp_reply_add_line(SMTP_REPLY *r, const char *line, size_t len);
/* Read a whole reply from the stream; 0, or -1 on EOF/timeout/error. */
int     smtp_reply_read(STREAM *fp, SMTP_REPLY *r);

/* EHLO features */
#define SMTP_FEATURE_ESMTP       (1 << 0)
#define SMTP_FEATURE_PIPELINING  (1 << 1)
#define SMTP_FEATURE_SIZE        (1 << 2)
#define SMTP_FEATURE_8BITMIME    (1 << 3)
#define SMTP_FEATURE_DSN         (1 << 4)
#define SMTP_FEATURE_SMTPUTF8    (1 << 5)
#define SMTP_FEATURE_STARTTLS    (1 << 6)
#define SMTP_FEATURE_AUTH        (1 << 7)
#define SMTP_FEATURE_ENHANCED    (1 << 8)
#define SMTP_FEATURE_XFORWARD    (1 << 9)

/*
 * Parse the EHLO reply lines (r->lines[1..]): returns SMTP_FEATURE_* bits
 * and the SIZE limit (0 = none given). discard: keywords to ignore
 * (smtp_discard_ehlo_keywords), may be NULL.
 */
int     smtp_ehlo_features(const SMTP_REPLY *r, const char *discard, long *size_limit);

/*
 * Message body writer: turns queue file lines into SMTP DATA: CRLF line
 * ends, a '.' doubled at the start of a line, lines longer than limit
 * (0 = none) broken with CRLF SPACE as Postfix does (folded is then set,
 * for the "breaking line" log line). out receives the bytes.
 */
typedef struct SMTP_BODY {
    int     bol;                    /* at the beginning of an output line */
    long    col;                    /* bytes on the current output line */
    long    limit;
    int     folded;                 /* a line was broken */
    int   (*write)(void *ctx, const char *data, size_t len);
    void   *ctx;
} SMTP_BODY;

void    smtp_body_init(SMTP_BODY *b, long limit,
                       int (*write)(void *ctx, const char *data, size_t len), void *ctx);
/* One piece from deliver_read_content(); returns write's result (0 ok). */
int     smtp_body_piece(SMTP_BODY *b, const char *data, size_t len, int is_eol);
/* Finish: end an unterminated last line, then ".\r\n". */
int     smtp_body_finish(SMTP_BODY *b);

/* ---- generic(5) rewriting (smtp_generic.c) ---------------------------------- */

/* pre_init: <proto>_generic_maps, propagate_unmatched_extensions. */
void    smtp_generic_init(int lmtp);
int     smtp_generic_enabled(void);
/* 1 changed (out), 0 unchanged (out = addr), -1 the table failed. */
int     smtp_generic_addr(const char *addr, VSTRING *out);

#define SMTP_GENERIC_FAIL  2        /* a DELIVER_LINE_FN result: table failure */

/* A content filter in front of an SMTP_BODY that rewrites the addresses
 * of the primary header's address headers. */
typedef struct SMTP_GENERIC_HDR {
    SMTP_BODY *body;
    VSTRING *hdr;                   /* one logical header, lines joined by '\n' */
    int     in_header;              /* still in the primary header */
    int     bol;                    /* the next piece starts a line */
    int     failed;                 /* a table lookup failed */
} SMTP_GENERIC_HDR;

void    smtp_generic_hdr_init(SMTP_GENERIC_HDR *h, SMTP_BODY *body);
/* DELIVER_LINE_FN: 0, the body writer's error, or SMTP_GENERIC_FAIL. */
int     smtp_generic_hdr_line(const char *data, size_t len, int is_eol, void *ctx);
/* Send what is still held; frees the buffer. Same results. */
int     smtp_generic_hdr_end(SMTP_GENERIC_HDR *h);

/* ---- XFORWARD (smtp_xforward.c) ------------------------------------------- */

#define SMTP_XFWD_NAME    (1 << 0)
#define SMTP_XFWD_ADDR    (1 << 1)
#define SMTP_XFWD_PORT    (1 << 2)
#define SMTP_XFWD_PROTO   (1 << 3)
#define SMTP_XFWD_HELO    (1 << 4)
#define SMTP_XFWD_IDENT   (1 << 5)
#define SMTP_XFWD_SOURCE  (1 << 6)
/* the "name/address" command; the rest go in the "helo/protocol" one */
#define SMTP_XFWD_CLIENT_GROUP (SMTP_XFWD_NAME | SMTP_XFWD_ADDR | SMTP_XFWD_PORT)

/* SMTP_XFWD_* bits named in the EHLO reply's XFORWARD line. */
int     smtp_xforward_attrs(const SMTP_REPLY *r);
/* The XFORWARD commands for req (each <= 512 bytes), and for each what
 * it is ("XFORWARD name/address command") for a warning. */
void    smtp_xforward_cmds(const DELIVER_REQUEST *req, int attrs, ARGV *cmds, ARGV *what);

/* ---- addresses (smtp_dns.c) ------------------------------------------------ */

typedef struct SMTP_ADDR {
    char    host[SMTP_HOST_MAX];    /* name as given (MX host or nexthop) */
    char    addr[INET6_ADDRSTRLEN + 8]; /* numeric text */
    struct sockaddr_storage sa;
    socklen_t salen;
    int     pref;
    int     mx_insecure;            /* named by an MX answer without AD */
} SMTP_ADDR;

typedef struct SMTP_ADDR_LIST {
    SMTP_ADDR *addr;
    int     count;
    int     cap;
    int     self_mx;                /* this host is an MX for the domain */
} SMTP_ADDR_LIST;

/* A failure: what to tell qmgr for every recipient not yet done. */
typedef struct SMTP_WHY {
    int     status;                 /* DELIVER_DEFER or DELIVER_BOUNCE */
    char    dsn[16];
    char    relay[SMTP_HOST_MAX + INET6_ADDRSTRLEN + 48];
    VSTRING *text;
} SMTP_WHY;

void    smtp_why_init(SMTP_WHY *why);
void    smtp_why_free(SMTP_WHY *why);
void    smtp_why_set(SMTP_WHY *why, int status, const char *dsn, const char *fmt, ...)
            __attribute__((format(printf, 4, 5)));

void    smtp_addr_list_init(SMTP_ADDR_LIST *list);
void    smtp_addr_list_free(SMTP_ADDR_LIST *list);
void    smtp_addr_list_add(SMTP_ADDR_LIST *list, const char *host,
                           const struct sockaddr *sa, socklen_t salen, int pref);
/* Shuffle runs of equal preference (list sorted by preference). */
void    smtp_addr_list_shuffle(SMTP_ADDR_LIST *list);
/* Drop entries at or above the lowest preference held by one of our own
 * addresses or names; returns the number left. is_self decides. */
int     smtp_addr_list_prune_self(SMTP_ADDR_LIST *list,
                                  int (*is_self)(const SMTP_ADDR *a));

/* Look up the addresses for a next hop (MX or host); 0, or -1 with why.
 * list->self_mx tells that this host was among the MX hosts. */
int     smtp_dns_lookup(const SMTP_NEXTHOP *nh, SMTP_ADDR_LIST *list, SMTP_WHY *why);
/* Is this address (or its host name) this machine? */
int     smtp_dns_is_self(const SMTP_ADDR *a);

/* ---- connections (smtp_connect.c) -------------------------------------------- */

/* Connect with a timeout (0 = none); fd, or -1 with errno set. */
int     smtp_connect_addr(const SMTP_ADDR *a, long timeout);
int     smtp_connect_unix(const char *path, long timeout);

/* ---- one session (smtp_proto.c) ----------------------------------------------- */

typedef struct SMTP_SESSION {
    STREAM *fp;
    TLS_SESS *tls;                  /* NULL: plain text */
    char    namaddr[SMTP_HOST_MAX + INET6_ADDRSTRLEN + 16];  /* host[addr] */
    char    relay[SMTP_HOST_MAX + INET6_ADDRSTRLEN + 48];   /* host[addr]:port */
    int     features;
    int     xforward;               /* SMTP_XFWD_* the server offers */
    long    size_limit;
    SMTP_REPLY *reply;
    double  conn_done;              /* time the session was set up */
    char    auth_mechs[512];        /* the EHLO reply's AUTH mechanisms */
    int     authenticated;          /* AUTH succeeded */
} SMTP_SESSION;

/* Per-request state shared by the service and the protocol code. */
typedef struct SMTP_STATE {
    DELIVER_REQUEST *req;
    const char *dest;               /* the next hop, for loop messages */
    int     done_count;             /* recipients that have a final result */
    double  start;                  /* agent start, for the c delay */
    int    *rcpt_done;              /* per recipient: result recorded */
    struct SMTP_TLS_POLICY *tls;    /* for the current next hop, or NULL */
    int     tls_off;                /* retrying in plain text (level may) */
    int     no_fallback;            /* we are MX for the destination */
    char   *sender;                 /* MAIL FROM (smtp_generic_maps applied) */
    char  **rcpt;                   /* RCPT TO per recipient (same) */
} SMTP_STATE;

/* Protocol outcomes */
#define SMTP_SESS_DONE     0        /* every recipient has its result */
#define SMTP_SESS_RETRY    1        /* try the next address (why is set) */
#define SMTP_SESS_FINAL    2        /* give up: report why to the rest */
#define SMTP_SESS_PLAIN    3        /* TLS failed at level may: reconnect without */

/* Run one session on an open fp; returns SMTP_SESS_*. */
int     smtp_session_run(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why);

/* Record recipient i's result (once) and log it (smtp_service.c). */
void    smtp_rcpt_result(SMTP_STATE *st, int i, int status, const char *dsn,
                         const char *relay, double conn_time, double xfer_time,
                         const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* Map a reply code to DELIVER_* (2 sent, 4 defer, 5 bounce). */
int     smtp_code_status(int code);

/* ---- TLS (smtp_tls.c) ---------------------------------------------------------- */

#define SMTP_TLS_NONE     0
#define SMTP_TLS_MAY      1
#define SMTP_TLS_ENCRYPT  2
#define SMTP_TLS_VERIFY   3
#define SMTP_TLS_SECURE   4
#define SMTP_TLS_DANE     5         /* as configured; smtp_dane_policy() */
#define SMTP_TLS_DANE_ONLY 6        /* turns them into one of the above */
#define SMTP_TLS_FINGERPRINT 7    /* mandatory; the fingerprint is the check */

typedef struct SMTP_TLS_POLICY {
    int     level;                  /* SMTP_TLS_* */
    char   *match;                  /* policy "match=", or NULL: the default */
    char   *protocols;              /* policy "protocols=", or NULL */
    char   *ciphers;                /* policy "ciphers=", or NULL */
    char    nexthop[SMTP_HOST_MAX]; /* for "nexthop" and "dot-nexthop" */
    TLS_DANE *dane;                 /* the host's usable TLSA records, or NULL */
    int     dane_insecure_mx;       /* dane: the MX answer was not validated */
} SMTP_TLS_POLICY;

/* pre_init (root, before chroot): parameters, CA data. */
void    smtp_tls_init(int lmtp);
/* smtp_tls_wrappermode is set. */
int     smtp_tls_wrapper(void);
/* The policy for next hop dest (as written) parsed into nh; 0, or -1
 * with why set (table failure, invalid or unsupported level). */
int     smtp_tls_policy(const char *dest, const SMTP_NEXTHOP *nh, SMTP_TLS_POLICY *pol,
                        SMTP_WHY *why);
void    smtp_tls_policy_free(SMTP_TLS_POLICY *pol);
/* Handshake on sess->fp and the certificate check for st->tls: -1 = go
 * on (sess->tls set), SMTP_SESS_RETRY (why set; sess->tls may be set),
 * or SMTP_SESS_PLAIN (level may: retry without TLS). */
int     smtp_tls_start(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why);

/* ---- DANE (smtp_dane.c) ------------------------------------------------------- */

/* pre_init: smtp_tls_dane_insecure_mx_policy. */
void    smtp_dane_init(int lmtp);
/* conf's level is dane or dane-only. */
#define SMTP_DANE_LEVEL(l) ((l) == SMTP_TLS_DANE || (l) == SMTP_TLS_DANE_ONLY)
/* The policy for address a of next hop dest under conf (dane or
 * dane-only): *eff is conf with the level this host gets and its TLSA
 * records; 0, or -1 with why set (dane-only without usable records, a
 * TLSA lookup failure). Free with smtp_dane_policy_free(). */
int     smtp_dane_policy(const char *dest, const SMTP_TLS_POLICY *conf, const SMTP_ADDR *a,
                         SMTP_TLS_POLICY *eff, SMTP_WHY *why);
void    smtp_dane_policy_free(SMTP_TLS_POLICY *eff);

/* ---- SASL (smtp_sasl.c) -------------------------------------------------------- */

typedef struct SMTP_SASL SMTP_SASL;

/* pre_init (root, before chroot): parameters, password maps, plug-ins. */
void    smtp_sasl_init(int lmtp);
int     smtp_sasl_enabled(void);
int     smtp_sasl_sender_dependent(void);
/* The mechanisms of the EHLO reply's AUTH line(s), space-separated. */
void    smtp_sasl_mechs(const SMTP_REPLY *r, char *buf, size_t len);
/* Credentials for this session: 1 (*user, *pass allocated), 0 none, -1
 * the table failed. */
int     smtp_sasl_passwd(const SMTP_STATE *st, const SMTP_SESSION *sess, char **user,
                         char **pass);
/* Start: cmd gets "AUTH MECH [initial-response]"; NULL with why set. */
SMTP_SASL *smtp_sasl_begin(const SMTP_SESSION *sess, const char *user, const char *pass,
                           VSTRING *cmd, VSTRING *why);
/* A 334 challenge (base64) -> the response line; 0, or -1 with why. */
int     smtp_sasl_next(SMTP_SASL *s, const char *challenge, VSTRING *resp, VSTRING *why);
void    smtp_sasl_end(SMTP_SASL *s);

/* ---- service (smtp_service.c) ------------------------------------------------- */

void    smtp_service(STREAM *client);
/* Deliver one request (also used by tests); replies are recorded in req. */
void    smtp_deliver(DELIVER_REQUEST *req);

#endif
