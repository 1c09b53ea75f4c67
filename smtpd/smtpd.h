/*
 * smtpd.h - private interface of the SMTP server's modules.
 *
 *   smtpd.c          main(): the single-server skeleton, pre/post init
 *   smtpd_params.c   the parameters smtpd reads, once (var_*, smtpd_conf)
 *   smtpd_peer.c     client address and verified host name
 *   smtpd_chat.c     replies, pipelining flush, error counting, logging helpers
 *   smtpd_state.c    the session state: made, reset after a transaction, freed
 *   smtpd_proto.c    the command table and the session loop
 *   smtpd_esmtp.c    MAIL/RCPT argument and ESMTP parameter parsing
 *   smtpd_check.c    restriction lists, relay control, recipient tables
 *   smtpd_check_dns.c  the syntax and DNS-based restrictions (RBL, unknown
 *                    domain/client, non-FQDN, HELO syntax)
 *   smtpd_cleanup.c  the connection to cleanup: envelope, Received:, status
 *   smtpd_data.c     DATA and BDAT content: dot-unstuffing, bare newlines,
 *                    long lines into CONT records
 *   smtpd_space.c    free space in the queue file system at MAIL FROM
 *   smtpd_tls.c      STARTTLS, wrapper mode, the TLS policy (lib/tls)
 *   smtpd_sasl.c     AUTH (smtpd_sasl.h), with smtpd_sasl_dovecot.c
 *   smtpd_xforward.c XFORWARD: the up-stream client's attributes from a
 *                    content filter (smtpd_authorized_xforward_hosts)
 *   smtpd_milter.c   smtpd_milters: connect..DATA events (lib/global/milter.h);
 *                    the content events run in cleanup
 *
 * SECURITY: SMTPD_STATE holds text from the network (helo_name, sender,
 * recipients); every such field is bounded (line_length_limit, ADDRESS_MAX)
 * before it is stored, and is escaped by msg_* when logged. helo_name is
 * stored printable (printable_fix: '?' for other bytes), as it also goes
 * into the Received: header and to policy servers.
 *
 * DIAGNOSTICS: fatal only at start (bad parameter values, restriction
 * lists that cannot stop relaying, a refused configuration); at run time
 * problems are warnings and SMTP replies, never a crash. See each
 * smtpd_*.c.
 */
#ifndef POSTHORN_SMTPD_H
#define POSTHORN_SMTPD_H

#include <stddef.h>
#include <sys/time.h>

#include "argv.h"
#include "htable.h"
#include "maps.h"
#include "netmatch.h"
#include "stream.h"
#include "tls.h"
#include "vstring.h"

/* smtpd_forbid_bare_newline */
#define SMTPD_BARE_LF_NO        0
#define SMTPD_BARE_LF_NORMALIZE 1
#define SMTPD_BARE_LF_REJECT    2

/*
 * smtpd_params.c: every parameter smtpd reads, once, in pre_init (see
 * that file). The var_* hold the values; smtpd_conf what smtpd builds
 * from them at start.
 */
