/*
 * smtpd_sasl.c - SMTP AUTH (RFC 4954) in smtpd, with Dovecot's auth
 * server (smtpd_sasl_dovecot.c) doing the authentication.
 *
 * Interface: smtpd_sasl.h.
 *
 * Parameters (Postfix's names and defaults): smtpd_sasl_auth_enable,
 * smtpd_sasl_type (dovecot; "cyrus" is refused: 421 4.3.5 and a fatal
 * log line, so a site that asked for AUTH never runs without it),
 * smtpd_sasl_path (relative to the queue directory, e.g. private/auth),
 * smtpd_sasl_service (service= sent to Dovecot), smtpd_sasl_security_options
 * and smtpd_sasl_tls_security_options (after STARTTLS) filter the
 * mechanisms by Dovecot's flags (noplaintext, noactive, nodictionary,
 * noanonymous; forward_secrecy and mutual_auth require them),
 * smtpd_tls_auth_only (smtpd_tls.c: no AUTH before STARTTLS),
 * broken_sasl_auth_clients (a second "250-AUTH=..." line),
 * smtpd_sasl_authenticated_header, smtpd_sasl_response_limit,
 * smtpd_client_auth_rate_limit (anvil, smtpd_anvil.c). smtpd_sasl_local_domain
 * is a Cyrus SASL realm: Postfix does not use it with Dovecot, nor do we.
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
 * The auth server connection is made when a session starts (Postfix:
 * "fatal: no SASL authentication mechanisms" when it cannot be made) and
 * closed at the end; an aborted or broken exchange closes it and the
 * next AUTH connects again.
 *
 * SECURITY: the client's mechanism name must be one Dovecot offered
 * (after filtering), its responses must be base64 and at most
 * smtpd_sasl_response_limit bytes; they go to Dovecot unchanged. The
 * login name comes from Dovecot (printable, see smtpd_sasl_dovecot.c).
 * An authenticated session is trusted by permit_sasl_authenticated only;
 * STARTTLS forgets the login (RFC 4954 section 4).
 *
 * DIAGNOSTICS: fatal at start with an unknown smtpd_sasl_type or
 * security option, and at session start when the auth server cannot be
 * reached (as Postfix); failed logins are warnings.
 */
#include <netdb.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "smtpd_anvil.h"
#include "smtpd_policy.h"
#include "smtpd_sasl.h"

static int var_smtpd_sasl_enable;
static const char *var_smtpd_sasl_type;
static const char *var_smtpd_sasl_path;
static const char *var_smtpd_sasl_service;
static const char *var_smtpd_sasl_opts;
static const char *var_smtpd_sasl_tls_opts;
static int var_broken_auth_clients;
static int var_smtpd_sasl_auth_hdr;
static long var_smtpd_sasl_resp_limit;

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
    CONFIG_VAR_END,
};

typedef struct SASL_SEC {
    int     forbid;             /* DOVECOT_MECH_* a mechanism must not have */
    int     require;            /* ... and must have */
} SASL_SEC;

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

char   *
smtpd_sasl_init(void)
{
    config_read_vars(smtpd_sasl_vars);
    smtpd_sasl_parse_opts("smtpd_sasl_security_options", var_smtpd_sasl_opts, &sasl_sec);
    smtpd_sasl_parse_opts("smtpd_sasl_tls_security_options", var_smtpd_sasl_tls_opts,
                          &sasl_tls_sec);
    if (!var_smtpd_sasl_enable || strcasecmp(var_smtpd_sasl_type, "dovecot") == 0)
        return NULL;
    return mem_printf("parameter smtpd_sasl_type = %s needs %s, which posthorn does not "
                      "implement; refusing to work without it", var_smtpd_sasl_type,
                      strcasecmp(var_smtpd_sasl_type, "cyrus") == 0 ? "Cyrus SASL"
                      : "a SASL implementation");
}

void
smtpd_sasl_connect(SMTPD_STATE *state)
{
    if (!var_smtpd_sasl_enable)
        return;
    if (dovecot_connect(&sasl_dovecot, var_smtpd_sasl_path, SASL_TIMEOUT) != 0)
        msg_fatal("no SASL authentication mechanisms");
}

void
smtpd_sasl_disconnect(SMTPD_STATE *state)
{
    dovecot_close(&sasl_dovecot);
    smtpd_sasl_reset(state);
}

void
smtpd_sasl_reset(SMTPD_STATE *state)
{
    mem_free(state->sasl_method);
    mem_free(state->sasl_username);
    state->sasl_method = state->sasl_username = NULL;
}

/* smtpd_sasl_auth_enable, and "auth" not in smtpd_discard_ehlo_keywords */
static int
smtpd_sasl_enabled(void)
{
    for (size_t i = 0; i < smtpd_conf.discard_ehlo->argc; i++)
        if (strcasecmp(smtpd_conf.discard_ehlo->argv[i], "auth") == 0)
            return 0;
    return var_smtpd_sasl_enable;
}

/* Connected (again, after an aborted exchange)? 0 or -1 (logged). */
static int
smtpd_sasl_ready(void)
{
    if (sasl_dovecot.stream != NULL)
        return 0;
    return dovecot_connect(&sasl_dovecot, var_smtpd_sasl_path, SASL_TIMEOUT);
}

