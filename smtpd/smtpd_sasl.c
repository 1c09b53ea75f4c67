/*
 * smtpd_sasl.c - SMTP AUTH (RFC 4954) in smtpd: the AUTH command, the
 * EHLO keyword, the login's effects; the authentication itself is done
 * by Dovecot's auth server (smtpd_sasl_dovecot.c) or Cyrus SASL
 * (smtpd_sasl_cyrus.c), behind one small table (SASL_IMPL).
 *
 * Interface: smtpd_sasl.h.
 *
 * Parameters (Postfix's names and defaults): smtpd_sasl_auth_enable,
 * smtpd_sasl_type (dovecot or cyrus; another value is refused: 421 4.3.5
 * and "fatal: unsupported SASL server implementation", so a site that
 * asked for AUTH never runs without it), smtpd_sasl_path (dovecot: the
 * socket, relative to the queue directory, e.g. private/auth; cyrus: the
 * application name, "smtpd" -> smtpd.conf), cyrus_sasl_config_path,
 * smtpd_sasl_service, smtpd_sasl_local_domain (Cyrus realm; not used
 * with Dovecot, as in Postfix), smtpd_sasl_security_options and
 * smtpd_sasl_tls_security_options (after STARTTLS): noplaintext,
 * noactive, nodictionary, noanonymous, forward_secrecy, mutual_auth
 * (Dovecot: filtering by its mechanism flags; Cyrus: its security
 * flags), smtpd_tls_auth_only (smtpd_tls.c: no AUTH before STARTTLS),
 * broken_sasl_auth_clients (a second "250-AUTH=..." line),
 * smtpd_sasl_authenticated_header, smtpd_sasl_response_limit,
 * smtpd_client_auth_rate_limit (anvil, smtpd_anvil.c),
 * smtpd_sasl_exceptions_networks (clients not offered AUTH: "503 5.5.1
 * Error: authentication not enabled").
 *
 * Replies and log lines are Postfix's: "235 2.7.0 Authentication
 * successful", "535 5.7.8 Error: authentication failed: REASON" with
 * "warning: host[addr]: SASL MECH authentication failed: REASON,
 * sasl_username=USER", "501 5.7.0 Authentication aborted", "503 5.5.1
 * Error: already authenticated", "504 5.5.4 Encryption required for
 * requested authentication mechanism", "454 4.7.0 Temporary
 * authentication failure: ..."; the "client=" line of a message gets
 * ", sasl_method=MECH, sasl_username=USER" and Received: says ESMTPA
 * (ESMTPSA under TLS).
 *
 * The auth server connection (Cyrus: the connection context) is made
 * when a session starts (Postfix: "fatal: no SASL authentication
 * mechanisms" when it cannot be made) and closed at the end; an aborted
 * or broken exchange, and STARTTLS, close it and it is made again when
 * needed.
 *
 * SECURITY: the client's mechanism name must be one the server offered
 * (after filtering), its responses must be base64 and at most
 * smtpd_sasl_response_limit bytes. The login name comes from the
 * authentication server (made printable there). An authenticated
 * session is trusted by permit_sasl_authenticated only; STARTTLS forgets
 * the login (RFC 4954 section 4).
 *
 * DIAGNOSTICS: fatal at start with an unknown security option; refusal
 * (421 and fatal) with an unknown smtpd_sasl_type or when Cyrus SASL
 * cannot be initialized; fatal at session start when the auth server
 * cannot be reached (as Postfix); failed logins are warnings.
 */
#include <netdb.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "netmatch.h"
#include "record.h"
#include "smtpd_anvil.h"
#include "smtpd_policy.h"
#include "smtpd_sasl.h"
#include "user_acl.h"

static int var_smtpd_sasl_enable;
static const char *var_smtpd_sasl_type;
static const char *var_smtpd_sasl_path;
static const char *var_smtpd_sasl_service;
static const char *var_smtpd_sasl_opts;
static const char *var_smtpd_sasl_tls_opts;
static int var_broken_auth_clients;
static int var_smtpd_sasl_auth_hdr;
static long var_smtpd_sasl_resp_limit;
static const char *var_smtpd_sasl_local_domain;
static const char *var_cyrus_sasl_conf_path;
static const char *var_smtpd_sasl_exceptions;
static const char *var_smtpd_sasl_mech_filter;
static NETMATCH *sasl_exceptions;       /* smtpd_sasl_exceptions_networks */