extern const char *var_myhostname;          /* myhostname */
extern const char *var_mail_name;           /* mail_name */
extern const char *var_smtpd_banner;        /* smtpd_banner */
extern const char *var_service_name;        /* service_name (master.cf) */
extern const char *var_stress;              /* stress (Postfix: -o stress=yes from master) */
extern long var_message_limit;              /* message_size_limit */
extern long var_line_limit;                 /* line_length_limit */
extern long var_smtpd_rcpt_limit;           /* smtpd_recipient_limit */
extern long var_smtpd_soft_erlim;           /* smtpd_soft_error_limit */
extern long var_smtpd_hard_erlim;           /* smtpd_hard_error_limit */
extern long var_smtpd_junk_cmd_limit;       /* smtpd_junk_command_limit */
extern long var_smtpd_err_sleep;            /* smtpd_error_sleep_time */
extern long var_smtpd_tmout;                /* smtpd_timeout */
extern int var_smtpd_req_deadline;          /* smtpd_per_request_deadline */
extern long var_smtpd_min_data_rate;        /* smtpd_min_data_rate */
extern long var_queue_minfree;              /* queue_minfree */
extern int var_disable_vrfy_cmd;            /* disable_vrfy_command */
extern int var_smtpd_peername_lookup;       /* smtpd_peername_lookup */
extern int var_smtputf8_enable;             /* smtputf8_enable */
extern long var_smtpd_bare_lf_code;         /* smtpd_forbid_bare_newline_reject_code */
extern const char *var_rcpt_delim;          /* recipient_delimiter */
extern const char *var_filter_xport;        /* content_filter */
/* restrictions (smtpd_check.c) */
extern int var_smtpd_delay_reject;          /* smtpd_delay_reject */
extern int var_helo_required;               /* smtpd_helo_required */
extern int var_soft_bounce;                 /* soft_bounce */
extern int var_smtpd_rej_unl_rcpt;          /* smtpd_reject_unlisted_recipient */
extern int var_smtpd_rej_unl_from;          /* smtpd_reject_unlisted_sender */
extern const char *var_smtpd_null_key;      /* smtpd_null_access_lookup_key */
extern long var_reject_code;                /* reject_code */
extern long var_defer_code;                 /* defer_code */
extern long var_relay_code;                 /* relay_domains_reject_code */
extern long var_access_map_code;            /* access_map_reject_code */
extern long var_local_rcpt_code;            /* unknown_local_recipient_reject_code */
extern long var_virt_mailbox_code;          /* unknown_virtual_mailbox_reject_code */
extern long var_relay_rcpt_code;            /* unknown_relay_recipient_reject_code */
extern long var_virt_alias_code;            /* unknown_virtual_alias_reject_code */
extern int var_show_unk_rcpt_table;         /* show_user_unknown_table_name */
extern const char *var_double_bounce_sender; /* double_bounce_sender */
extern int var_relay_before_rcpt;           /* smtpd_relay_before_recipient_restrictions */
extern long var_non_fqdn_code;              /* non_fqdn_reject_code */
extern long var_bad_name_code;              /* invalid_hostname_reject_code */
extern long var_unk_addr_code;              /* unknown_address_reject_code */
extern long var_unk_client_code;            /* unknown_client_reject_code */
extern long var_maps_rbl_code;              /* maps_rbl_reject_code */
/* client limits through anvil (smtpd_anvil.c) */
extern long var_smtpd_cconn_limit;          /* smtpd_client_connection_count_limit */
extern long var_smtpd_crate_limit;          /* smtpd_client_connection_rate_limit */
extern long var_smtpd_cmail_limit;          /* smtpd_client_message_rate_limit */
extern long var_smtpd_crcpt_limit;          /* smtpd_client_recipient_rate_limit */
extern long var_smtpd_cauth_limit;          /* smtpd_client_auth_rate_limit */
/* policy service (smtpd_policy.c) */
extern long var_smtpd_policy_tmout;         /* smtpd_policy_service_timeout */
extern long var_smtpd_policy_idle;          /* smtpd_policy_service_max_idle */
extern long var_smtpd_policy_ttl;           /* smtpd_policy_service_max_ttl */
extern long var_smtpd_policy_req_limit;     /* smtpd_policy_service_request_limit */
extern long var_smtpd_policy_try_limit;     /* smtpd_policy_service_try_limit */
extern long var_smtpd_policy_try_delay;     /* smtpd_policy_service_retry_delay */
extern const char *var_smtpd_policy_def_action; /* smtpd_policy_service_default_action */
extern const char *var_smtpd_policy_context;    /* smtpd_policy_service_policy_context */

