/*
 * cleanup.h - private interface of the cleanup daemon.
 *
 * cleanup.c            main(): single_server_main(cleanup_service)
 * cleanup_params.c     the parameters, read once (var_*)
 * cleanup_service.c    one client: queue file, greeting, records, reply
 * cleanup_envelope.c   state, record dispatch, envelope records
 * cleanup_message.c    message content: headers (added, removed, counted), body
 * cleanup_out.c        writing records, long lines, the final SIZE record
 * cleanup_map.c        canonical, masquerade and virtual alias mapping of
 *                      envelope and header addresses (CLEANUP_FLAG_MAP_OK)
 * cleanup_milter.c     milters at the end of the message: smtpd's (passed
 *                      with the message) or non_smtpd_milters; verdicts
 * cleanup_milter_edit.c  the content read back for milters, and their
 *                      modifications (the file rebuilt before it is ready)
 * cleanup_bounce.c     a permanent rejection of a local submission
 *                      (CLEANUP_FLAG_BOUNCE) becomes a bounce: bounce/ID
 *                      entries, recipients DONE, the file published
 * cleanup_checks.c     header_checks, mime_header_checks, nested_header_checks,
 *                      body_checks and their actions (CLEANUP_FLAG_FILTER),
 *                      milter_header_checks (headers from milters),
 *                      MIME boundary tracking, the extracted-section records
 *                      they produce (content filter, BCC, redirect)
 *
 * The record processing (cleanup_start/cleanup_record/cleanup_finish)
 * needs no socket: unit tests drive it on a temp file.
 *
 * DIAGNOSTICS: fatal only at start (bad parameter values, server.c). At
 * run time a problem is a warning with the queue id and the message is not
 * accepted: the client gets a status (temporary for a write error or a
 * table lookup problem, permanent for a rejected message), never an unsafe
 * queue file.
 */
#ifndef POSTHORN_CLEANUP_H
#define POSTHORN_CLEANUP_H

#include <sys/types.h>
#include <time.h>

#include "argv.h"
#include "htable.h"
#include "stream.h"
#include "vstring.h"

/* cleanup_params.c: read once, in pre_init (cleanup_params_init). */
void    cleanup_params_init(void);
extern long var_smtpd_rcpt_limit;           /* smtpd_recipient_limit */
extern long var_dup_filter_limit;           /* duplicate_filter_limit */
extern long var_message_limit;              /* message_size_limit */
extern long var_line_limit;                 /* line_length_limit */
extern long var_header_limit;               /* header_size_limit */
extern int var_replace_cr_lf;               /* cleanup_replace_stray_cr_lf */
extern long var_hopcount_limit;             /* hopcount_limit */
extern long var_delay_warn_time;            /* delay_warning_time */
extern const char *var_hfrom_format;        /* header_from_format */
extern int var_always_add_hdrs;             /* always_add_missing_headers */
extern const char *var_myhostname;          /* myhostname */
extern long var_ipc_timeout;                /* ipc_timeout */
extern long var_in_flow_delay;              /* in_flow_delay */
extern const char *var_remote_rwr_domain;   /* remote_header_rewrite_domain */
extern const char *var_header_checks;       /* header_checks */
extern const char *var_mimehdr_checks;      /* mime_header_checks */
extern const char *var_nesthdr_checks;      /* nested_header_checks */
extern const char *var_body_checks;         /* body_checks */
extern long var_body_check_len;             /* body_checks_size_limit */
extern long var_mime_maxdepth;              /* mime_nesting_limit */
extern int var_disable_mime_input;          /* disable_mime_input_processing */
extern const char *var_send_canon_maps;     /* sender_canonical_maps */
extern const char *var_rcpt_canon_maps;     /* recipient_canonical_maps */
extern const char *var_canonical_maps;      /* canonical_maps */
extern const char *var_virt_alias_maps;     /* virtual_alias_maps */
extern const char *var_send_canon_classes;  /* sender_canonical_classes */
extern const char *var_rcpt_canon_classes;  /* recipient_canonical_classes */
extern const char *var_canon_classes;       /* canonical_classes */
extern const char *var_masq_classes;        /* masquerade_classes */
extern const char *var_masq_domains;        /* masquerade_domains */
extern const char *var_masq_exceptions;     /* masquerade_exceptions */
extern long var_virt_recur_limit;           /* virtual_alias_recursion_limit */
extern long var_virt_expan_limit;           /* virtual_alias_expansion_limit */
extern const char *var_prop_extension;      /* propagate_unmatched_extensions */
extern const char *var_non_smtpd_milters;   /* non_smtpd_milters */
extern const char *var_milt_head_checks;    /* milter_header_checks */