static const CONFIG_VAR smtpd_sasl_vars[] = {
    CONFIG_VAR_BOOL("smtpd_sasl_auth_enable", &var_smtpd_sasl_enable),
    CONFIG_VAR_STR("smtpd_sasl_type", &var_smtpd_sasl_type),
    CONFIG_VAR_STR("smtpd_sasl_path", &var_smtpd_sasl_path),
    CONFIG_VAR_STR("smtpd_sasl_service", &var_smtpd_sasl_service),
    CONFIG_VAR_STR("smtpd_sasl_security_options", &var_smtpd_sasl_opts),
    CONFIG_VAR_STR("smtpd_sasl_tls_security_options", &var_smtpd_sasl_tls_opts),
    CONFIG_VAR_BOOL("broken_sasl_auth_clients", &var_broken_auth_clients),
    CONFIG_VAR_BOOL("smtpd_sasl_authenticated_header", &var_smtpd_sasl_auth_hdr),
    CONFIG_VAR_INT("smtpd_sasl_response_limit", &var_smtpd_sasl_resp_limit),
    CONFIG_VAR_STR("smtpd_sasl_local_domain", &var_smtpd_sasl_local_domain),
    CONFIG_VAR_STR("cyrus_sasl_config_path", &var_cyrus_sasl_conf_path),
    CONFIG_VAR_STR("smtpd_sasl_exceptions_networks", &var_smtpd_sasl_exceptions),
    CONFIG_VAR_STR("smtpd_sasl_mechanism_filter", &var_smtpd_sasl_mech_filter),
    CONFIG_VAR_END,
};

static SASL_SEC sasl_sec, sasl_tls_sec;
static DOVECOT sasl_dovecot;

#define SASL_TIMEOUT 30         /* per read/write on the auth socket */

static void
smtpd_sasl_parse_opts(const char *name, const char *value, SASL_SEC *sec)
{
    static const struct {
        const char *word;
        int     forbid, require;
    } opts[] = {
        {"noplaintext", DOVECOT_MECH_PLAINTEXT, 0}, {"noactive", DOVECOT_MECH_ACTIVE, 0},
        {"nodictionary", DOVECOT_MECH_DICTIONARY, 0},
        {"noanonymous", DOVECOT_MECH_ANONYMOUS, 0},
        {"forward_secrecy", 0, DOVECOT_MECH_FORWARD_SECRECY},
        {"mutual_auth", 0, DOVECOT_MECH_MUTUAL_AUTH},
    };
    ARGV   *words = argv_split_list(value);
    size_t  j;

    memset(sec, 0, sizeof(*sec));
    for (size_t i = 0; i < words->argc; i++) {
        for (j = 0; j < sizeof(opts) / sizeof(opts[0]); j++)
            if (strcasecmp(words->argv[i], opts[j].word) == 0)
                break;
        if (j == sizeof(opts) / sizeof(opts[0]))
            msg_fatal("%s: unknown SASL security option \"%s\"", name, words->argv[i]);
        sec->forbid |= opts[j].forbid;
        sec->require |= opts[j].require;
    }
    argv_free(words);
}

/* smtpd_sasl_auth_enable, "auth" not in smtpd_discard_ehlo_keywords, and
 * the client not in smtpd_sasl_exceptions_networks */
static int
smtpd_sasl_enabled(const SMTPD_STATE *state)
{
    for (size_t i = 0; i < smtpd_conf.discard_ehlo->argc; i++)
        if (strcasecmp(smtpd_conf.discard_ehlo->argv[i], "auth") == 0)
            return 0;
    return var_smtpd_sasl_enable
        && (sasl_exceptions == NULL
            || netmatch_match(sasl_exceptions, state->name, state->addr) <= 0);
}

/* ---- the implementations: Dovecot's auth server, Cyrus SASL ------------- */

typedef struct SASL_IMPL {
    const char *type;
    int     (*open)(SMTPD_STATE *state);        /* 0 or -1 (logged) */
    int     (*is_open)(void);
    void    (*close)(void);
    void    (*mechs)(const SASL_SEC *sec, ARGV *list);
    /* SMTPD_SASL_* results; resp and chal are base64 (resp NULL: none) */
    int     (*start)(SMTPD_STATE *state, const char *mech, const char *resp,
                     VSTRING *chal, VSTRING *user, VSTRING *reason);
    int     (*step)(SMTPD_STATE *state, const char *resp, VSTRING *chal,
                    VSTRING *user, VSTRING *reason);
} SASL_IMPL;