/* What smtpd builds from the var_* at start. */
typedef struct SMTPD_CONF {
    int     bare_lf_mode;       /* smtpd_forbid_bare_newline: SMTPD_BARE_LF_* */
    NETMATCH *bare_lf_exclusions;   /* smtpd_forbid_bare_newline_exclusions */
    ARGV   *discard_ehlo;       /* smtpd_discard_ehlo_keywords */
    ARGV   *forbidden_commands; /* smtpd_forbidden_commands: the plain names */
    DICT  **forbidden_dicts;    /* ... and its tables */
    size_t  forbidden_dict_count;
    ARGV   *rewrite_clients;    /* local_header_rewrite_clients */
    NETMATCH *mynetworks;       /* mynetworks */
    NETMATCH *hoggers;          /* smtpd_client_event_limit_exceptions */
    int     parent_matches;     /* smtpd_access_maps in parent_domain_matches_subdomains */
    ARGV   *client_restrictions;    /* smtpd_*_restrictions */
    ARGV   *helo_restrictions;
    ARGV   *sender_restrictions;
    ARGV   *relay_restrictions;
    ARGV   *recipient_restrictions;
    ARGV   *data_restrictions;
    ARGV   *eod_restrictions;
    ARGV   *etrn_restrictions;  /* only its tables are opened, for now */
    HTABLE *classes;            /* smtpd_restriction_classes: name -> ARGV * */
    MAPS   *local_rcpt_maps;    /* NULL: accept every local recipient */
    MAPS   *virtual_mailbox_maps;
    MAPS   *virtual_alias_maps;
    MAPS   *relay_rcpt_maps;
    MAPS   *canonical_maps;     /* these three make an address valid too */
    MAPS   *rcpt_canon_maps;
    MAPS   *send_canon_maps;
    MAPS   *sender_login_maps;  /* smtpd_sender_login_maps: sender -> logins */
    /* compatibility_level: a default in use is a backwards-compatible one
     * (Postfix's "using backwards-compatible default setting" notices) */
    int     compat_relay_domains;       /* relay_domains = $mydestination */
    int     compat_relay_before;        /* recipient before relay restrictions */
    int     compat_smtputf8;            /* smtputf8_enable = no */
    const char *mynetworks_style;       /* for the notice */
    NETMATCH *compat_mynetworks;        /* mynetworks by mynetworks_style = host */
    ARGV   *compat_relay_restrictions;  /* Postfix's stand-in for the empty list */
    NETMATCH *xforward_hosts;   /* smtpd_authorized_xforward_hosts */
} SMTPD_CONF;

extern SMTPD_CONF smtpd_conf;

void    smtpd_params_init(void);

/* BDAT content: a line assembler that lives across chunks. */
typedef struct SMTPD_BDAT_IN {
    int     bare_lf_mode;
    size_t  line_limit;
    VSTRING *line;
    int     bare_lf_seen;
} SMTPD_BDAT_IN;

/* Command statistics for the "disconnect from" line, in Postfix's order. */
enum {
    SMTPD_CMD_HELO, SMTPD_CMD_EHLO, SMTPD_CMD_STARTTLS, SMTPD_CMD_XFORWARD,
    SMTPD_CMD_AUTH, SMTPD_CMD_MAIL, SMTPD_CMD_RCPT, SMTPD_CMD_DATA, SMTPD_CMD_BDAT,
    SMTPD_CMD_RSET, SMTPD_CMD_NOOP, SMTPD_CMD_VRFY, SMTPD_CMD_ETRN,
    SMTPD_CMD_QUIT, SMTPD_CMD_UNKNOWN, SMTPD_STAT_MAX
};

/* What the restrictions decided (smtpd_check.c): for the session... */
typedef struct SMTPD_CHECK_RESULT {
    char   *denied;             /* connect-time reject (smtpd_delay_reject = no) */
    /* ... and for the message (cleared by smtpd_check_reset) */
    int     flags;              /* CLEANUP_FLAG_HOLD | CLEANUP_FLAG_DISCARD */
    char   *filter;             /* FILTER transport:nexthop */
    char   *redirect;           /* REDIRECT address */
    ARGV   *prepend;            /* PREPEND header lines */
} SMTPD_CHECK_RESULT;

/* XFORWARD attributes for this transaction (smtpd_xforward.c). */
typedef struct SMTPD_XFORWARD {
    int     active;             /* an attribute was accepted */
    int     client;             /* ... one of NAME ADDR PORT PROTO HELO */
    char   *name;               /* "unknown" when not given */
    char   *addr;               /* plain numeric form, or "unknown" */
    char   *port;
    char   *proto;
    char   *helo;               /* NULL when not given */
    char   *ident;              /* NULL: our own queue id */
    char   *domain;             /* "local"/"remote", NULL: the real client's */
    char   *namaddr;            /* "name[addr]" or "name" */
} SMTPD_XFORWARD;