/* Address rewriting hook: rewrite_clnt() in the daemon, rewrite_addr() in tests;
 * called through cleanup_rewrite_addr(), which keeps a per-message cache. */
typedef int (*CLEANUP_REWRITE_FN)(const char *rule, const char *addr, VSTRING *out);

#define CLEANUP_RW_CACHE    4       /* rewrite answers remembered per message */

#define CLEANUP_SECT_ENVELOPE  0
#define CLEANUP_SECT_CONTENT   1
#define CLEANUP_SECT_EXTRA     2
#define CLEANUP_SECT_DONE      3

/* Header bits in headers_seen. */
#define CLEANUP_HDR_MESSAGE_ID         (1 << 0)
#define CLEANUP_HDR_DATE               (1 << 1)
#define CLEANUP_HDR_FROM               (1 << 2)
#define CLEANUP_HDR_RESENT_MESSAGE_ID  (1 << 3)
#define CLEANUP_HDR_RESENT_DATE        (1 << 4)
#define CLEANUP_HDR_RESENT_FROM        (1 << 5)

#define CLEANUP_ENV_RECORD_MAX   4096       /* one envelope record */
#define CLEANUP_ATTR_MAX         1000       /* ATTR records per message */

typedef struct CLEANUP_MIME CLEANUP_MIME;   /* MIME structure of the body */
struct MILTERS;

/* Header classes for the content checks. */
#define CLEANUP_HDR_PRIMARY    0    /* the message headers: header_checks */
#define CLEANUP_HDR_MULTIPART  1    /* MIME part headers: mime_header_checks */
#define CLEANUP_HDR_NESTED     2    /* attached message headers: nested_header_checks */

/* Results of a header check. */
#define CLEANUP_CHECK_KEEP     0    /* write the (possibly replaced) header */
#define CLEANUP_CHECK_DROP     1    /* IGNORE: drop it */

typedef struct CLEANUP_STATE {
    char   *queue_id;
    STREAM *dst;                /* the queue file */
    int     flags;              /* CLEANUP_FLAG_* from the client */
    int     errs;               /* CLEANUP_STAT_* */
    VSTRING *reason;            /* SMTP reply text for errs, or empty */
    int     section;            /* CLEANUP_SECT_* */
    CLEANUP_REWRITE_FN rewrite;
    struct {                    /* the last rewrite answers (cleanup_rewrite_addr) */
        char   *rule, *addr, *result;
    } rw_cache[CLEANUP_RW_CACHE];
    int     rw_next;            /* the slot to fill next */

    /* Envelope. */
    int     have_time;
    long    time_sec, time_usec;
    int     have_from;
    char   *sender;             /* rewritten */
    char   *fullname;
    VSTRING *orcp;              /* pending ORCP / DSN records for the next RCPT */
    VSTRING *dsn_orcpt;
    VSTRING *dsn_notify;
    int     have_orcp, have_dsn_orcpt, have_dsn_notify;
    long    rcpt_count;
    int     notify_any;         /* DSN NOTIFY bits of all recipients, ORed */
    long    rcpt_seen;
    long    rcpt_max;
    int     attr_count;
    const char *hdr_context;    /* "local", "remote" or NULL: header rewriting/adding */
    HTABLE *dups;               /* recipients seen (duplicate filter) */
    size_t  dup_limit;          /* duplicate_filter_limit: at most this many */

    /* Offsets in the queue file. */
    off_t   data_offset;        /* first content record */
    off_t   xtra_offset;        /* the XTRA record */

    /* Content. */
    long    size_limit;         /* message_size_limit, 0 = none */
    long    content_bytes;
    size_t  line_limit;         /* line_length_limit: longer lines become CONT pieces */
    size_t  header_limit;       /* header_size_limit */
    int     replace_cr_lf;      /* cleanup_replace_stray_cr_lf */
    int     hop_limit;
    int     in_headers;
    int     line_open;          /* header phase: the physical line continues */
    VSTRING *line;              /* header phase: current physical line */
    VSTRING *header;            /* current logical (possibly folded) header */
    VSTRING *scratch;
    int     headers_seen;
    int     resent;
    int     hops;
    int     msgid_logged;
    VSTRING *addr;              /* rewrite output */

    /* Logging context for content checks (from ATTR records). */
    char   *client_name, *client_addr, *helo_name, *proto_name;
    char   *first_rcpt;         /* first recipient as received, for "to=<>" */

    /* Address mapping. */
    ARGV   *rcpt_list;          /* scratch: one recipient's expansion */
    off_t  *rcpt_offs;          /* offsets of the envelope RCPT records */
    size_t  rcpt_noffs, rcpt_coffs;

    /* Content checks. */
    int     checks_off;         /* DISCARD or a reject: no more checks */
    char   *filter;             /* FILTER transport:nexthop */
    char   *redirect;           /* REDIRECT address */
    ARGV   *bcc;                /* BCC addresses */
    CLEANUP_MIME *mime;

    int     bounced;            /* bounce/ID written (cleanup_bounce.c) */

    /* Milters (cleanup_milter.c). */
    struct MILTERS *milters;    /* smtpd's, or non_smtpd_milters */
    int     milters_smtpd;      /* smtpd's: closed without QUIT */
} CLEANUP_STATE;

