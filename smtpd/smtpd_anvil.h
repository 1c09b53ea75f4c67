/*
 * smtpd_anvil.h - the smtpd_client_*_limit checks (smtpd_anvil.c), for
 * the hooks in smtpd_proto.c. (Kept out of smtpd.h while that file is
 * being edited; the prototypes may move there.)
 *
 *   smtpd_anvil_connect()    once per session, after "connect from":
 *       counts the connection; over smtpd_client_connection_count_limit
 *       or smtpd_client_connection_rate_limit it puts the 421 reply in
 *       reply, sets state->quit and returns -1.
 *   smtpd_anvil_disconnect() at the end of the session.
 *   smtpd_anvil_mail()       at MAIL (after the syntax check):
 *       smtpd_client_message_rate_limit; -1 after a 450 reply.
 *   smtpd_anvil_rcpt()       at RCPT (after the syntax check):
 *       smtpd_client_recipient_rate_limit; -1 after a 450 reply.
 *
 * DIAGNOSTICS: none fatal; a limit exceeded is a warning and a 421/450
 * reply.
 */
#ifndef POSTHORN_SMTPD_ANVIL_H
#define POSTHORN_SMTPD_ANVIL_H

#include "smtpd.h"

int     smtpd_anvil_connect(SMTPD_STATE *state, VSTRING *reply);
void    smtpd_anvil_disconnect(SMTPD_STATE *state);
int     smtpd_anvil_mail(SMTPD_STATE *state);
int     smtpd_anvil_rcpt(SMTPD_STATE *state);
int     smtpd_anvil_auth(SMTPD_STATE *state);  /* AUTH: 450 when over the rate */

#endif
