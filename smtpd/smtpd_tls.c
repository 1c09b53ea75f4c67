/*
 * smtpd_tls.c - TLS in the SMTP server: STARTTLS, wrapper mode, policy.
 *
 * Interface (smtpd.h):
 *   smtpd_tls_init()       pre_init, as root before the privilege drop:
 *                          read the smtpd_tls_* parameters, load the keys
 *   smtpd_tls_offer()      advertise STARTTLS in the EHLO reply?
 *   smtpd_tls_starttls()   the STARTTLS command
 *   smtpd_tls_required()   "530 5.7.0 Must issue a STARTTLS command first"
 *                          under level encrypt, for all but HELO, EHLO,
 *                          STARTTLS, NOOP and QUIT
 *   smtpd_tls_wrapper()    smtpd_tls_wrappermode: handshake before the
 *                          greeting (the submissions service, port 465)
 *   smtpd_tls_refuse()     a refusal reply, inside TLS in wrapper mode
 *   smtpd_tls_received()   the Received: cipher comment lines
 *                          (smtpd_tls_received_header)
 *   smtpd_tls_auth_allowed()  smtpd_tls_auth_only: may AUTH be offered now
 *   smtpd_tls_stop()       close_notify at the end of the session
 *
 * The level comes from smtpd_tls_security_level (none, may, encrypt;
 * verify, secure, fingerprint, dane and dane-only are client levels and
 * act as encrypt, with a warning), or when that is empty from the legacy
 * smtpd_enforce_tls (encrypt) and smtpd_use_tls (may). Protocols and
 * ciphers are the "mandatory" ones under encrypt: smtpd_tls_protocols or
 * smtpd_tls_mandatory_protocols; the grade smtpd_tls_ciphers or
 * smtpd_tls_mandatory_ciphers selects tls_<grade>_cipherlist, and
 * smtpd_tls_exclude_ciphers (plus smtpd_tls_mandatory_exclude_ciphers
 * under encrypt) are appended as "!name".
 *
 * Client certificates (smtpd_tls_ask_ccert, or smtpd_tls_req_ccert which
 * implies it and counts only under encrypt, as Postfix): asked for during
 * the handshake, checked against smtpd_tls_CAfile / smtpd_tls_CApath up
 * to smtpd_tls_ccert_verifydepth, fingerprinted with
 * smtpd_tls_fingerprint_digest (lib/tls); the restrictions that use them
 * are in smtpd_check_tls.c. Under smtpd_tls_req_ccert a client without a
 * trusted certificate gets "421 4.7.1 host Error: No client certificate
 * presented" (or "Client certificate not trusted") and is disconnected.
 *
 * When the keys cannot be loaded STARTTLS is still advertised, as
 * Postfix does, and answered "454 4.7.0 TLS not available due to local
 * problem"; under encrypt no mail is accepted (fail closed), and in
 * wrapper mode the connection is dropped with a warning.
 *
 * Session resumption (tickets under keys from tlsmgr, tlsmgr's cache when
 * smtpd_tls_session_cache_database is set there) is lib/tls's
 * tls_scache.c; smtpd_tls_session_cache_timeout is the session lifetime.
 *
 * SECURITY: RFC 3207: after the handshake the session starts over (no
 * HELO name, no transaction) and what the client pipelined after STARTTLS
 * before the handshake is discarded (lib/tls). The handshake is bounded
 * by smtpd_starttls_timeout, later TLS reads and writes by smtpd_timeout.
 *
 * DIAGNOSTICS: "Anonymous|Untrusted|Trusted TLS connection established
 * from host[addr]: TLSv1.3 with cipher ..." (smtpd_tls_loglevel >= 1);
 * "host[addr]: subject_CN=..., issuer=..., fingerprint=...,
 * pkey_fingerprint=..." (loglevel >= 2); "NOQUEUE: abort: TLS from
 * host[addr]: ..." and "certificate verification failed for ..." under
 * smtpd_tls_req_ccert; "Can't require client certs unless TLS is
 * required"; "SSL_accept error
 * from ..." and "lost connection after STARTTLS from ..." when the
 * handshake fails; start-up warnings about keys and certificates (lib/tls).
 */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_sasl.h"
#include "tls.h"