/* cleanup_envelope.c */
CLEANUP_STATE *cleanup_state_alloc(const char *queue_id, STREAM *dst);
void    cleanup_state_free(CLEANUP_STATE *state);
int     cleanup_start(CLEANUP_STATE *state);       /* SIZE placeholder; 0 or -1 */
/* One record from the client: 0 = more, 1 = END seen, -1 = protocol error. */
int     cleanup_record(CLEANUP_STATE *state, int type, const char *data, size_t len);
size_t  cleanup_record_max(const CLEANUP_STATE *state);
/* Where an envelope RCPT record starts (state->rcpt_offs). */
void    cleanup_rcpt_offset_add(CLEANUP_STATE *state, off_t offset);
/* state->rewrite(rule, addr, out) behind the message's small cache; 0 or -1. */
int     cleanup_rewrite_addr(CLEANUP_STATE *state, const char *rule, const char *addr,
                             VSTRING *out);
/* XTRA..END, the final SIZE record, flush and fsync; returns state->errs. */
int     cleanup_finish(CLEANUP_STATE *state);

/* cleanup_message.c */
int     cleanup_message(CLEANUP_STATE *state, int type, const char *data, size_t len);
void    cleanup_message_end(CLEANUP_STATE *state);

/* cleanup_out.c */
void    cleanup_out(CLEANUP_STATE *state, int type, const char *data, size_t len);
void    cleanup_out_str(CLEANUP_STATE *state, int type, const char *str);
void    cleanup_out_line(CLEANUP_STATE *state, const char *data, size_t len);
void    cleanup_out_header(CLEANUP_STATE *state, const char *text, size_t len);
int     cleanup_out_final(CLEANUP_STATE *state);

/* cleanup_map.c */
/* Envelope sender: canonical + masquerading into state->addr (after the
 * "local" rewrite); 0, or -1 when a table failed (state->errs set). */
int     cleanup_map_sender(CLEANUP_STATE *state);
/* Open the tables now (pre_init, before the chroot); later calls do nothing. */
void    cleanup_map_load(void);
void    cleanup_checks_load(void);
/* Envelope recipient in state->addr: canonical, masquerading, then
 * virtual alias expansion into state->rcpt_list; 0 or -1 (errs set). */
int     cleanup_map_rcpt(CLEANUP_STATE *state);
/* Rewrite the addresses of the logical header in state->header when it
 * is a sender or recipient header and headers may be rewritten. */
void    cleanup_map_header(CLEANUP_STATE *state, int hdr_flags);