typedef struct SMTPD_STATE {
    STREAM *client;
    /* peer */
    char   *name;               /* verified host name or "unknown" */
    char   *reverse_name;       /* PTR result or "unknown" */
    char   *addr;               /* numeric address */
    char   *rfc_addr;           /* "1.2.3.4" or "IPv6:2001:db8::1" */
    char   *port;
    char   *namaddr;            /* "name[addr]" */
    int     peer_socket;        /* getpeername() worked: not smtpd -d on a pipe */
    /* session */
    VSTRING *buffer;            /* current command line */
    char   *helo_name;
    const char *protocol;       /* "SMTP" or "ESMTP" */
    const char *where;          /* for "... after XXX from" */
    int     error_count;
    int     junk_count;         /* NOOP/VRFY/ETRN/RSET since the last message */
    int     quit;               /* end the session */
    int     bare_lf_mode;       /* for this client (exclusions applied) */
    int     stat_total[SMTPD_STAT_MAX];
    int     stat_ok[SMTPD_STAT_MAX];
    /* transaction */
    char   *sender;             /* NULL: no MAIL yet */
    long    msg_size;           /* SIZE= or 0 */
    const char *encoding;       /* "7bit", "8bitmime" or NULL */
    char   *dsn_envid;
    int     dsn_ret;
    int     smtputf8;
    int     rcpt_count;         /* accepted recipients */
    char   *recipient;          /* last accepted recipient (Received: for) */
    char   *cur_rcpt;           /* recipient being checked (logging) */
    STREAM *cleanup;
    char   *queue_id;
    int     err;                /* CLEANUP_STAT_* seen by smtpd itself */
    struct timeval arrival;
    long    act_size;           /* content bytes sent to cleanup */
    /* BDAT */
    int     bdat_active;        /* a BDAT transfer has started */
    long    bdat_total;
    SMTPD_BDAT_IN bdat_in;
    /* restrictions, client limits, policy service */
    SMTPD_CHECK_RESULT check;   /* smtpd_check.c */
    int     anvil_active;       /* smtpd_anvil.c: the limits apply to this client */
    int     anvil_counted;      /* ... and anvil counted its connection */
    char    policy_instance[64];    /* smtpd_policy.c: this message's "instance", or "" */
    TLS_SESS *tls;              /* smtpd_tls.c: NULL until STARTTLS (or wrapper mode) */
    SMTPD_XFORWARD xforward;    /* smtpd_xforward.c */
    char   *sasl_method;        /* smtpd_sasl.c: NULL until AUTH succeeded */
    char   *sasl_username;      /* ... the login name from the auth server */
    struct MILTERS *milters;    /* smtpd_milter.c: NULL without smtpd_milters */
    char   *milter_denied;      /* ... the connect event's reject reply */
    int     milter_txn;         /* ... a MAIL event was sent, no message yet */
    char   *sasl_sender;        /* MAIL FROM AUTH= (RFC 4954), or NULL */
} SMTPD_STATE;

/* smtpd_peer.c */
void    smtpd_peer_init(SMTPD_STATE *state);
/* Set the peer from explicit values (tests, -d mode). */
void    smtpd_peer_free(SMTPD_STATE *state);
void    smtpd_peer_set(SMTPD_STATE *state, const char *name, const char *addr, const char *port);


/* smtpd_milter.c */
void    smtpd_milter_init(void);
void    smtpd_milter_connect(SMTPD_STATE *state);
const char *smtpd_milter_denied(const SMTPD_STATE *state);
int     smtpd_milter_helo(SMTPD_STATE *state, VSTRING *reply);
int     smtpd_milter_mail(SMTPD_STATE *state, const char *params, VSTRING *reply);
int     smtpd_milter_rcpt(SMTPD_STATE *state, const char *rcpt, const char *params,
                          VSTRING *reply);
int     smtpd_milter_data(SMTPD_STATE *state, VSTRING *reply);
void    smtpd_milter_unknown(SMTPD_STATE *state);
void    smtpd_milter_abort(SMTPD_STATE *state);
void    smtpd_milter_done(SMTPD_STATE *state);

/* smtpd_state.c */
void    smtpd_state_init(SMTPD_STATE *state, STREAM *client);
void    smtpd_state_mail_reset(SMTPD_STATE *state);
void    smtpd_state_free(SMTPD_STATE *state);