static const char *var_smtpd_tls_level;
static int var_smtpd_use_tls;
static int var_smtpd_enforce_tls;
static int var_smtpd_tls_wrappermode;
static int var_smtpd_tls_auth_only;
static int var_smtpd_tls_received_header;
static long var_smtpd_tls_loglevel;
static long var_smtpd_starttls_tmout;
static const char *var_smtpd_tls_protocols;
static const char *var_smtpd_tls_mand_protocols;
static const char *var_smtpd_tls_ciphers;
static const char *var_smtpd_tls_mand_ciphers;
static const char *var_smtpd_tls_excl_ciphers;
static const char *var_smtpd_tls_mand_excl;
static const char *var_tlsmgr_service;
static int var_smtpd_tls_ask_ccert;
static int var_smtpd_tls_req_ccert;
static long var_smtpd_tls_ccert_vd;
static const char *var_smtpd_tls_fpt_dgst;
static TLS_SERVER_INIT smtpd_tls_files;

static const CONFIG_VAR smtpd_tls_vars[] = {
    CONFIG_VAR_STR("smtpd_tls_security_level", &var_smtpd_tls_level),
    CONFIG_VAR_BOOL("smtpd_use_tls", &var_smtpd_use_tls),
    CONFIG_VAR_BOOL("smtpd_enforce_tls", &var_smtpd_enforce_tls),
    CONFIG_VAR_BOOL("smtpd_tls_wrappermode", &var_smtpd_tls_wrappermode),
    CONFIG_VAR_BOOL("smtpd_tls_auth_only", &var_smtpd_tls_auth_only),
    CONFIG_VAR_BOOL("smtpd_tls_received_header", &var_smtpd_tls_received_header),
    CONFIG_VAR_INT("smtpd_tls_loglevel", &var_smtpd_tls_loglevel),
    CONFIG_VAR_TIME("smtpd_starttls_timeout", &var_smtpd_starttls_tmout),
    CONFIG_VAR_STR("smtpd_tls_protocols", &var_smtpd_tls_protocols),
    CONFIG_VAR_STR("smtpd_tls_mandatory_protocols", &var_smtpd_tls_mand_protocols),
    CONFIG_VAR_STR("smtpd_tls_ciphers", &var_smtpd_tls_ciphers),
    CONFIG_VAR_STR("smtpd_tls_mandatory_ciphers", &var_smtpd_tls_mand_ciphers),
    CONFIG_VAR_STR("smtpd_tls_exclude_ciphers", &var_smtpd_tls_excl_ciphers),
    CONFIG_VAR_STR("smtpd_tls_mandatory_exclude_ciphers", &var_smtpd_tls_mand_excl),
    CONFIG_VAR_STR("smtpd_tls_cert_file", &smtpd_tls_files.cert_file),
    CONFIG_VAR_STR("smtpd_tls_key_file", &smtpd_tls_files.key_file),
    CONFIG_VAR_STR("smtpd_tls_eccert_file", &smtpd_tls_files.eccert_file),
    CONFIG_VAR_STR("smtpd_tls_eckey_file", &smtpd_tls_files.eckey_file),
    CONFIG_VAR_STR("smtpd_tls_dcert_file", &smtpd_tls_files.dcert_file),
    CONFIG_VAR_STR("smtpd_tls_dkey_file", &smtpd_tls_files.dkey_file),
    CONFIG_VAR_STR("smtpd_tls_chain_files", &smtpd_tls_files.chain_files),
    CONFIG_VAR_STR("smtpd_tls_CAfile", &smtpd_tls_files.CAfile),
    CONFIG_VAR_STR("smtpd_tls_CApath", &smtpd_tls_files.CApath),
    CONFIG_VAR_TIME("smtpd_tls_session_cache_timeout", &smtpd_tls_files.cache_timeout),
    CONFIG_VAR_STR("tls_session_ticket_cipher", &smtpd_tls_files.ticket_cipher),
    CONFIG_VAR_STR("tlsmgr_service_name", &var_tlsmgr_service),
    CONFIG_VAR_BOOL("smtpd_tls_ask_ccert", &var_smtpd_tls_ask_ccert),
    CONFIG_VAR_BOOL("smtpd_tls_req_ccert", &var_smtpd_tls_req_ccert),
    CONFIG_VAR_INT("smtpd_tls_ccert_verifydepth", &var_smtpd_tls_ccert_vd),
    CONFIG_VAR_STR("smtpd_tls_fingerprint_digest", &var_smtpd_tls_fpt_dgst),
    CONFIG_VAR_END,
};