/* cleanup_checks.c */
/* Check state->header (header_checks etc. by class); may replace it or
 * write PREPEND text. CLEANUP_CHECK_KEEP or _DROP. */
int     cleanup_checks_header(CLEANUP_STATE *state, int hdr_class);
/* The primary header section ended (MIME: look at Content-Type). */
void    cleanup_checks_headers_end(CLEANUP_STATE *state);
/* One body record: MIME part headers, body_checks, then written as it
 * came; type CLEANUP_REC_LINE is a whole line that is written as CONT
 * pieces of line_length_limit and a NORM record. */
#define CLEANUP_REC_LINE (-1)
void    cleanup_checks_body(CLEANUP_STATE *state, int type, const char *data, size_t len);
/* End of content: flush an unfinished MIME part header. */
void    cleanup_checks_content_end(CLEANUP_STATE *state);
/* Records for the extracted section (after XTRA): filter, redirect, BCC. */
void    cleanup_checks_extracted(CLEANUP_STATE *state);
void    cleanup_checks_free(CLEANUP_STATE *state);
/* milter_header_checks on a header a milter added or changed ("Name: value"). */
void    cleanup_checks_milter_header(CLEANUP_STATE *state, const char *text);
/* Remember the ATTR name=value for log lines. */
void    cleanup_checks_attr(CLEANUP_STATE *state, const char *name, const char *value);

/* Log line parts: "host[addr]" or "local"; " from=<> to=<> proto= helo=<>". */
void    cleanup_log_client(const CLEANUP_STATE *state, VSTRING *line);
void    cleanup_log_envelope(const CLEANUP_STATE *state, VSTRING *line);

/* cleanup_bounce.c */
/* CLEANUP_FLAG_BOUNCE and only permanent content errors (reject, size, hops). */
int     cleanup_bounce_wanted(const CLEANUP_STATE *state);
/* Finish the file, log a bounce for every recipient and mark them DONE;
 * 0 (errs cleared: publish it and reply "queued") or the errs to report. */
int     cleanup_bounce(CLEANUP_STATE *state);
/* Remove bounce/ID again (the file is not published after all). */
void    cleanup_bounce_undo(CLEANUP_STATE *state);

/* cleanup_milter.c */
void    cleanup_milter_init(void);              /* the milter_* parameters */
int     cleanup_milter_receive(CLEANUP_STATE *state, STREAM *client);
void    cleanup_milter_local(CLEANUP_STATE *state); /* non_smtpd_milters */
void    cleanup_milter_run(CLEANUP_STATE *state);   /* before END */
void    cleanup_milter_free(CLEANUP_STATE *state);
long    cleanup_milter_failed(const CLEANUP_STATE *state);  /* for the reply */
void    cleanup_milter_quarantine(CLEANUP_STATE *state, const char *reason);

/* cleanup_milter_edit.c: the content as milters see it, and the edits. */
typedef struct CLEANUP_MILTER_MSG {
    STREAM *fp;                 /* the queue file again, read-only */
    ARGV   *headers;            /* logical headers, lines joined by '\n' */
    off_t   body_offset;        /* first record after the headers */
    off_t   body_start;         /* ... after the empty line, if any: the milter's body */
    off_t   end;                /* the XTRA record */
    VSTRING *chunk;             /* next body chunk, CRLF line ends */
    VSTRING *buf;
    int     error;
} CLEANUP_MILTER_MSG;
int     cleanup_milter_msg_open(CLEANUP_STATE *state, CLEANUP_MILTER_MSG *msg);
int     cleanup_milter_msg_body(CLEANUP_STATE *state, CLEANUP_MILTER_MSG *msg);
void    cleanup_milter_msg_close(CLEANUP_MILTER_MSG *msg);
int     cleanup_milter_msg_error(CLEANUP_STATE *state, const CLEANUP_MILTER_MSG *msg);
void    cleanup_milter_rcpts(CLEANUP_STATE *state, ARGV *rcpts);
struct MILTER;
struct MILTER_EDITS;
void    cleanup_milter_edit(CLEANUP_STATE *state, const struct MILTER *m,
                            const struct MILTER_EDITS *edits);

/* cleanup_service.c */
void    cleanup_service(STREAM *client);

#endif
