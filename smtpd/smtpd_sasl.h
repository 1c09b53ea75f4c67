/*
 * smtpd_sasl.h - SMTP AUTH in smtpd: the AUTH command and what depends on
 * it (smtpd_sasl.c), and the Dovecot auth protocol client
 * (smtpd_sasl_dovecot.c).
 *
 *   smtpd_sasl_init()        pre_init: read the smtpd_sasl_* parameters;
 *                            returns a refusal text (an implementation
 *                            posthorn does not have) or NULL
 *   smtpd_sasl_connect()     session start: connect to the auth server
 *                            (fatal when that fails, as Postfix)
 *   smtpd_sasl_disconnect()  session end
 *   smtpd_sasl_ehlo()        the AUTH lines of the EHLO reply
 *   smtpd_sasl_auth_cmd()    the AUTH command
 *   smtpd_sasl_reset()       forget the login (after STARTTLS, session end)
 *   smtpd_sasl_log_suffix()  ", sasl_method=..., sasl_username=..." for
 *                            the "client=" log line
 *   smtpd_sasl_mail_opt()    MAIL FROM's AUTH= value: sasl_sender
 *   smtpd_sasl_cleanup_attrs()  the sasl_method, sasl_username and
 *                            sasl_sender records of the queue file
 *   smtpd_sasl_received()    "(Authenticated sender: ...)" Received: line
 *                            (smtpd_sasl_authenticated_header)
 *
 * SECURITY and DIAGNOSTICS: see the .c files.
 */
#ifndef POSTHORN_SMTPD_SASL_H
#define POSTHORN_SMTPD_SASL_H

#include "smtpd.h"

/* Results of an exchange step (both implementations). */
#define SMTPD_SASL_OK           0
#define SMTPD_SASL_CONT         1       /* a challenge for the client */
#define SMTPD_SASL_FAIL         2       /* bad credentials (reason) */
#define SMTPD_SASL_TEMP         3       /* try again later (reason) */
#define SMTPD_SASL_ABORT_FAIL   4       /* FAIL that leaves an exchange open */
#define SMTPD_SASL_ERROR        (-1)    /* I/O or protocol error */

/* smtpd_sasl_security_options as mechanism properties (DOVECOT_MECH_*) */
typedef struct SASL_SEC {
    int     forbid;             /* a mechanism must not have */
    int     require;            /* ... and must have */
} SASL_SEC;

char   *smtpd_sasl_init(void);
void    smtpd_sasl_connect(SMTPD_STATE *state);
void    smtpd_sasl_disconnect(SMTPD_STATE *state);
void    smtpd_sasl_ehlo(SMTPD_STATE *state, ARGV *lines);
int     smtpd_sasl_auth_cmd(SMTPD_STATE *state, int argc, char **argv);
void    smtpd_sasl_reset(SMTPD_STATE *state);
void    smtpd_sasl_log_suffix(const SMTPD_STATE *state, VSTRING *out);
void    smtpd_sasl_mail_opt(SMTPD_STATE *state, char *auth);
void    smtpd_sasl_cleanup_attrs(const SMTPD_STATE *state, STREAM *cleanup);
void    smtpd_sasl_received(const SMTPD_STATE *state, ARGV *lines);

/* smtpd_sasl_dovecot.c */
#define DOVECOT_LINE_MAX        16384   /* > smtpd_sasl_response_limit */
#define DOVECOT_FIELD_MAX       64
#define DOVECOT_MECH_MAX        32
#define DOVECOT_MECH_NAME_MAX   40

#define DOVECOT_MECH_ANONYMOUS          (1 << 0)
#define DOVECOT_MECH_PLAINTEXT          (1 << 1)
#define DOVECOT_MECH_DICTIONARY         (1 << 2)
#define DOVECOT_MECH_ACTIVE             (1 << 3)
#define DOVECOT_MECH_FORWARD_SECRECY    (1 << 4)
#define DOVECOT_MECH_MUTUAL_AUTH        (1 << 5)

typedef struct DOVECOT_MECH {
    char   *name;
    int     flags;              /* DOVECOT_MECH_* */
} DOVECOT_MECH;

typedef struct DOVECOT {
    STREAM *stream;             /* NULL: not connected */
    DOVECOT_MECH mechs[DOVECOT_MECH_MAX];
    size_t  mech_count;
    unsigned long id;           /* the last request's id */
} DOVECOT;

/* dovecot_reply() results */
#define DOVECOT_OK      SMTPD_SASL_OK
#define DOVECOT_CONT    SMTPD_SASL_CONT
#define DOVECOT_FAIL    SMTPD_SASL_FAIL
#define DOVECOT_TEMP    SMTPD_SASL_TEMP         /* FAIL with "temp" */
#define DOVECOT_ERROR   SMTPD_SASL_ERROR

int     dovecot_connect(DOVECOT *d, const char *path, int timeout);
int     dovecot_handshake(STREAM *s, DOVECOT *d, VSTRING *why);
void    dovecot_free_mechs(DOVECOT *d);
void    dovecot_close(DOVECOT *d);
int     dovecot_auth(DOVECOT *d, const char *mech, const char *service, const char *lip,
                     const char *rip, int secured, const char *resp);
int     dovecot_cont(DOVECOT *d, const char *resp);
int     dovecot_reply(STREAM *s, unsigned long id, VSTRING *data, VSTRING *user,
                      VSTRING *reason);
int     dovecot_base64_ok(const char *text);

/* smtpd_sasl_cyrus.c: Cyrus SASL (smtpd_sasl_type = cyrus). Base64 in and
 * out; SMTPD_SASL_* results. */
int     cyrus_sasl_init(const char *app_name, const char *config_path);
int     cyrus_sasl_open(const char *service, const char *realm, const char *lip,
                        const char *lport, const char *rip, const char *rport);
int     cyrus_sasl_is_open(void);
void    cyrus_sasl_close(void);
void    cyrus_sasl_mechs(const SASL_SEC *sec, ARGV *list);
int     cyrus_sasl_start(const char *mech, const char *resp, VSTRING *chal, VSTRING *user,
                         VSTRING *reason);
int     cyrus_sasl_step(const char *resp, VSTRING *chal, VSTRING *user, VSTRING *reason);

#endif
