/*
 * smtpd_milter.c - smtpd_milters: the connect, HELO, MAIL, RCPT, DATA and
 * unknown-command events; the content events run in cleanup, which gets
 * the milters with the message (milter_pass.c, smtpd_cleanup.c).
 *
 * Interface (smtpd.h):
 *   smtpd_milter_init()          smtpd_milters and milter_* (pre_init);
 *                                none with receive_override_options=no_milters
 *   smtpd_milter_connect(state)  at the start of the session: connect
 *       every milter and send the connect event; a reject or tempfail
 *       makes every later command but QUIT, NOOP and RSET get that reply
 *       (smtpd_milter_denied), a 421 ends the session
 *   smtpd_milter_helo/mail/rcpt/data(state, reply)  0, or -1 with the
 *       reply to send (logged as Postfix's "milter-reject: RCPT from
 *       host[addr]: 550 5.7.1 Command rejected; from=<> to=<> proto= helo=<>")
 *   smtpd_milter_unknown(state)  an unknown command (no verdict used)
 *   smtpd_milter_abort(state)    the transaction ended without a message
 *   smtpd_milter_done(state)     end of the session: QUIT
 *
 * A DISCARD at MAIL, RCPT or DATA discards the message (CLEANUP_FLAG_DISCARD,
 * "milter-discard" logged), as an access DISCARD does.
 *
 * Macros: j, {daemon_name}, v (milter_conf.c), _, {client_addr},
 * {client_name}, {client_port}, {client_ptr}, {daemon_addr}, i (once a
 * queue id exists), {auth_type}, {auth_authen}, {mail_addr}, {rcpt_addr},
 * {tls_version} when TLS is on; each event sends the ones its
 * milter_*_macros list names.
 *
 * SECURITY: see milter.h; replies from a milter are bounded and checked
 * before they are sent to the SMTP client.
 */
#include <string.h>

#include "config.h"
#include "mail_proto.h"
#include "mem.h"
#include "milter.h"
#include "msg.h"
#include "receive_opts.h"
#include "smtpd.h"
#include "smtpd_check.h"
#include "smtpd_policy.h"

static const char *var_smtpd_milters;
static MILTER_CONF smtpd_milter_conf;

static const CONFIG_VAR smtpd_milter_vars[] = {
    CONFIG_VAR_STR("smtpd_milters", &var_smtpd_milters),
    CONFIG_VAR_END,
};

void
smtpd_milter_init(void)
{
    config_read_vars(smtpd_milter_vars);
    milter_conf_read(&smtpd_milter_conf);
    if (*var_smtpd_milters == 0)
        return;
    if (receive_opts_has(RECEIVE_OPT_NO_MILTERS))
        var_smtpd_milters = "";
    else                                        /* a syntax error is fatal now */
        milters_free(milters_create(var_smtpd_milters, &smtpd_milter_conf));
}

/* A verdict: 0 to go on, -1 with the reply (logged). */
static int
smtpd_milter_verdict(SMTPD_STATE *state, int ret, VSTRING *reply)
{
    switch (ret) {
    case MILTER_REJECT:
    case MILTER_TEMPFAIL:
        smtpd_chat_log_action(state, "milter-reject", STR(reply));
        return -1;
    case MILTER_SHUTDOWN:
        smtpd_chat_log_action(state, "milter-reject", STR(reply));
        state->quit = 1;
        return -1;
    case MILTER_DISCARD:
        if (!(state->check.flags & CLEANUP_FLAG_DISCARD))
            smtpd_chat_log_action(state, "milter-discard", "milter triggers DISCARD action");
        state->check.flags |= CLEANUP_FLAG_DISCARD;
        return 0;
    default:
        return 0;
    }
}

