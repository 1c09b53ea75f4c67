/*
 * smtpd_anvil.c - client connection count and rate limits through anvil.
 *
 * Interface: smtpd_anvil.h (hooks called from smtpd_proto.c).
 *
 * Parameters (Postfix's names and defaults, lib/global/params.c; read
 * at start into var_* and smtpd_conf.hoggers, smtpd_params.c):
 *   smtpd_client_connection_count_limit (50)   simultaneous connections
 *   smtpd_client_connection_rate_limit (0)     connections per anvil_rate_time_unit
 *   smtpd_client_message_rate_limit (0)        MAIL commands per unit
 *   smtpd_client_recipient_rate_limit (0)      RCPT commands per unit
 *   smtpd_client_auth_rate_limit (0)           AUTH commands per unit
 *   smtpd_client_event_limit_exceptions        clients exempt from all of
 *       them (default ${smtpd_client_connection_limit_exceptions:$mynetworks})
 * A limit of 0 is off. Counting is per "service:client_addr", the
 * service being this smtpd's master.cf name. As Postfix: the connection
 * is counted before the greeting and rejected with "421 4.7.0 <myhostname>
 * Error: too many connections from <addr>"; a MAIL or RCPT over its rate
 * gets a 450 4.7.1 reply; each logs a warning naming the limit.
 *
 * Fail open: when anvil cannot be reached (anvil_clnt.h logs that and
 * backs off) nothing is limited; a session is never rejected or delayed
 * because anvil is missing. An smtpd not talking to a socket (smtpd -d,
 * stand-alone) does not use anvil at all.
 *
 * Whether the limits apply to a session, and whether anvil counted its
 * connection, is kept in the session (state->anvil_active,
 * state->anvil_counted).
 *
 * SECURITY: the client address and name are only matched (netmatch) and
 * sent to anvil as data.
 *
 * DIAGNOSTICS: none fatal; a limit exceeded is a warning naming the limit,
 * the count and the client, with a 421 or 450 reply.
 */
#include "anvil_clnt.h"
#include "msg.h"
#include "netmatch.h"
#include "smtpd.h"
#include "smtpd_anvil.h"

/* A network client (not smtpd -d on a pipe: smtpd_peer_init()) outside the exceptions? */
static int
smtpd_anvil_applies(SMTPD_STATE *state)
{
    if (!state->peer_socket)
        return 0;
    return netmatch_match(smtpd_conf.hoggers, state->name, state->addr) == 0;
}

int
smtpd_anvil_connect(SMTPD_STATE *state, VSTRING *reply)
{
    int     count, rate, value;
    const char *what;

    state->anvil_counted = 0;
    state->anvil_active = (var_smtpd_cconn_limit > 0 || var_smtpd_crate_limit > 0
                    || var_smtpd_cmail_limit > 0 || var_smtpd_crcpt_limit > 0
                    || var_smtpd_cauth_limit > 0)
        && smtpd_anvil_applies(state);
    if (!state->anvil_active)
        return 0;
    if (anvil_clnt_connect(var_service_name, state->addr, &count, &rate) != ANVIL_STAT_OK)
        return 0;
    state->anvil_counted = 1;
    if (var_smtpd_cconn_limit > 0 && count > var_smtpd_cconn_limit) {
        what = "Connection concurrency";
        value = count;
    } else if (var_smtpd_crate_limit > 0 && rate > var_smtpd_crate_limit) {
        what = "Connection rate";
        value = rate;
    } else {
        return 0;
    }
    vstring_sprintf(reply, "421 4.7.0 %s Error: too many connections from %s",
                    var_myhostname, state->addr);
    msg_warn("%s limit exceeded: %d from %s for service %s", what, value,
             state->namaddr, var_service_name);
    state->quit = 1;
    return -1;
}

void
smtpd_anvil_disconnect(SMTPD_STATE *state)
{
    if (state->anvil_counted)
        (void) anvil_clnt_disconnect(var_service_name, state->addr);
    state->anvil_counted = state->anvil_active = 0;
}

/* One MAIL or RCPT rate check: ask is anvil_clnt_mail or anvil_clnt_rcpt;
 * over limit: a 450 reply ("too much mail"/"too many recipients") and a
 * warning naming the limit. */
static int
smtpd_anvil_rate(SMTPD_STATE *state, long limit, int (*ask)(const char *, const char *, int *),
                 const char *too_much, const char *what)
{
    int     rate;

    if (!state->anvil_active || limit <= 0
        || ask(var_service_name, state->addr, &rate) != ANVIL_STAT_OK || rate <= limit)
        return 0;
    smtpd_chat_reply(state, "450 4.7.1 Error: %s from %s", too_much, state->addr);
    msg_warn("%s limit exceeded: %d from %s for service %s",
             what, rate, state->namaddr, var_service_name);
    return -1;
}

int
smtpd_anvil_mail(SMTPD_STATE *state)
{
    return smtpd_anvil_rate(state, var_smtpd_cmail_limit, anvil_clnt_mail, "too much mail",
                            "Message delivery request rate");
}

int
smtpd_anvil_rcpt(SMTPD_STATE *state)
{
    return smtpd_anvil_rate(state, var_smtpd_crcpt_limit, anvil_clnt_rcpt,
                            "too many recipients", "Recipient address rate");
}

int
smtpd_anvil_auth(SMTPD_STATE *state)
{
    return smtpd_anvil_rate(state, var_smtpd_cauth_limit, anvil_clnt_auth,
                            "too many AUTH commands", "AUTH command rate");
}
