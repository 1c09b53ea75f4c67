/*
 * milter.h - the client side of the Sendmail milter protocol (versions 2
 * to 6), as Postfix's smtpd_milters and non_smtpd_milters speak it.
 *
 * milter_proto.c   one milter: packets, option negotiation, the reply
 *                  parser (milter_reply_parse), events, end-of-message
 *                  modification replies
 * milter.c         the list of milters from a parameter value
 *                  ("inet:host:port, { unix:/path, default_action=accept }"),
 *                  events sent to each milter in turn, macros, the
 *                  milter_default_action of a milter that fails
 *
 * Where the events run (Postfix's split): smtpd sends connect, helo,
 * mail, rcpt, data and unknown-command events, and passes each milter
 * (its socket and negotiated state: milter_send/milter_receive) to
 * cleanup with the message; cleanup sends the headers, end of headers,
 * body and end of message from the queue file it wrote, and applies the
 * modifications. For sendmail/pickup mail cleanup runs every event
 * itself (non_smtpd_milters).
 *
 * Verdicts (MILTER_*): CONTINUE; ACCEPT (no more events of this message
 * for this milter); REJECT, TEMPFAIL (reply has the SMTP reply: the
 * milter's own SMFIR_REPLYCODE text, "550 5.7.1 Command rejected" or
 * "451 4.7.1 Service unavailable - try again later"); DISCARD; SHUTDOWN
 * (421). A milter that cannot be reached, times out or breaks the
 * protocol gets its default_action: tempfail, reject, accept (it is
 * skipped from then on) or quarantine (skipped, and the message goes to
 * the hold queue).
 *
 * SECURITY: a milter is another program, maybe on another host: every
 * packet length is checked against MILTER_PACKET_MAX before anything is
 * read, every string in a reply must be NUL-terminated inside its packet,
 * reply codes must be 4xx/5xx (cut at MILTER_REPLY_MAX and at the first
 * control character), header names printable without ':', addresses
 * and arguments without control characters, at most MILTER_EDITS_MAX
 * modifications and about message_size_limit bytes of them per message;
 * a modification the milter did not ask for at negotiation is a protocol
 * error. Each read and write has the
 * timeout of its stage.
 */
#ifndef POSTHORN_MILTER_H
#define POSTHORN_MILTER_H

#include "argv.h"
#include "stream.h"
#include "vstring.h"

/* Protocol constants (Sendmail's libmilter values). */
#define SMFIC_ABORT     'A'
#define SMFIC_BODY      'B'
#define SMFIC_CONNECT   'C'
#define SMFIC_MACRO     'D'
#define SMFIC_BODYEOB   'E'
#define SMFIC_HELO      'H'
#define SMFIC_HEADER    'L'
#define SMFIC_MAIL      'M'
#define SMFIC_EOH       'N'
#define SMFIC_OPTNEG    'O'
#define SMFIC_QUIT      'Q'
#define SMFIC_RCPT      'R'
#define SMFIC_DATA      'T'
#define SMFIC_UNKNOWN   'U'

#define SMFIR_ADDRCPT     '+'
#define SMFIR_DELRCPT     '-'
#define SMFIR_ADDRCPT_PAR '2'
#define SMFIR_SHUTDOWN    '4'
#define SMFIR_ACCEPT      'a'
#define SMFIR_REPLBODY    'b'
#define SMFIR_CONTINUE    'c'
#define SMFIR_DISCARD     'd'
#define SMFIR_CHGFROM     'e'
#define SMFIR_CONN_FAIL   'f'
#define SMFIR_ADDHEADER   'h'
#define SMFIR_INSHEADER   'i'
#define SMFIR_SETSYMLIST  'l'
#define SMFIR_CHGHEADER   'm'
#define SMFIR_PROGRESS    'p'
#define SMFIR_QUARANTINE  'q'
#define SMFIR_REJECT      'r'
#define SMFIR_SKIP        's'
#define SMFIR_TEMPFAIL    't'
#define SMFIR_REPLYCODE   'y'

/* Actions the milter may take (SMFIF_*). */
#define SMFIF_ADDHDRS     0x001
#define SMFIF_CHGBODY     0x002
#define SMFIF_ADDRCPT     0x004
#define SMFIF_DELRCPT     0x008
#define SMFIF_CHGHDRS     0x010
#define SMFIF_QUARANTINE  0x020
#define SMFIF_CHGFROM     0x040
#define SMFIF_ADDRCPT_PAR 0x080
#define SMFIF_SETSYMLIST  0x100