static const struct {
    const char *grade;
    const char *param;
} smtpd_tls_grades[] = {
    {"high", "tls_high_cipherlist"},
    {"medium", "tls_medium_cipherlist"},
    {"low", "tls_low_cipherlist"},
    {"export", "tls_export_cipherlist"},
    {"null", "tls_null_cipherlist"},
};

#define SMTPD_TLS_NONE      0
#define SMTPD_TLS_MAY       1
#define SMTPD_TLS_ENCRYPT   2

static int smtpd_tls_level;             /* SMTPD_TLS_* */
static TLS_SERVER_CTX *smtpd_tls_ctx;   /* NULL: TLS is off or broken */
static int smtpd_tls_ask;               /* ask for a client certificate */
static int smtpd_tls_req;               /* ... and require a trusted one */
static int smtpd_tls_compat_md5;        /* the level-0 default digest is used */

static int
smtpd_tls_parse_level(void)
{
    static const char *const as_encrypt[] = {
        "verify", "secure", "fingerprint", "dane", "dane-only", NULL,
    };
    const char *level = var_smtpd_tls_level;

    if (*level == 0)
        return var_smtpd_enforce_tls ? SMTPD_TLS_ENCRYPT
            : var_smtpd_use_tls ? SMTPD_TLS_MAY : SMTPD_TLS_NONE;
    if (strcasecmp(level, "none") == 0)
        return SMTPD_TLS_NONE;
    if (strcasecmp(level, "may") == 0)
        return SMTPD_TLS_MAY;
    if (strcasecmp(level, "encrypt") == 0)
        return SMTPD_TLS_ENCRYPT;
    for (int i = 0; as_encrypt[i]; i++)
        if (strcasecmp(level, as_encrypt[i]) == 0) {
            msg_warn("smtpd_tls_security_level: unsupported TLS level \"%s\", "
                     "using \"encrypt\"", level);
            return SMTPD_TLS_ENCRYPT;
        }
    msg_fatal("Invalid TLS level \"%s\"", level);
}

/* The OpenSSL cipher list for a grade, with exclusions; NULL: bad grade. */
static char *
smtpd_tls_cipherlist(const char *grade, const char *exclude)
{
    VSTRING *list = vstring_alloc(256);
    ARGV   *words;

    for (size_t i = 0; i < sizeof(smtpd_tls_grades) / sizeof(smtpd_tls_grades[0]); i++)
        if (strcasecmp(grade, smtpd_tls_grades[i].grade) == 0)
            vstring_strcpy(list, config_str(smtpd_tls_grades[i].param));
    if (LEN(list) == 0) {
        msg_warn("invalid cipher grade \"%s\": disabling TLS support", grade);
        vstring_free(list);
        return NULL;
    }
    words = argv_split(exclude, " \t\r\n,:");
    for (size_t i = 0; i < words->argc; i++)
        vstring_sprintf_append(list, ":!%s", words->argv[i]);
    argv_free(words);
    return vstring_export(list);
}

/* smtpd_tls_ask_ccert, smtpd_tls_req_ccert (only under encrypt, as Postfix). */
static void
smtpd_tls_ccert_init(int mandatory)
{
    smtpd_tls_req = var_smtpd_tls_req_ccert;
    if (smtpd_tls_req && !mandatory) {
        msg_warn("Can't require client certs unless TLS is required");
        smtpd_tls_req = 0;
    }
    smtpd_tls_ask = var_smtpd_tls_ask_ccert || smtpd_tls_req;
    smtpd_tls_files.ask_ccert = smtpd_tls_ask;
    smtpd_tls_files.verify_depth = (int) var_smtpd_tls_ccert_vd;
    smtpd_tls_files.digest = var_smtpd_tls_fpt_dgst;
    smtpd_tls_compat_md5 = config_compat_break("smtpd_tls_fingerprint_digest", "3.6");
}