static int
sasl_dovecot_open(SMTPD_STATE *state)
{
    return dovecot_connect(&sasl_dovecot, var_smtpd_sasl_path, SASL_TIMEOUT);
}

static int
sasl_dovecot_is_open(void)
{
    return sasl_dovecot.stream != NULL;
}

static void
sasl_dovecot_close(void)
{
    dovecot_close(&sasl_dovecot);
}

static void
sasl_dovecot_mechs(const SASL_SEC *sec, ARGV *list)
{
    for (size_t i = 0; i < sasl_dovecot.mech_count; i++) {
        const DOVECOT_MECH *m = &sasl_dovecot.mechs[i];

        if ((m->flags & sec->forbid) == 0 && (m->flags & sec->require) == sec->require)
            argv_add(list, m->name);
    }
}

static int
sasl_dovecot_start(SMTPD_STATE *state, const char *mech, const char *resp, VSTRING *chal,
                   VSTRING *user, VSTRING *reason)
{
    char    lip[NI_MAXHOST] = "";

    smtpd_policy_server_addr(state, lip, sizeof(lip), NULL, 0);
    if (dovecot_auth(&sasl_dovecot, mech, var_smtpd_sasl_service, lip, state->addr,
                     state->tls != NULL, resp) != 0)
        return SMTPD_SASL_ERROR;
    return dovecot_reply(sasl_dovecot.stream, sasl_dovecot.id, chal, user, reason);
}

static int
sasl_dovecot_step(SMTPD_STATE *state, const char *resp, VSTRING *chal, VSTRING *user,
                  VSTRING *reason)
{
    if (dovecot_cont(&sasl_dovecot, resp) != 0)
        return SMTPD_SASL_ERROR;
    return dovecot_reply(sasl_dovecot.stream, sasl_dovecot.id, chal, user, reason);
}

static int
sasl_cyrus_open(SMTPD_STATE *state)
{
    char    lip[NI_MAXHOST] = "", lport[NI_MAXSERV] = "";

    smtpd_policy_server_addr(state, lip, sizeof(lip), lport, sizeof(lport));
    return cyrus_sasl_open(var_smtpd_sasl_service, var_smtpd_sasl_local_domain,
                           lip, lport, state->addr, state->port);
}

static int
sasl_cyrus_start(SMTPD_STATE *state, const char *mech, const char *resp, VSTRING *chal,
                 VSTRING *user, VSTRING *reason)
{
    return cyrus_sasl_start(mech, resp, chal, user, reason);
}

static int
sasl_cyrus_step(SMTPD_STATE *state, const char *resp, VSTRING *chal, VSTRING *user,
                VSTRING *reason)
{
    return cyrus_sasl_step(resp, chal, user, reason);
}

static const SASL_IMPL sasl_impls[] = {
    {"dovecot", sasl_dovecot_open, sasl_dovecot_is_open, sasl_dovecot_close,
     sasl_dovecot_mechs, sasl_dovecot_start, sasl_dovecot_step},
    {"cyrus", sasl_cyrus_open, cyrus_sasl_is_open, cyrus_sasl_close,
     cyrus_sasl_mechs, sasl_cyrus_start, sasl_cyrus_step},
};

static const SASL_IMPL *sasl_impl;      /* smtpd_sasl_type */

/* Open (again, after an aborted exchange or STARTTLS)? 0 or -1 (logged). */
static int
smtpd_sasl_ready(SMTPD_STATE *state)
{
    return sasl_impl->is_open() ? 0 : sasl_impl->open(state);
}

/* The mechanisms allowed by the security options in force and by
 * smtpd_sasl_mechanism_filter (a Postfix string list: names without
 * regard to case, !name, type:table, /file; empty: no filter): names
 * into list. What is not offered is refused at AUTH too. */
static void
smtpd_sasl_mechs(const SMTPD_STATE *state, ARGV *list)
{
    ARGV   *all = argv_alloc();

    sasl_impl->mechs(state->tls ? &sasl_tls_sec : &sasl_sec, all);
    for (size_t i = 0; i < all->argc; i++)
        if (*var_smtpd_sasl_mech_filter == 0
            || user_acl_match("smtpd_sasl_mechanism_filter", var_smtpd_sasl_mech_filter,
                              all->argv[i]) == 1)
            argv_add(list, all->argv[i]);
    argv_free(all);
}