void
smtpd_milter_connect(SMTPD_STATE *state)
{
    VSTRING *reply;
    MILTERS *ms;
    char   *u;
    char    daemon_addr[64];

    if (*var_smtpd_milters == 0)
        return;
    ms = state->milters = milters_create(var_smtpd_milters, &smtpd_milter_conf);
    milter_conf_macro_defaults(ms);
    u = mem_printf("%s [%s]", state->name, state->addr);
    milters_macro_set(ms, "_", u);
    mem_free(u);
    milters_macro_set(ms, "{client_addr}", state->addr);
    milters_macro_set(ms, "{client_name}", state->name);
    milters_macro_set(ms, "{client_ptr}", state->reverse_name);
    milters_macro_set(ms, "{client_port}", state->port);
    smtpd_policy_server_addr(state, daemon_addr, sizeof(daemon_addr), NULL, 0);
    milters_macro_set(ms, "{daemon_addr}", *daemon_addr ? daemon_addr : NULL);
    reply = vstring_alloc(1024);
    if (smtpd_milter_verdict(state, milters_connect(ms, state->name, state->addr,
                                                    state->port, reply), reply) != 0)
        state->milter_denied = vstring_export(reply);
    else
        vstring_free(reply);
}

const char *
smtpd_milter_denied(const SMTPD_STATE *state)
{
    return state->milter_denied;
}

static void
smtpd_milter_session_macros(SMTPD_STATE *state)
{
    MILTERS *ms = state->milters;

    milters_macro_set(ms, "i", state->queue_id);
    milters_macro_set(ms, "{auth_type}", state->sasl_method);
    milters_macro_set(ms, "{auth_authen}", state->sasl_username);
    milters_macro_set(ms, "{tls_version}", state->tls ? "TLS" : NULL);
}

int
smtpd_milter_helo(SMTPD_STATE *state, VSTRING *reply)
{
    if (state->milters == NULL)
        return 0;
    smtpd_milter_session_macros(state);
    return smtpd_milter_verdict(state, milters_helo(state->milters, state->helo_name, reply),
                                reply);
}

/* "<addr>" and the ESMTP parameters of the command line. */
static ARGV *
smtpd_milter_args(const char *addr, const char *params)
{
    ARGV   *a = argv_alloc();

    argv_add_owned(a, mem_printf("<%s>", addr));
    if (params) {
        ARGV   *p = argv_split(params, " \t");
        for (size_t i = 0; i < p->argc; i++)
            argv_add(a, p->argv[i]);
        argv_free(p);
    }
    return a;
}

int
smtpd_milter_mail(SMTPD_STATE *state, const char *params, VSTRING *reply)
{
    ARGV   *a;
    int     ret;

    if (state->milters == NULL)
        return 0;
    smtpd_milter_session_macros(state);
    milters_macro_set(state->milters, "{mail_addr}", state->sender);
    a = smtpd_milter_args(state->sender, params);
    state->milter_txn = 1;
    ret = milters_mail(state->milters, (const char *const *) a->argv, reply);
    argv_free(a);
    return smtpd_milter_verdict(state, ret, reply);
}

int
smtpd_milter_rcpt(SMTPD_STATE *state, const char *rcpt, const char *params, VSTRING *reply)
{
    ARGV   *a;
    int     ret;

    if (state->milters == NULL)
        return 0;
    smtpd_milter_session_macros(state);
    milters_macro_set(state->milters, "{rcpt_addr}", rcpt);
    a = smtpd_milter_args(rcpt, params);
    ret = milters_rcpt(state->milters, (const char *const *) a->argv, reply);
    argv_free(a);
    return smtpd_milter_verdict(state, ret, reply);
}

int
smtpd_milter_data(SMTPD_STATE *state, VSTRING *reply)
{
    if (state->milters == NULL)
        return 0;
    smtpd_milter_session_macros(state);
    return smtpd_milter_verdict(state, milters_data(state->milters, reply), reply);
}

void
smtpd_milter_unknown(SMTPD_STATE *state)
{
    VSTRING *reply;

    if (state->milters == NULL)
        return;
    reply = vstring_alloc(1024);
    (void) milters_unknown(state->milters, STR(state->buffer), reply);
    vstring_free(reply);
}

void
smtpd_milter_abort(SMTPD_STATE *state)
{
    if (state->milters && state->milter_txn)
        milters_abort(state->milters);
    state->milter_txn = 0;
}

void
smtpd_milter_done(SMTPD_STATE *state)
{
    milters_free(state->milters);
    state->milters = NULL;
    mem_free(state->milter_denied);
    state->milter_denied = NULL;
}