void
smtpd_tls_init(void)
{
    char   *exclude, *ciphers;
    int     mandatory;

    config_read_vars(smtpd_tls_vars);
    smtpd_tls_level = smtpd_tls_parse_level();
    if (smtpd_tls_level == SMTPD_TLS_NONE && !var_smtpd_tls_wrappermode)
        return;
    mandatory = smtpd_tls_level == SMTPD_TLS_ENCRYPT;
    exclude = mem_printf("%s %s", var_smtpd_tls_excl_ciphers,
                         mandatory ? var_smtpd_tls_mand_excl : "");
    ciphers = smtpd_tls_cipherlist(mandatory ? var_smtpd_tls_mand_ciphers
                                   : var_smtpd_tls_ciphers, exclude);
    mem_free(exclude);
    if (ciphers == NULL)
        return;
    smtpd_tls_files.protocols = mandatory ? var_smtpd_tls_mand_protocols
        : var_smtpd_tls_protocols;
    smtpd_tls_files.cipherlist = ciphers;
    smtpd_tls_files.loglevel = (int) var_smtpd_tls_loglevel;
    smtpd_tls_ccert_init(mandatory);
    /* sessions resume through tlsmgr, only for the same service and settings
     * (a session made without a client certificate check does not resume
     * where one is asked for) */
    smtpd_tls_files.mgr_path = mem_printf("private/%s", var_tlsmgr_service);
    smtpd_tls_files.cache_type = "smtpd";
    smtpd_tls_files.cache_context = mem_printf("%s %s %s ccert=%d,%ld,%s", var_service_name,
                                               smtpd_tls_files.protocols, ciphers,
                                               smtpd_tls_ask, var_smtpd_tls_ccert_vd,
                                               var_smtpd_tls_fpt_dgst);
    smtpd_tls_ctx = tls_server_init(&smtpd_tls_files);
    mem_free(ciphers);
}

int
smtpd_tls_offer(const SMTPD_STATE *state)
{
    return state->tls == NULL && smtpd_tls_level != SMTPD_TLS_NONE;
}

int
smtpd_tls_auth_allowed(const SMTPD_STATE *state)
{
    return !var_smtpd_tls_auth_only || state->tls != NULL;
}

int
smtpd_tls_required(SMTPD_STATE *state, int stat)
{
    if (smtpd_tls_level != SMTPD_TLS_ENCRYPT || state->tls != NULL)
        return 0;
    if (stat == SMTPD_CMD_HELO || stat == SMTPD_CMD_EHLO || stat == SMTPD_CMD_STARTTLS
        || stat == SMTPD_CMD_NOOP || stat == SMTPD_CMD_QUIT)
        return 0;
    smtpd_chat_reply(state, "530 5.7.0 Must issue a STARTTLS command first");
    return -1;
}

/* smtpd_tls_req_ccert: no trusted certificate, no session (Postfix's 421). */
static int
smtpd_tls_ccert_required(SMTPD_STATE *state, const TLS_PEER *peer)
{
    const char *why;

    if (!smtpd_tls_req || peer->trusted)
        return 0;
    why = peer->present ? "Client certificate not trusted" : "No client certificate presented";
    if (peer->present)
        msg_info("certificate verification failed for %s: %s", state->namaddr,
                 tls_sess_verify_why(state->tls));
    msg_info("NOQUEUE: abort: TLS from %s: %s", state->namaddr, why);
    smtpd_chat_reply(state, "421 4.7.1 %s Error: %s", var_myhostname, why);
    state->quit = 1;
    return -1;
}

/* The handshake, bounded by smtpd_starttls_timeout; 0 = TLS is on. */
static int
smtpd_tls_handshake(SMTPD_STATE *state)
{
    VSTRING *summary, *details;
    const TLS_PEER *peer;

    stream_set_timeout(state->client, (int) var_smtpd_starttls_tmout);
    state->tls = tls_server_start(smtpd_tls_ctx, state->client, state->namaddr);
    stream_set_timeout(state->client, (int) var_smtpd_tmout);
    if (state->tls == NULL) {
        smtpd_chat_log_lost(state, "lost connection");
        state->quit = 1;
        return -1;
    }
    peer = tls_sess_peer(state->tls);
    if (peer->present && var_smtpd_tls_loglevel >= 2)
        msg_info("%s: subject_CN=%s, issuer=%s, fingerprint=%s, pkey_fingerprint=%s",
                 state->namaddr, peer->CN, peer->issuer_CN, peer->fprint, peer->pkey_fprint);
    if (peer->present && smtpd_tls_compat_md5)
        msg_info("using backwards-compatible default setting "
                 "smtpd_tls_fingerprint_digest=md5 to compute certificate fingerprints");
    if (var_smtpd_tls_loglevel >= 1) {
        summary = vstring_alloc(256);
        details = vstring_alloc(256);
        tls_sess_summary(state->tls, summary);
        tls_sess_details(state->tls, details);
        msg_info("%s TLS connection established from %s: %s%s%s",
                 !peer->present ? "Anonymous" : peer->trusted ? "Trusted" : "Untrusted",
                 state->namaddr, STR(summary), LEN(details) ? " " : "", STR(details));
        vstring_free(summary);
        vstring_free(details);
    }
    return smtpd_tls_ccert_required(state, peer);
}