/* As root, before the chroot: the options, the implementation. */
char   *
smtpd_sasl_init(void)
{
    size_t  i;

    config_read_vars(smtpd_sasl_vars);
    smtpd_sasl_parse_opts("smtpd_sasl_security_options", var_smtpd_sasl_opts, &sasl_sec);
    smtpd_sasl_parse_opts("smtpd_sasl_tls_security_options", var_smtpd_sasl_tls_opts,
                          &sasl_tls_sec);
    if (!var_smtpd_sasl_enable)
        return NULL;
    if (*var_smtpd_sasl_exceptions)
        sasl_exceptions = netmatch_create("smtpd_sasl_exceptions_networks",
                                          var_smtpd_sasl_exceptions);
    for (i = 0; i < sizeof(sasl_impls) / sizeof(sasl_impls[0]); i++)
        if (strcasecmp(sasl_impls[i].type, var_smtpd_sasl_type) == 0)
            sasl_impl = &sasl_impls[i];
    if (sasl_impl == NULL)
        return mem_printf("unsupported SASL server implementation: %s", var_smtpd_sasl_type);
    if (sasl_impl->open == sasl_cyrus_open
        && cyrus_sasl_init(var_smtpd_sasl_path, var_cyrus_sasl_conf_path) != 0)
        return mem_strdup("SASL per-process initialization failed");
    return NULL;
}

void
smtpd_sasl_reset(SMTPD_STATE *state)
{
    mem_free(state->sasl_method);
    mem_free(state->sasl_username);
    state->sasl_method = state->sasl_username = NULL;
    if (sasl_impl != NULL && sasl_impl->is_open())
        sasl_impl->close();             /* a new session, or after STARTTLS */
}

void
smtpd_sasl_connect(SMTPD_STATE *state)
{
    if (smtpd_sasl_enabled(state) && sasl_impl->open(state) != 0)
        msg_fatal("no SASL authentication mechanisms");
}

void
smtpd_sasl_disconnect(SMTPD_STATE *state)
{
    smtpd_sasl_reset(state);
}

void
smtpd_sasl_ehlo(SMTPD_STATE *state, ARGV *lines)
{
    ARGV   *mechs;
    VSTRING *line;

    if (!smtpd_sasl_enabled(state) || !smtpd_tls_auth_allowed(state)
        || smtpd_sasl_ready(state) != 0)
        return;
    mechs = argv_alloc();
    smtpd_sasl_mechs(state, mechs);
    if (mechs->argc > 0) {
        line = vstring_alloc(VSTRING_UNLIMITED);
        vstring_strcpy(line, "250 AUTH");
        for (size_t i = 0; i < mechs->argc; i++)
            vstring_sprintf_append(line, " %s", mechs->argv[i]);
        argv_add(lines, STR(line));
        if (var_broken_auth_clients) {
            STR(line)[8] = '=';         /* "250 AUTH=MECH ..." */
            argv_add(lines, STR(line));
        }
        vstring_free(line);
    }
    argv_free(mechs);
}

/* The checks before an exchange starts; -1 when replied. */
static int
smtpd_sasl_check_cmd(SMTPD_STATE *state, int argc)
{
    if (!smtpd_sasl_enabled(state)) {
        smtpd_chat_reply(state, "503 5.5.1 Error: authentication not enabled");
    } else if (state->helo_name == NULL) {
        smtpd_chat_reply(state, "503 5.5.1 Error: send HELO/EHLO first");
    } else if (state->sender != NULL) {
        smtpd_chat_reply(state, "503 5.5.1 Error: MAIL transaction in progress");
    } else if (!smtpd_tls_auth_allowed(state)) {
        smtpd_chat_reply(state, "504 5.5.4 Encryption required for requested "
                         "authentication mechanism");
    } else if (state->sasl_username != NULL) {
        smtpd_chat_reply(state, "503 5.5.1 Error: already authenticated");
    } else if (argc < 2 || argc > 3) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: AUTH mechanism");
    } else if (smtpd_anvil_auth(state) != 0) {          /* replied 450 */
    } else {
        return 0;
    }
    return -1;
}

