/*
 * policy_spf.h - private interface of the SPF policy service's modules.
 *
 *   policy-spf.c         main(): options, logging, the request loop
 *   policy_spf_request.c reading one policy delegation request (the
 *                        "name=value" lines ended by an empty line)
 *   policy_spf_decide.c  the action for a request: skip addresses, the
 *                        HELO and MAIL FROM checks, reject/defer/prepend
 *                        by the configured levels, the per-message cache
 *   policy_spf_check.c   the SPF evaluation itself (libspf2)
 *
 * Only policy_spf_check.c knows libspf2: the rest sees a result code and
 * a reason text, so the parser and the decisions link into unit tests and
 * fuzzers without the library.
 *
 * SECURITY: requests come from smtpd over the spawn socket; every value is
 * client-controlled (HELO name, sender, recipient). The reader bounds the
 * line length and the attribute count; values are stored lower-cased and
 * anything but printable ASCII is replaced before it goes into a reply
 * or a header. DNS answers reach the output only as libspf2's result
 * code and its error message, sanitised the same way.
 *
 * DIAGNOSTICS: none here; see the DIAGNOSTICS of each module.
 */
#ifndef POSTHORN_POLICY_SPF_H
#define POSTHORN_POLICY_SPF_H

#include "cidr_match.h"
#include "stream.h"
#include "vstring.h"

#define POLICY_SPF_LINE_MAX   4096      /* one request attribute line */
#define POLICY_SPF_ATTR_MAX   100       /* attributes in one request */
#define POLICY_SPF_REASON_MAX 200       /* a result's reason text */

/* The attributes the service uses; values lower-cased, "" when absent. */
typedef struct POLICY_SPF_REQ {
    VSTRING *request;           /* "smtpd_access_policy" */
    VSTRING *protocol_state;    /* RCPT, DATA, ... (case kept) */
    VSTRING *client_address;
    VSTRING *helo_name;
    VSTRING *sender;
    VSTRING *recipient;
    VSTRING *instance;          /* one value per message (case kept) */
} POLICY_SPF_REQ;

POLICY_SPF_REQ *policy_spf_req_alloc(void);
void    policy_spf_req_free(POLICY_SPF_REQ *req);

/*
 * One request from in: 1 when one was read, 0 at end of input before
 * any line, -1 on a protocol error (an overlong line, a line without
 * '=', more than POLICY_SPF_ATTR_MAX attributes, end of input or a
 * timeout inside a request); why then says what.
 */
int     policy_spf_read(STREAM *in, POLICY_SPF_REQ *req, const char **why);

/* SPF results, in RFC 7208 terms. */
typedef enum POLICY_SPF_CODE {
    SPF_CODE_NONE, SPF_CODE_NEUTRAL, SPF_CODE_PASS, SPF_CODE_FAIL,
    SPF_CODE_SOFTFAIL, SPF_CODE_TEMPERROR, SPF_CODE_PERMERROR,
} POLICY_SPF_CODE;

typedef struct POLICY_SPF_RESULT {
    POLICY_SPF_CODE code;
    char    reason[POLICY_SPF_REASON_MAX];      /* "SPF fail - not authorized" */
} POLICY_SPF_RESULT;

/* The check: ip, HELO name, sender (postmaster@helo for the HELO identity). */
typedef void (*POLICY_SPF_CHECK_FN)(void *ctx, const char *ip, const char *helo,
                                    const char *sender, POLICY_SPF_RESULT *out);

/* Which results reject (per identity). */
#define SPF_REJECT_NONE      0  /* header only */
#define SPF_REJECT_FAIL      1
#define SPF_REJECT_SOFTFAIL  2  /* fail and softfail */
#define SPF_HELO_NO_CHECK    (-1)       /* HELO identity not checked */

typedef struct POLICY_SPF_CONF {
    int     helo_reject;        /* SPF_REJECT_* or SPF_HELO_NO_CHECK */
    int     mfrom_reject;       /* SPF_REJECT_* */
    int     temperror_defer;    /* temperror: DEFER_IF_PERMIT 4.7.24, else header */
    int     permerror_reject;   /* permerror: 550 5.7.24, else header */
    int     header_only;        /* never reject or defer (-n) */
    CIDR_MATCH *skip;           /* client networks not checked */
    int     skip_count;
} POLICY_SPF_CONF;

/* Parse one skip list ("127.0.0.0/8,::1", commas or spaces) into conf; -1 on a bad entry. */
int     policy_spf_add_skip(POLICY_SPF_CONF *conf, const char *list, VSTRING *why);

/* The service: configuration, checker and the one-message cache. */
typedef struct POLICY_SPF POLICY_SPF;

/* Takes over conf's skip list (policy_spf_free() frees it). */
POLICY_SPF *policy_spf_alloc(const POLICY_SPF_CONF *conf, POLICY_SPF_CHECK_FN check, void *ctx);
void    policy_spf_free(POLICY_SPF *ps);

/* The reply for one request: "action=...\n\n" text without the "action=". */
void    policy_spf_decide(POLICY_SPF *ps, const POLICY_SPF_REQ *req, VSTRING *action);

/* The names policyd-spf uses: "Pass", "Fail", ... */
const char *policy_spf_code_name(POLICY_SPF_CODE code);

/* libspf2 (policy_spf_check.c): ctx from policy_spf_check_init(). */
void   *policy_spf_check_init(void);
void    policy_spf_check_free(void *ctx);
void    policy_spf_check(void *ctx, const char *ip, const char *helo, const char *sender,
                         POLICY_SPF_RESULT *out);

#endif
