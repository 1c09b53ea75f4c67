/*
 * rewrite_clnt.h - client of the trivial-rewrite service (private/rewrite),
 * and the address classification it is built on.
 *
 * The client keeps one connection open and reconnects once after an
 * error. A failure to reach the service returns -1; callers defer
 * (4xx / try again later) rather than guess.
 */
#ifndef POSTHORN_REWRITE_CLNT_H
#define POSTHORN_REWRITE_CLNT_H

#include "vstring.h"

typedef struct RESOLVE_REPLY {
    VSTRING *transport;
    VSTRING *nexthop;
    VSTRING *recipient;
    int     flags;              /* RESOLVE_CLASS_* | RESOLVE_FLAG_* */
} RESOLVE_REPLY;

void    resolve_reply_init(RESOLVE_REPLY *r);
void    resolve_reply_free(RESOLVE_REPLY *r);

/* rule "local" or "remote"; 0 or -1. */
int     rewrite_clnt(const char *rule, const char *addr, VSTRING *out);
int     resolve_clnt(const char *sender, const char *addr, RESOLVE_REPLY *reply);

/*
 * In-process versions (the service itself, and unit tests). They read the
 * configuration through config.h: myorigin, mydomain, append_dot_mydomain,
 * append_at_myorigin, mydestination, inet_interfaces, proxy_interfaces,
 * local_transport, default_transport, relay_transport, relayhost,
 * relay_domains, virtual_alias_domains, virtual_mailbox_domains,
 * virtual_transport, swap_bangpath, allow_percent_hack.
 */
void    rewrite_addr(const char *rule, const char *addr, VSTRING *out);
void    resolve_addr(const char *sender, const char *addr, RESOLVE_REPLY *reply);
/* 1 when domain is one of mydestination or an address of this host. */
int     resolve_local(const char *domain);

#endif