/* A client response line (CRLF removed) into buf: 0, -1 lost, -2 too long. */
static int
smtpd_sasl_read_response(SMTPD_STATE *state, VSTRING *buf)
{
    size_t  max = (size_t) var_smtpd_sasl_resp_limit + 2;
    ssize_t n;
    int     too_long = 0;

    if (smtpd_chat_flush(state) != 0)
        return -1;
    while ((n = stream_gets(state->client, buf, max)) > 0 && STR(buf)[n - 1] != '\n')
        too_long = 1;
    if (n <= 0)
        return -1;
    while (LEN(buf) > 0 && (STR(buf)[LEN(buf) - 1] == '\n' || STR(buf)[LEN(buf) - 1] == '\r'))
        vstring_truncate(buf, LEN(buf) - 1);
    return too_long || LEN(buf) > (size_t) var_smtpd_sasl_resp_limit ? -2 : 0;
}

/* The mechanism as offered (the server's spelling, allocated), or NULL. */
static char *
smtpd_sasl_find_mech(const SMTPD_STATE *state, const char *name)
{
    ARGV   *mechs = argv_alloc();
    char   *found = NULL;

    smtpd_sasl_mechs(state, mechs);
    for (size_t i = 0; i < mechs->argc && found == NULL; i++)
        if (strcasecmp(mechs->argv[i], name) == 0)
            found = mem_strdup(mechs->argv[i]);
    argv_free(mechs);
    return found;
}

/*
 * The exchange: the first request, then challenges and responses until
 * the server says OK or FAIL. Returns the SMTPD_SASL_* result; reason
 * holds the failure text, user the login name (OK, and FAIL when the
 * server gives it). -2: the client aborted ("*") or went away (replied
 * or logged).
 */
static int
smtpd_sasl_exchange(SMTPD_STATE *state, const char *mech, const char *init,
                    VSTRING *user, VSTRING *reason)
{
    VSTRING *chal = vstring_alloc(DOVECOT_LINE_MAX);
    VSTRING *resp = vstring_alloc(VSTRING_UNLIMITED);
    int     st, rd;

    for (st = sasl_impl->start(state, mech, init, chal, user, reason);
         st == SMTPD_SASL_CONT;
         st = sasl_impl->step(state, STR(resp), chal, user, reason)) {
        smtpd_chat_reply(state, "334 %s", STR(chal));
        if ((rd = smtpd_sasl_read_response(state, resp)) == -1) {
            smtpd_chat_log_lost(state, "lost connection");
            state->quit = 1;
            st = -2;
            break;
        }
        if (rd == -2) {
            smtpd_chat_reply(state, "500 5.5.6 SASL response limit exceeded");
            st = -2;
            break;
        }
        if (strcmp(STR(resp), "*") == 0) {
            msg_warn("%s: SASL %s authentication aborted", state->namaddr, mech);
            smtpd_chat_reply(state, "501 5.7.0 Authentication aborted");
            st = -2;
            break;
        }
        if (!dovecot_base64_ok(STR(resp))) {
            vstring_strcpy(reason, "Invalid base64 data in continued response");
            st = SMTPD_SASL_ABORT_FAIL;
            break;
        }
    }
    vstring_free(chal);
    vstring_free(resp);
    return st;
}

static void
smtpd_sasl_failed(SMTPD_STATE *state, const char *mech, VSTRING *user, VSTRING *reason)
{
    if (LEN(reason) == 0)
        vstring_strcpy(reason, "(reason unavailable)");
    msg_warn("%s: SASL %.100s authentication failed: %s, sasl_username=%.100s",
             state->namaddr, mech, STR(reason), LEN(user) ? STR(user) : "(unavailable)");
    smtpd_chat_reply(state, "535 5.7.8 Error: authentication failed: %s", STR(reason));
}

