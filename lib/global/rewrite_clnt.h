/*
 * rewrite_clnt.h - client of the trivial-rewrite service (private/rewrite).
 *
 * The client keeps one connection open and reconnects once after an
 * error. A failure to reach the service returns -1; callers defer
 * (4xx / try again later) rather than guess. ipc_timeout bounds each
 * call (read once, on the first connection).
 *
 * The reply type and the in-process versions of both requests
 * (rewrite_addr, resolve_addr, resolve_local) are in resolve.h, included
 * here; resolve.h does not include this header.
 *
 * DIAGNOSTICS: nothing is fatal at run time; trivial-rewrite that cannot
 * be reached or answers wrongly is a warning and a failed call.
 */
#ifndef POSTHORN_REWRITE_CLNT_H
#define POSTHORN_REWRITE_CLNT_H

#include "resolve.h"
#include "vstring.h"

/* rule "local" or "remote"; 0 or -1. */
int     rewrite_clnt(const char *rule, const char *addr, VSTRING *out);
int     resolve_clnt(const char *sender, const char *addr, RESOLVE_REPLY *reply);

#endif
