/*
 * receive_opts.h - receive_override_options (postconf(5)), as the
 * receiving programs (smtpd, pickup, qmqpd) use it.
 *
 * receive_opts_cleanup(flags): the CLEANUP_FLAG_* bits to send to
 * cleanup, with CLEANUP_FLAG_MAP_OK cleared for no_address_mappings and
 * CLEANUP_FLAG_FILTER cleared for no_header_body_checks, CLEANUP_FLAG_MILTER
 * and CLEANUP_FLAG_SMTPD_MILTERS cleared for no_milters (smtpd also runs
 * no smtpd_milters then).
 * receive_opts_has(name): 1 when the option is set, e.g.
 * "no_unknown_recipient_checks" (smtpd's own business).
 * Unknown option names are logged once as a warning and otherwise ignored.
 *
 * The value is read once at start-up (mail_params_init(), after the -o
 * overrides), so a master.cf "-o receive_override_options=..." on the
 * smtpd or pickup service applies to the mail that service receives.
 *
 * DIAGNOSTICS: an unknown option name is a warning (once per process); a
 * call before mail_params_init() panics.
 */
#ifndef POSTHORN_RECEIVE_OPTS_H
#define POSTHORN_RECEIVE_OPTS_H

#define RECEIVE_OPT_NO_UNKN_RCPT   "no_unknown_recipient_checks"
#define RECEIVE_OPT_NO_ADDR_MAP    "no_address_mappings"
#define RECEIVE_OPT_NO_HDR_BODY    "no_header_body_checks"
#define RECEIVE_OPT_NO_MILTERS     "no_milters"

int     receive_opts_cleanup(int flags);
int     receive_opts_has(const char *name);

#endif
