/*
 * verify_clnt.h - client of the address verification service
 * (private/verify): smtpd asks for an address's status
 * (reject_unverified_recipient/sender), the delivery agents and qmgr
 * report a probe's result. Protocol: mail_proto.h "verify".
 *
 *   verify_clnt_query(addr, &addr_status, why)
 *       VERIFY_STAT_OK with addr_status (VERIFY_ADDR_*) and the reason
 *       text in why; VERIFY_STAT_FAIL when the service cannot be reached
 *       or answers wrongly (the caller applies its tempfail action).
 *   verify_clnt_update(addr, addr_status, why)
 *       record a probe's result; VERIFY_STAT_OK or VERIFY_STAT_FAIL.
 *
 * One connection per process, kept open; an exchange that fails on a
 * kept connection is retried once on a fresh one. Each exchange is
 * bounded by $ipc_timeout or VERIFY_CLNT_TIMEOUT, whichever is smaller.
 * The socket is $address_verify_service_name under private/ (read
 * once, at the first call).
 *
 * SECURITY: the reply's status values must be numbers in range and the
 * reason is cut to VERIFY_TEXT_MAX; anything else is a failure.
 *
 * DIAGNOSTICS: nothing is fatal; an unreachable or misbehaving service is
 * a warning and a failed call. A call before mail_params_init() panics.
 */
#ifndef POSTHORN_VERIFY_CLNT_H
#define POSTHORN_VERIFY_CLNT_H

#include "mail_proto.h"
#include "vstring.h"

#define VERIFY_CLNT_TIMEOUT 10

int     verify_clnt_query(const char *addr, int *addr_status, VSTRING *why);
int     verify_clnt_update(const char *addr, int addr_status, const char *why);
/* A probe recipient's result: for the original recipient address too
 * when it differs (an address that canonical or virtual alias mapping
 * rewrote is asked for, and must be answered, under the original). */
int     verify_clnt_update_rcpt(const char *addr, const char *orig, int addr_status,
                                const char *why);
void    verify_clnt_close(void);

#endif