int
smtpd_tls_starttls(SMTPD_STATE *state, int argc, char **argv)
{
    if (argc != 1) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: STARTTLS");
        return -1;
    }
    if (state->tls != NULL) {
        smtpd_chat_reply(state, "554 5.5.1 Error: TLS already active");
        return -1;
    }
    if (smtpd_tls_level == SMTPD_TLS_NONE) {
        smtpd_chat_reply(state, "502 5.5.1 Error: command not implemented");
        return -1;
    }
    if (smtpd_tls_ctx == NULL) {
        smtpd_chat_reply(state, "454 4.7.0 TLS not available due to local problem");
        return -1;
    }
    smtpd_chat_reply(state, "220 2.0.0 Ready to start TLS");
    if (smtpd_chat_flush(state) < 0 || smtpd_tls_handshake(state) < 0)
        return -1;
    /* RFC 3207 section 4.2: forget what the client said before TLS */
    smtpd_state_mail_reset(state);
    mem_free(state->helo_name);
    state->helo_name = NULL;
    smtpd_sasl_reset(state);            /* RFC 4954 section 4: log in again */
    return 0;
}

int
smtpd_tls_wrapper(SMTPD_STATE *state)
{
    if (!var_smtpd_tls_wrappermode)
        return 0;
    if (smtpd_tls_ctx == NULL) {
        msg_warn("Wrapper-mode request dropped from %s for service %s. TLS context "
                 "initialization failed. For details see earlier warnings in your logs.",
                 state->namaddr, var_service_name);
        state->quit = 1;
        return -1;
    }
    return smtpd_tls_handshake(state);
}

void
smtpd_tls_refuse(STREAM *client, const char *reply)
{
    TLS_SESS *sess = NULL;

    if (var_smtpd_tls_wrappermode && smtpd_tls_ctx != NULL) {
        stream_set_timeout(client, (int) var_smtpd_starttls_tmout);
        if ((sess = tls_server_start(smtpd_tls_ctx, client, "client")) == NULL)
            return;
    }
    (void) stream_puts(client, reply);
    (void) stream_flush(client);
    tls_sess_stop(sess);
}

void
smtpd_tls_received(const SMTPD_STATE *state, ARGV *lines)
{
    VSTRING *summary, *details;
    const TLS_PEER *peer;
    char   *line;

    if (state->tls == NULL || !var_smtpd_tls_received_header)
        return;
    summary = vstring_alloc(256);
    details = vstring_alloc(256);
    tls_sess_summary(state->tls, summary);
    tls_sess_details(state->tls, details);
    line = mem_printf("\t(using %s%s", STR(summary), LEN(details) ? "" : ")");
    argv_add_owned(lines, line);
    if (LEN(details))
        argv_add_owned(lines, mem_printf("\t %s)", STR(details)));
    peer = tls_sess_peer(state->tls);
    if (peer->present)
        argv_add_owned(lines, mem_printf("\t(Client CN \"%s\", Issuer \"%s\" (%s))", peer->CN,
                                         peer->issuer_CN,
                                         peer->trusted ? "verified OK" : "not verified"));
    else if (smtpd_tls_ask)
        argv_add(lines, "\t(Client did not present a certificate)");
    else
        argv_add(lines, "\t(No client certificate requested)");
    vstring_free(summary);
    vstring_free(details);
}

void
smtpd_tls_stop(SMTPD_STATE *state)
{
    tls_sess_stop(state->tls);
    state->tls = NULL;
}
