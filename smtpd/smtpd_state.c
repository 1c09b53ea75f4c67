/*
 * smtpd_state.c - the session state (SMTPD_STATE, smtpd.h): made, reset
 * at the end of a mail transaction, freed.
 *
 * Interface (smtpd.h):
 *   smtpd_state_init()       a new session on client (nothing else set)
 *   smtpd_state_mail_reset() end of a transaction (RSET, HELO/EHLO, a
 *       message queued or refused, the end of the session): drop the
 *       cleanup connection and the envelope, the restriction results for
 *       the message, the XFORWARD attributes, a BDAT transfer
 *   smtpd_state_free()       end of the session
 *
 * Everything a session owns is in the state, so one process serves any
 * number of sessions, one after another, without one seeing another's.
 *
 * DIAGNOSTICS: none; session set-up and reset only.
 */
#include <string.h>

#include "mem.h"
#include "smtpd.h"
#include "smtpd_check.h"

void
smtpd_state_init(SMTPD_STATE *state, STREAM *client)
{
    memset(state, 0, sizeof(*state));
    state->client = client;
    state->buffer = vstring_alloc((size_t) var_line_limit + 1);
    state->protocol = "SMTP";
    state->where = "CONNECT";
    state->bare_lf_mode = smtpd_conf.bare_lf_mode;
}

void
smtpd_state_mail_reset(SMTPD_STATE *state)
{
    smtpd_cleanup_abort(state);
    smtpd_milter_abort(state);  /* smtpd_milters: a transaction without a message */
    smtpd_check_reset(state);   /* restrictions: HOLD, FILTER, ... results */
    mem_free(state->sender);
    mem_free(state->dsn_envid);
    mem_free(state->sasl_sender);
    state->sasl_sender = NULL;
    mem_free(state->recipient);
    mem_free(state->queue_id);
    state->sender = state->dsn_envid = state->recipient = state->queue_id = NULL;
    state->msg_size = 0;
    state->encoding = NULL;
    state->dsn_ret = state->smtputf8 = state->rcpt_count = state->err = 0;
    state->act_size = 0;
    if (state->bdat_active)
        smtpd_data_bdat_free(&state->bdat_in);
    state->bdat_active = 0;
    state->bdat_total = 0;
    smtpd_xforward_reset(state);        /* XFORWARD is for one transaction */
}

void
smtpd_state_free(SMTPD_STATE *state)
{
    smtpd_state_mail_reset(state);
    smtpd_milter_done(state);
    smtpd_check_free(state);
    vstring_free(state->buffer);
    mem_free(state->helo_name);
    smtpd_peer_free(state);
}
