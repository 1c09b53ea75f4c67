/*
 * smtpd_policy.h - the policy delegation client (check_policy_service).
 *
 * smtpd_policy_query(state, endpoint, action) sends one
 * "request=smtpd_access_policy" request to the policy server at endpoint
 * ("inet:host:port", "host:port", "unix:/path" or "unix:private/name",
 * relative to $queue_directory) and stores the server's action (an access
 * table result: "OK", "REJECT text", "DUNNO", "PREPEND ...", "450 text",
 * ...) in action. Returns 0, or -1 when the server could not be asked
 * (after $smtpd_policy_service_try_limit attempts): action then holds
 * $smtpd_policy_service_default_action. Either way the caller applies
 * action like an access table result.
 *
 * The recipient sent is state->cur_rcpt (set for RCPT, and for DATA and
 * END-OF-MESSAGE with exactly one recipient); protocol_state is
 * state->where.
 *
 * Connections are kept per endpoint for the life of the smtpd process
 * (several SMTP sessions), and closed after
 * $smtpd_policy_service_max_idle idle seconds, after
 * $smtpd_policy_service_max_ttl seconds, after
 * $smtpd_policy_service_request_limit requests (0: no limit), or when the
 * server closed its end.
 *
 * smtpd_policy_reset() ends a mail transaction: the next request gets a
 * new "instance" value (the same value for every request of one message;
 * kept in the session, state->policy_instance). Call it from
 * smtpd_check_reset().
 *
 * The helpers below are exported for the unit tests.
 *
 * DIAGNOSTICS: none fatal; a failed policy request is a warning and
 * smtpd_policy_service_default_action applies.
 */
#ifndef POSTHORN_SMTPD_POLICY_H
#define POSTHORN_SMTPD_POLICY_H

#include "smtpd.h"
#include "stream.h"
#include "vstring.h"

#define SMTPD_POLICY_LINE_MAX  4096   /* one reply attribute line */
#define SMTPD_POLICY_ATTR_MAX  100    /* reply attributes */

int     smtpd_policy_query(SMTPD_STATE *state, const char *endpoint, VSTRING *action_out);
void    smtpd_policy_reset(SMTPD_STATE *state);

/* "inet:x"/"unix:x"/"x": the address part; *is_unix set. */
const char *smtpd_policy_endpoint(const char *endpoint, int *is_unix);
/* The request text, ending with the empty line. */
void    smtpd_policy_request(SMTPD_STATE *state, const char *instance, VSTRING *req);
/* The local end of the client connection (server_address, server_port;
 * port may be NULL); buffers untouched when it is not a TCP socket. Also
 * used for Dovecot's lip= (smtpd_sasl.c). */
void    smtpd_policy_server_addr(const SMTPD_STATE *state, char *host, size_t hsize,
                                 char *port, size_t psize);
/* Read one reply; 0 with the action, -1 (errno set; EPROTO: bad reply). */
int     smtpd_policy_read_reply(STREAM *s, VSTRING *action);

#endif
