/*
 * resolve.h - in-process address rewriting and resolution (resolve.c,
 * resolve_addr.c): the logic of the trivial-rewrite service, also used
 * directly by resolve_local() callers and unit tests. Clients of the
 * service use rewrite_clnt.h, which includes this header for the reply
 * type; this code never uses the client.
 *
 * Parameters: resolve_params_init() reads them once from the one table
 * (lib/global/params.c) into resolve_params: myhostname, myorigin,
 * mydomain, remote_header_rewrite_domain, append_at_myorigin,
 * append_dot_mydomain, swap_bangpath, allow_percent_hack, mydestination,
 * inet_interfaces, proxy_interfaces, relay_domains, virtual_alias_domains,
 * virtual_mailbox_domains, parent_domain_matches_subdomains, relayhost,
 * local_transport, default_transport, relay_transport, virtual_transport,
 * error_service_name, transport_maps, recipient_delimiter,
 * sender_dependent_relayhost_maps, sender_dependent_default_transport_maps,
 * empty_address_relayhost_maps_lookup_key,
 * empty_address_default_transport_maps_lookup_key. A program calls it at start (again
 * after a configuration change: tests); the functions below call it on
 * first use when the program did not. A bad value is fatal with the
 * parameter's name and value.
 *
 * DIAGNOSTICS: a bad parameter value is fatal; an unreadable list file is
 * a warning and a failed lookup (the recipient is deferred). See
 * resolve.c and resolve_route.c.
 */
#ifndef POSTHORN_RESOLVE_H
#define POSTHORN_RESOLVE_H

#include <sys/socket.h>

#include "maps.h"
#include "vstring.h"

typedef struct RESOLVE_REPLY {
    VSTRING *transport;
    VSTRING *nexthop;
    VSTRING *recipient;
    int     flags;              /* RESOLVE_CLASS_* | RESOLVE_FLAG_* (mail_proto.h) */
} RESOLVE_REPLY;

void    resolve_reply_init(RESOLVE_REPLY *r);
void    resolve_reply_free(RESOLVE_REPLY *r);

void    resolve_params_init(void);
/* Open transport_maps and the tables in the domain lists now (before a
 * chroot); resolve_maps() keeps them for the process lifetime. */
void    resolve_maps_preopen(void);

/* rule "local" or "remote". */
void    rewrite_addr(const char *rule, const char *addr, VSTRING *out);
void    resolve_addr(const char *sender, const char *addr, RESOLVE_REPLY *reply);
/* 1 when domain is one of mydestination or an address of this host. */
int     resolve_local(const char *domain);

/* ---- shared by resolve.c and resolve_addr.c ---------------------------- */

typedef struct RESOLVE_PARAMS {
    const char *myhostname;
    const char *myorigin;
    const char *mydomain;
    const char *remote_rewrite_domain;
    int     append_at_myorigin;
    int     append_dot_mydomain;
    int     compat_dot_mydomain;    /* its yes is compatibility_level < 1's */
    int     swap_bangpath;
    int     allow_percent_hack;
    const char *inet_interfaces;
    const char *proxy_interfaces;
    const char *relayhost;
    const char *local_transport;
    const char *default_transport;
    const char *relay_transport;
    const char *virtual_transport;
    const char *error_transport;    /* error_service_name */
    const char *transport_maps;
    int     transport_parent_ok;    /* transport_maps in parent_domain_matches_subdomains */
    const char *recipient_delimiter;
    const char *snd_relay_maps;     /* sender_dependent_relayhost_maps */
    const char *snd_transport_maps; /* sender_dependent_default_transport_maps */
    const char *empty_relay_key;    /* empty_address_relayhost_maps_lookup_key */
    const char *empty_transport_key;    /* ..._default_transport_maps_lookup_key */
} RESOLVE_PARAMS;

extern RESOLVE_PARAMS resolve_params;

/* resolve_params_init() unless done already. */
void    resolve_params_need(void);
/* A table list opened once per spec and kept (title names it in logs). */
MAPS   *resolve_maps(const char *title, const char *spec);
/* Does domain match the domain list parameter param (mydestination,
 * relay_domains, virtual_alias_domains, virtual_mailbox_domains,
 * fast_flush_domains)?
 * Table failures set *fail and return 0. */
int     resolve_domain_list(const char *param, const char *domain, int *fail);
/* Is sa (AF_INET/AF_INET6, port ignored) an address of this host per
 * inet_interfaces ("all": every interface) and proxy_interfaces? The
 * list is looked up once per value of the two parameters. */
int     resolve_own_addr(const struct sockaddr_storage *sa);
/* "[1.2.3.4]" / "[IPv6:::1]" into sa; 0 or -1. */
int     resolve_literal_parse(const char *domain, struct sockaddr_storage *sa);

/* resolve_route.c: the default class's transport[:nexthop] for sender
 * (sender_dependent_default_transport_maps, else default_transport); the
 * next hop for the relay and default classes (sender_dependent_relayhost_maps,
 * else relayhost; "" for neither); transport_maps over reply. A table
 * failure sets RESOLVE_FLAG_FAIL in *flags / reply->flags. */
const char *resolve_sender_transport(const char *sender, int *flags);
const char *resolve_sender_relay(const char *sender, int *flags);
void    resolve_transport_maps(RESOLVE_REPLY *reply, const char *domain);

#endif
