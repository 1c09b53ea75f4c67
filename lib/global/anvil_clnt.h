/*
 * anvil_clnt.h - client of the anvil service (private/anvil): connection
 * counts and event rates per remote client, for smtpd's
 * smtpd_client_*_limit checks. Protocol: mail_proto.h "anvil".
 *
 * Each call sends one request for the ident "service:addr" and returns
 * ANVIL_STAT_OK with the values filled in, or ANVIL_STAT_FAIL (anvil
 * unreachable, too slow, or it refused the request): the caller must then
 * allow the event (fail open), as Postfix does. Values are the numbers
 * after this event was counted.
 *
 * One connection per process, kept open (anvil takes back a process's
 * connections when it closes); an exchange that fails on that kept
 * connection is retried once on a new one. After that fails too, a warning is logged and every
 * request fails at once for ANVIL_CLNT_BACKOFF seconds, so an anvil that
 * does not answer costs one ANVIL_CLNT_TIMEOUT wait, not one per event.
 *
 * SECURITY: replies are checked (status and values must be numbers);
 * a malformed reply counts as a failure.
 *
 * DIAGNOSTICS: nothing is fatal; an unreachable or misbehaving anvil is a
 * warning (once per back-off) and a failed call. A call before
 * mail_params_init() panics.
 */
#ifndef POSTHORN_ANVIL_CLNT_H
#define POSTHORN_ANVIL_CLNT_H

#include "mail_proto.h"

#define ANVIL_CLNT_PATH     MAIL_CLASS_PRIVATE "/" SERVICE_ANVIL
#define ANVIL_CLNT_TIMEOUT  10      /* seconds per exchange (ipc_timeout if smaller) */
#define ANVIL_CLNT_BACKOFF  60      /* seconds without requests after a failure */

typedef struct ANVIL_COUNTS {
    int     count;                  /* open connections */
    int     rate;                   /* connections in the current window */
    int     message;
    int     recipient;
    int     newtls;
    int     auth;
} ANVIL_COUNTS;

int     anvil_clnt_connect(const char *service, const char *addr, int *count, int *rate);
int     anvil_clnt_disconnect(const char *service, const char *addr);
int     anvil_clnt_mail(const char *service, const char *addr, int *rate);
int     anvil_clnt_rcpt(const char *service, const char *addr, int *rate);
int     anvil_clnt_newtls(const char *service, const char *addr, int *rate);
int     anvil_clnt_newtls_stat(const char *service, const char *addr, int *rate);
int     anvil_clnt_auth(const char *service, const char *addr, int *rate);
int     anvil_clnt_lookup(const char *service, const char *addr, ANVIL_COUNTS *counts);
/* Close the connection (anvil then forgets this process's connections). */
void    anvil_clnt_close(void);

#endif