/* The mechanisms allowed by the security options in force: names into list. */
static void
smtpd_sasl_mechs(const SMTPD_STATE *state, ARGV *list)
{
    const SASL_SEC *sec = state->tls ? &sasl_tls_sec : &sasl_sec;

    for (size_t i = 0; i < sasl_dovecot.mech_count; i++) {
        const DOVECOT_MECH *m = &sasl_dovecot.mechs[i];

        if ((m->flags & sec->forbid) == 0 && (m->flags & sec->require) == sec->require)
            argv_add(list, m->name);
    }
}

void
smtpd_sasl_ehlo(SMTPD_STATE *state, ARGV *lines)
{
    ARGV   *mechs;
    VSTRING *line;

    if (!smtpd_sasl_enabled() || !smtpd_tls_auth_allowed(state) || smtpd_sasl_ready() != 0)
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
    if (!smtpd_sasl_enabled()) {
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

/* The mechanism as offered (Dovecot's spelling), or NULL. */
static const char *
smtpd_sasl_find_mech(const SMTPD_STATE *state, const char *name)
{
    ARGV   *mechs = argv_alloc();
    const char *found = NULL;

    smtpd_sasl_mechs(state, mechs);
    for (size_t i = 0; i < mechs->argc && found == NULL; i++)
        if (strcasecmp(mechs->argv[i], name) == 0)
            for (size_t j = 0; j < sasl_dovecot.mech_count; j++)
                if (strcmp(sasl_dovecot.mechs[j].name, mechs->argv[i]) == 0)
                    found = sasl_dovecot.mechs[j].name;
    argv_free(mechs);
    return found;
}

/* The first request to Dovecot; -1: write error. */
static int
smtpd_sasl_start(SMTPD_STATE *state, const char *mech, const char *resp)
{
    char    lip[NI_MAXHOST] = "";

    smtpd_policy_server_addr(state, lip, sizeof(lip), NULL, 0);
    return dovecot_auth(&sasl_dovecot, mech, var_smtpd_sasl_service, lip, state->addr,
                        state->tls != NULL, resp);
}

/*
 * The exchange after the first request: challenges and responses until
 * Dovecot says OK or FAIL. Returns the DOVECOT_* result; reason holds the
 * failure text, user the login name (OK, and FAIL when Dovecot gives it).
 * -2: the client aborted ("*") or went away (replied or lost).
 */
static int
smtpd_sasl_exchange(SMTPD_STATE *state, const char *mech, VSTRING *user, VSTRING *reason)
{
    VSTRING *data = vstring_alloc(DOVECOT_LINE_MAX);
    VSTRING *resp = vstring_alloc(VSTRING_UNLIMITED);
    int     st, rd;

    while ((st = dovecot_reply(sasl_dovecot.stream, sasl_dovecot.id, data, user,
                               reason)) == DOVECOT_CONT) {
        smtpd_chat_reply(state, "334 %s", STR(data));
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
            st = DOVECOT_FAIL;
            break;
        }
        if (dovecot_cont(&sasl_dovecot, STR(resp)) != 0) {
            st = DOVECOT_ERROR;
            break;
        }
    }
    vstring_free(data);
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
    const char *mech, *resp = argc > 2 ? argv[2] : NULL;
    int     st;

    if (smtpd_sasl_check_cmd(state, argc) != 0)
        return -1;
    user = vstring_alloc(DOVECOT_LINE_MAX);
    reason = vstring_alloc(DOVECOT_LINE_MAX);
    if (resp && strcmp(resp, "=") == 0)
        resp = "";                      /* RFC 4954: an empty initial response */
    if (smtpd_sasl_ready() != 0) {
        mech = NULL;
        vstring_strcpy(reason, "Can't connect to authentication server");
        st = DOVECOT_TEMP;
    } else if ((mech = smtpd_sasl_find_mech(state, argv[1])) == NULL) {
        vstring_strcpy(reason, "Invalid authentication mechanism");
        st = DOVECOT_FAIL;
    } else if (resp && !dovecot_base64_ok(resp)) {
        vstring_strcpy(reason, "Invalid base64 data in initial response");
        st = DOVECOT_FAIL;
    } else if (smtpd_sasl_start(state, mech, resp) != 0) {
        st = DOVECOT_ERROR;
    } else {
        st = smtpd_sasl_exchange(state, mech, user, reason);
    }
    if (st != DOVECOT_OK && st != DOVECOT_FAIL && st != DOVECOT_TEMP)
        dovecot_close(&sasl_dovecot);   /* a request may be pending: start over */
    if (st == DOVECOT_OK) {
        state->sasl_method = mem_strdup(mech);
        state->sasl_username = mem_strdup(STR(user));
        smtpd_chat_reply(state, "235 2.7.0 Authentication successful");
    } else if (st == DOVECOT_FAIL) {
        smtpd_sasl_failed(state, mech ? mech : argv[1], user, reason);
    } else if (st == DOVECOT_TEMP || st == DOVECOT_ERROR) {
        if (st == DOVECOT_ERROR)
            vstring_strcpy(reason, "Connection lost to authentication server");
        msg_warn("%s: SASL %.100s authentication failed: %s", state->namaddr,
                 mech ? mech : argv[1], STR(reason));
        smtpd_chat_reply(state, "454 4.7.0 Temporary authentication failure: %s",
                         STR(reason));
    }
    vstring_free(user);
    vstring_free(reason);
    return st == DOVECOT_OK ? 0 : -1;
}

void
smtpd_sasl_log_suffix(const SMTPD_STATE *state, VSTRING *out)
{
    if (state->sasl_username)
        vstring_sprintf_append(out, ", sasl_method=%s, sasl_username=%s",
                               state->sasl_method, state->sasl_username);
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