/* Protocol steps (SMFIP_*): events not sent, replies not expected. */
#define SMFIP_NOCONNECT   0x00000001
#define SMFIP_NOHELO      0x00000002
#define SMFIP_NOMAIL      0x00000004
#define SMFIP_NORCPT      0x00000008
#define SMFIP_NOBODY      0x00000010
#define SMFIP_NOHDRS      0x00000020
#define SMFIP_NOEOH       0x00000040
#define SMFIP_NR_HDR      0x00000080
#define SMFIP_NOUNKNOWN   0x00000100
#define SMFIP_NODATA      0x00000200
#define SMFIP_SKIP        0x00000400
#define SMFIP_RCPT_REJ    0x00000800
#define SMFIP_NR_CONN     0x00001000
#define SMFIP_NR_HELO     0x00002000
#define SMFIP_NR_MAIL     0x00004000
#define SMFIP_NR_RCPT     0x00008000
#define SMFIP_NR_DATA     0x00010000
#define SMFIP_NR_UNKN     0x00020000
#define SMFIP_NR_EOH      0x00040000
#define SMFIP_NR_BODY     0x00080000
#define SMFIP_HDR_LEADSPC 0x00100000
#define SMFIP_MDS_256K    0x10000000
#define SMFIP_MDS_1M      0x20000000

/* Macro stages (SMFIM_*, as in SETSYMLIST), plus unknown commands. */
#define MILTER_MAC_CONNECT  0
#define MILTER_MAC_HELO     1
#define MILTER_MAC_MAIL     2
#define MILTER_MAC_RCPT     3
#define MILTER_MAC_DATA     4
#define MILTER_MAC_EOM      5
#define MILTER_MAC_EOH      6
#define MILTER_MAC_UNKNOWN  7
#define MILTER_MAC_STAGES   8

#define MILTER_CHUNK_SIZE   65535           /* one body chunk */
#define MILTER_PACKET_MAX   (1024 * 1024 + 64)  /* longest packet accepted */
#define MILTER_MACROS_MAX   8192            /* one SETSYMLIST list */
#define MILTER_REPLY_MAX    512             /* an SMFIR_REPLYCODE text */
#define MILTER_EDITS_MAX    10000           /* modifications of one message */

/* Verdicts. */
#define MILTER_CONTINUE  0
#define MILTER_ACCEPT    1
#define MILTER_REJECT    2
#define MILTER_TEMPFAIL  3
#define MILTER_DISCARD   4
#define MILTER_SHUTDOWN  5

/* default_action */
#define MILTER_DEF_TEMPFAIL   0
#define MILTER_DEF_REJECT     1
#define MILTER_DEF_ACCEPT     2
#define MILTER_DEF_QUARANTINE 3

/* Per-milter state. */
#define MILTER_ST_CLOSED  0     /* not connected (yet) */
#define MILTER_ST_READY   1     /* takes events */
#define MILTER_ST_ACCEPT  2     /* accepted this message: none until the next one */
#define MILTER_ST_DONE    3     /* accepted or rejected the connection: no more */
#define MILTER_ST_ERROR   4     /* failed: its default_action answers */

/* One parsed reply packet (pointers into the packet buffer). */
typedef struct MILTER_REPLY {
    int     cmd;                /* SMFIR_* or SMFIC_OPTNEG */
    long    index;              /* INSHEADER, CHGHEADER */
    const char *name;           /* header name; address; reply or reason text */
    const char *value;          /* header value */
    const char *args;           /* ESMTP arguments (ADDRCPT_PAR, CHGFROM) or NULL */
    const char *data;           /* REPLBODY chunk, SETSYMLIST data */
    size_t  len;
    unsigned long version, actions, pflags;  /* OPTNEG */
} MILTER_REPLY;

/* Parse one packet (command byte + data); 0, or -1 when malformed. */
int     milter_reply_parse(const char *pkt, size_t len, MILTER_REPLY *reply);
/* A milter's SETSYMLIST data in an OPTNEG reply: lists[stage] (allocated). */
int     milter_symlist_parse(const char *data, size_t len, ARGV **lists);

/* One end-of-message modification. */
typedef struct MILTER_EDIT {
    int     cmd;                /* SMFIR_* */
    long    index;
    char   *name;               /* header name, address or quarantine reason */
    char   *value;              /* header value */
    char   *args;               /* ESMTP arguments */
} MILTER_EDIT;

typedef struct MILTER_EDITS {
    MILTER_EDIT *list;
    size_t  count, cap;
    VSTRING *body;              /* replacement body (SMFIR_REPLBODY) or NULL */
    int     body_overflow;
    size_t  body_max;
    size_t  bytes;              /* all modifications: at most body_max + a packet */
} MILTER_EDITS;

