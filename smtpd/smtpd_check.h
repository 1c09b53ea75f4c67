/*
 * smtpd_check.h - the restriction stages of smtpd_check.c, for the hooks
 * in smtpd_proto.c, smtpd_data.c and smtpd_cleanup.c. (smtpd_check_rcpt
 * and smtpd_check_vrfy are declared in smtpd.h.)
 *
 * Stages return 0 to go on, or -1 with the reply in reply (already
 * logged as "NOQUEUE: reject: CMD from host[addr]: ..." unless noted).
 *
 *   smtpd_check_connect()   once per session, before the greeting: with
 *       smtpd_delay_reject = no, smtpd_client_restrictions; a reject
 *       replaces the greeting, and smtpd_check_denied() then answers
 *       every command but QUIT with "503 5.7.0 Error: access denied for".
 *   smtpd_check_helo_stage() at HELO/EHLO (helo_name already set):
 *       smtpd_helo_restrictions when smtpd_delay_reject = no.
 *   smtpd_check_mail_stage() at MAIL (state->sender already set):
 *       smtpd_helo_required, then smtpd_sender_restrictions when
 *       smtpd_delay_reject = no.
 *   smtpd_check_data_stage() at DATA: smtpd_data_restrictions.
 *   smtpd_check_eod_stage() at end of data, before cleanup is told to
 *       finish: smtpd_end_of_data_restrictions. Not logged (the caller
 *       logs the reject). Returns 1 when an earlier DISCARD action asks
 *       to drop the message (the caller still replies "queued").
 *   smtpd_check_reset()      end of a transaction (RSET, MAIL done).
 *   smtpd_check_free()       end of the session: the reset, and the
 *       connect-time result.
 *   smtpd_check_envelope()   before MESG: records for HOLD, DISCARD,
 *       FILTER and REDIRECT actions.
 *   smtpd_check_prepend()    PREPEND action header lines, added to
 *       lines (above smtpd's Received: header).
 *
 * The results live in the session (state->check), so sessions served
 * one after another, or side by side, never see each other's.
 *
 * DIAGNOSTICS: fatal only at start (restrictions that cannot stop
 * relaying); unknown restrictions and bad table actions are warnings and
 * temporary failures.
 */
#ifndef POSTHORN_SMTPD_CHECK_H
#define POSTHORN_SMTPD_CHECK_H

#include "smtpd.h"


int     smtpd_check_connect(SMTPD_STATE *state, VSTRING *reply);
int     smtpd_check_denied(SMTPD_STATE *state);
int     smtpd_check_helo_stage(SMTPD_STATE *state, VSTRING *reply);
int     smtpd_check_mail_stage(SMTPD_STATE *state, VSTRING *reply);
int     smtpd_check_etrn_stage(SMTPD_STATE *state, const char *domain, VSTRING *reply);
int     smtpd_check_data_stage(SMTPD_STATE *state, VSTRING *reply);
int     smtpd_check_eod_stage(SMTPD_STATE *state, VSTRING *reply);
void    smtpd_check_reset(SMTPD_STATE *state);
void    smtpd_check_free(SMTPD_STATE *state);
void    smtpd_check_envelope(SMTPD_STATE *state, STREAM *cleanup);
void    smtpd_check_prepend(SMTPD_STATE *state, ARGV *lines);

#endif