int
smtpd_sasl_auth_cmd(SMTPD_STATE *state, int argc, char **argv)
{
    VSTRING *user, *reason;
    const char *resp = argc > 2 ? argv[2] : NULL;
    char   *mech = NULL;
    int     st;

    if (smtpd_sasl_check_cmd(state, argc) != 0)
        return -1;
    user = vstring_alloc(DOVECOT_LINE_MAX);
    reason = vstring_alloc(DOVECOT_LINE_MAX);
    if (resp && strcmp(resp, "=") == 0)
        resp = "";                      /* RFC 4954: an empty initial response */
    if (smtpd_sasl_ready(state) != 0) {
        vstring_strcpy(reason, "Can't connect to authentication server");
        st = SMTPD_SASL_TEMP;
    } else if ((mech = smtpd_sasl_find_mech(state, argv[1])) == NULL) {
        vstring_strcpy(reason, "Invalid authentication mechanism");
        st = SMTPD_SASL_FAIL;
    } else if (resp && !dovecot_base64_ok(resp)) {
        vstring_strcpy(reason, "Invalid base64 data in initial response");
        st = SMTPD_SASL_FAIL;
    } else {
        st = smtpd_sasl_exchange(state, mech, resp, user, reason);
    }
    if (st != SMTPD_SASL_OK && st != SMTPD_SASL_FAIL && st != SMTPD_SASL_TEMP
        && sasl_impl->is_open())
        sasl_impl->close();             /* an exchange may be pending: start over */
    if (st == SMTPD_SASL_ABORT_FAIL)
        st = SMTPD_SASL_FAIL;
    if (st == SMTPD_SASL_OK) {
        state->sasl_method = mech;
        mech = NULL;
        state->sasl_username = mem_strdup(STR(user));
        smtpd_chat_reply(state, "235 2.7.0 Authentication successful");
    } else if (st == SMTPD_SASL_FAIL) {
        smtpd_sasl_failed(state, mech ? mech : argv[1], user, reason);
    } else if (st == SMTPD_SASL_TEMP || st == SMTPD_SASL_ERROR) {
        if (st == SMTPD_SASL_ERROR)
            vstring_strcpy(reason, "Connection lost to authentication server");
        msg_warn("%s: SASL %.100s authentication failed: %s", state->namaddr,
                 mech ? mech : argv[1], STR(reason));
        smtpd_chat_reply(state, "454 4.7.0 Temporary authentication failure: %s",
                         STR(reason));
    }
    mem_free(mech);
    vstring_free(user);
    vstring_free(reason);
    return st == SMTPD_SASL_OK ? 0 : -1;
}

void
smtpd_sasl_log_suffix(const SMTPD_STATE *state, VSTRING *out)
{
    if (state->sasl_username)
        vstring_sprintf_append(out, ", sasl_method=%s, sasl_username=%s",
                               state->sasl_method, state->sasl_username);
    if (state->sasl_sender)
        vstring_sprintf_append(out, ", sasl_sender=%s", state->sasl_sender);
}

/*
 * MAIL FROM's AUTH= parameter (RFC 4954), taken over from the caller: kept
 * as the client sent it, as Postfix does (sasl_sender), with bytes outside
 * printable ASCII as '?'; "<>" and anything when AUTH is not offered to
 * this client are dropped.
 */
void
smtpd_sasl_mail_opt(SMTPD_STATE *state, char *auth)
{
    if (auth == NULL || strcmp(auth, "<>") == 0 || !smtpd_sasl_enabled(state)) {
        mem_free(auth);
        return;
    }
    for (char *cp = auth; *cp; cp++)
        if ((unsigned char) *cp < 0x21 || (unsigned char) *cp > 0x7e)
            *cp = '?';
    mem_free(state->sasl_sender);
    state->sasl_sender = auth;
}

/* Postfix's queue file records ("A" sasl_method=..., ...) for cleanup. */
void
smtpd_sasl_cleanup_attrs(const SMTPD_STATE *state, STREAM *cleanup)
{
    if (state->sasl_method)
        rec_printf(cleanup, REC_TYPE_ATTR, "%s=%s", ATTR_SASL_METHOD, state->sasl_method);
    if (state->sasl_username)
        rec_printf(cleanup, REC_TYPE_ATTR, "%s=%s", ATTR_SASL_USERNAME, state->sasl_username);
    if (state->sasl_sender)
        rec_printf(cleanup, REC_TYPE_ATTR, "%s=%s", ATTR_SASL_SENDER, state->sasl_sender);
}

void
smtpd_sasl_received(const SMTPD_STATE *state, ARGV *lines)
{
    char   *line;

    if (!var_smtpd_sasl_auth_hdr || state->sasl_username == NULL)
        return;
    line = mem_printf("\t(Authenticated sender: %s)", state->sasl_username);
    argv_add(lines, line);
    mem_free(line);
}