void    milter_edits_init(MILTER_EDITS *e, size_t body_max);
void    milter_edits_free(MILTER_EDITS *e);

typedef struct MILTER {
    char   *name;               /* inet:host:port, unix:/path */
    long    conn_timeout, cmd_timeout, content_timeout;
    int     def_action;         /* MILTER_DEF_* */
    int     protocol;           /* the version we offer: 2..6 */
    int     fd;                 /* -1 when closed */
    STREAM *fp;
    int     state;              /* MILTER_ST_* */
    unsigned long version, actions, pflags;  /* negotiated */
    int     hold;               /* quarantine default action happened */
    int     skip_body;          /* SMFIR_SKIP seen */
    ARGV   *symlist[MILTER_MAC_STAGES];    /* the milter's own lists, or NULL */
    VSTRING *pkt;               /* packet buffer */
} MILTER;

typedef struct MILTERS {
    MILTER **list;
    size_t  count;
    ARGV   *macros[MILTER_MAC_STAGES];     /* milter_*_macros */
    ARGV   *mac_vals;           /* name, value, name, value, ... */
} MILTERS;

/* Settings that apply to all milters of a list unless { ... } overrides. */
typedef struct MILTER_CONF {
    long    conn_timeout, cmd_timeout, content_timeout;
    const char *def_action;     /* milter_default_action */
    long    protocol;           /* milter_protocol */
    const char *macros[MILTER_MAC_STAGES];   /* milter_*_macros */
} MILTER_CONF;

/* milter_conf.c */
void    milter_conf_read(MILTER_CONF *conf);   /* the milter_* parameters, once */
void    milter_conf_macro_defaults(MILTERS *m); /* j, {daemon_name}, v */

/* milter.c */
/* NULL for an empty list; a syntax error is fatal (configuration). */
MILTERS *milters_create(const char *spec, const MILTER_CONF *conf);
void    milters_free(MILTERS *m);       /* sends QUIT to connected milters */
void    milters_free_keep(MILTERS *m);  /* closes without QUIT (cleanup: smtpd's) */
/* A macro value for the next events; name as listed ("j", "{daemon_name}"),
 * value NULL: undefined (not sent). */
void    milters_macro_set(MILTERS *m, const char *name, const char *value);
const char *milters_macro_get(const MILTERS *m, const char *name);
/* Pass the milters to cleanup after the END record (smtpd) and take
 * them there; 0 or -1. */
int     milters_send(STREAM *s, const MILTERS *m);
MILTERS *milters_receive(STREAM *s, const MILTER_CONF *conf);
int     milter_parse_action(const char *value);    /* MILTER_DEF_* or -1 */

/* Events to every milter that takes them, stopping at the first verdict
 * other than CONTINUE/ACCEPT; reply holds the SMTP reply of a REJECT,
 * TEMPFAIL or SHUTDOWN. argv: sender or recipient, then ESMTP args. */
int     milters_connect(MILTERS *m, const char *name, const char *addr,
                        const char *port, VSTRING *reply);
int     milters_helo(MILTERS *m, const char *helo, VSTRING *reply);
int     milters_mail(MILTERS *m, const char *const *argv, VSTRING *reply);
int     milters_rcpt(MILTERS *m, const char *const *argv, VSTRING *reply);
int     milters_data(MILTERS *m, VSTRING *reply);
int     milters_unknown(MILTERS *m, const char *cmd, VSTRING *reply);
void    milters_abort(MILTERS *m);      /* the transaction is over (RSET, error) */
int     milters_hold(const MILTERS *m); /* a quarantine default action applies */

/* milter_proto.c: one milter. */
int     milter_open(MILTER *m);                 /* connect + OPTNEG; 0 or -1 */
void    milter_close(MILTER *m, int quit);
/* One event: send macros and the command, read the reply unless NR_*. */
int     milter_event(MILTERS *ms, MILTER *m, int cmd, int stage,
                     const char *data, size_t len, VSTRING *reply);
/* Content (cleanup): a header "Name: value" (folded lines '\n'-separated),
 * end of headers, body bytes (CRLF lines; chunked here), end of message
 * with its modifications. */
int     milter_header(MILTERS *ms, MILTER *m, const char *text, size_t len, VSTRING *reply);
int     milter_eoh(MILTERS *ms, MILTER *m, VSTRING *reply);
int     milter_body(MILTERS *ms, MILTER *m, const char *data, size_t len, VSTRING *reply);
int     milter_eom(MILTERS *ms, MILTER *m, MILTER_EDITS *edits, VSTRING *reply);
/* The verdict for a failed milter (its default_action). */
int     milter_failed(MILTER *m, VSTRING *reply);

#endif