/* smtpd_proto.c */
void    smtpd_proto_session(SMTPD_STATE *state);

/* smtpd_chat.c */
void    smtpd_chat_reply(SMTPD_STATE *state, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
void    smtpd_chat_reply_timeout(SMTPD_STATE *state);  /* 421 after a read timeout */
void    smtpd_chat_reply_multi(SMTPD_STATE *state, ARGV *lines); /* "250-" ... "250 " */
/* smtpd_space.c: 0, or -1 with the 452 4.3.1 reply (logged). */
int     smtpd_space_check(SMTPD_STATE *state, VSTRING *reply);
int     smtpd_space_ok(unsigned long block_size, unsigned long blocks_free,
                       long minfree, long size_limit, long msg_size);
int     smtpd_chat_flush(SMTPD_STATE *state);
/* smtpd_per_request_deadline: start one (in_data: with smtpd_min_data_rate). */
void    smtpd_chat_deadline(SMTPD_STATE *state, int in_data);
/* Read one command line into state->buffer (CR/LF stripped). 1 = ok,
 * 0 = EOF/lost, -1 = timeout/error. Sets *bare_lf when it ended in bare LF. */
int     smtpd_chat_read_command(SMTPD_STATE *state, int *bare_lf);
void    smtpd_chat_log_lost(SMTPD_STATE *state, const char *what);
void    smtpd_chat_log_bad_address(SMTPD_STATE *state, const char *command, const char *text);
void    smtpd_chat_log_reject(SMTPD_STATE *state, const char *reply);
void    smtpd_chat_log_action(SMTPD_STATE *state, const char *action, const char *text);
void    smtpd_chat_log_disconnect(SMTPD_STATE *state);
/* "host[addr]" or with the queue id "ID" / "NOQUEUE". */
const char *smtpd_chat_queue_label(const SMTPD_STATE *state);

/* smtpd_esmtp.c */
typedef struct SMTPD_MAIL_ARGS {
    long    size;               /* -1 absent */
    const char *body;           /* "7bit", "8bitmime" or NULL */
    int     ret;                /* DSN_RET_* or 0 */
    char   *envid;              /* decoded xtext, allocated */
    int     smtputf8;
    char   *auth;               /* AUTH= value as sent, allocated, or NULL */
} SMTPD_MAIL_ARGS;

typedef struct SMTPD_RCPT_ARGS {
    int     notify;             /* DSN_NOTIFY_* bits or 0 */
    char   *orcpt;              /* "rfc822;addr", allocated, or NULL */
} SMTPD_RCPT_ARGS;

/* The text after "MAIL FROM:" / "RCPT TO:" (case-insensitive keyword). */
const char *smtpd_esmtp_keyword(const char *line, const char *keyword);
/* Parse parameters; on error returns -1 and a reply in reply. */
int     smtpd_esmtp_mail_args(const char *params, SMTPD_MAIL_ARGS *args,
                              long size_limit, VSTRING *reply);
int     smtpd_esmtp_rcpt_args(const char *params, SMTPD_RCPT_ARGS *args, VSTRING *reply);
void    smtpd_esmtp_mail_args_free(SMTPD_MAIL_ARGS *args);
void    smtpd_esmtp_rcpt_args_free(SMTPD_RCPT_ARGS *args);

/* smtpd_check.c: return 0 (accept) or -1 with the reply in reply (and logged) */
int     smtpd_check_rcpt(SMTPD_STATE *state, const char *rcpt, VSTRING *reply);
/* Open the check_*_access tables of all restriction lists (pre_init, before chroot). */
void    smtpd_check_preopen(void);
/* Fatal unless the relay/recipient restrictions can stop relaying (pre_init). */
void    smtpd_check_relay_safety(void);
int     smtpd_check_vrfy(SMTPD_STATE *state, const char *rcpt, VSTRING *reply);

/* smtpd_cleanup.c */
int     smtpd_cleanup_open(SMTPD_STATE *state);     /* 0 / -1 */
int     smtpd_cleanup_rcpt(SMTPD_STATE *state, const char *rcpt, const SMTPD_RCPT_ARGS *args);
int     smtpd_cleanup_begin_content(SMTPD_STATE *state);
int     smtpd_cleanup_line(SMTPD_STATE *state, int rec_type, const char *data, size_t len);
/* Finish the message; puts the final reply in reply. Returns 0 if queued. */
int     smtpd_cleanup_finish(SMTPD_STATE *state, VSTRING *reply);
void    smtpd_cleanup_abort(SMTPD_STATE *state);
/* The Received: header lines (without newline) into lines. */
void    smtpd_cleanup_received(const SMTPD_STATE *state, const char *myhostname,
                               const char *mail_name, ARGV *lines);

/* smtpd_xforward.c */
int     smtpd_xforward_allowed(SMTPD_STATE *state);
int     smtpd_xforward_cmd(SMTPD_STATE *state, int argc, char **argv);
void    smtpd_xforward_reset(SMTPD_STATE *state);
/* The up-stream client's attributes when XFORWARD gave them, else ours. */
#define SMTPD_FWD(s, f, dflt)   ((s)->xforward.active ? (s)->xforward.f : (dflt))
#define SMTPD_FWD_NAME(s)       SMTPD_FWD(s, name, (s)->name)
#define SMTPD_FWD_ADDR(s)       SMTPD_FWD(s, addr, (s)->addr)
#define SMTPD_FWD_PORT(s)       SMTPD_FWD(s, port, (s)->port)
#define SMTPD_FWD_NAMADDR(s)    SMTPD_FWD(s, namaddr, (s)->namaddr)
#define SMTPD_FWD_PROTO(s)      SMTPD_FWD(s, proto, (s)->protocol)
#define SMTPD_FWD_HELO(s)       SMTPD_FWD(s, helo, (s)->helo_name)
/* smtpd_data.c: the message content reader (usable without a session) */
typedef int (*SMTPD_LINE_FN)(void *ctx, int rec_type, const char *data, size_t len);

#define SMTPD_DATA_END      0   /* end-of-data seen */
#define SMTPD_DATA_EOF      1   /* client went away */
#define SMTPD_DATA_TIMEOUT  2
#define SMTPD_DATA_BARE_LF  3   /* bare LF in reject mode: stop reading */

typedef struct SMTPD_DATA_IN {
    int     bare_lf_mode;       /* SMTPD_BARE_LF_* */
    size_t  line_limit;         /* line_length_limit: longer lines become CONT pieces */
    long    bytes;              /* octets read from the client */
} SMTPD_DATA_IN;

int     smtpd_data_read(STREAM *in, SMTPD_DATA_IN *din, SMTPD_LINE_FN fn, void *ctx);

/* BDAT: feed chunk bytes; lines go to fn; final flushes a partial line. */
void    smtpd_data_bdat_init(SMTPD_BDAT_IN *bin, int bare_lf_mode, size_t line_limit);
void    smtpd_data_bdat_free(SMTPD_BDAT_IN *bin);
int     smtpd_data_bdat_feed(SMTPD_BDAT_IN *bin, const char *data, size_t len,
                             SMTPD_LINE_FN fn, void *ctx);
int     smtpd_data_bdat_finish(SMTPD_BDAT_IN *bin, SMTPD_LINE_FN fn, void *ctx);

/* smtpd_tls.c (see there) */
void    smtpd_tls_init(void);
int     smtpd_tls_offer(const SMTPD_STATE *state);
int     smtpd_tls_auth_allowed(const SMTPD_STATE *state);
int     smtpd_tls_required(SMTPD_STATE *state, int stat);       /* -1: replied 530 */
int     smtpd_tls_starttls(SMTPD_STATE *state, int argc, char **argv);
int     smtpd_tls_wrapper(SMTPD_STATE *state);                  /* -1: session over */
void    smtpd_tls_refuse(STREAM *client, const char *reply);
void    smtpd_tls_received(const SMTPD_STATE *state, ARGV *lines);
void    smtpd_tls_stop(SMTPD_STATE *state);

/* smtpd_data.c: the DATA and BDAT commands */
int     smtpd_data_cmd(SMTPD_STATE *state, int argc, char **argv);
int     smtpd_data_bdat_cmd(SMTPD_STATE *state, int argc, char **argv);

#endif
