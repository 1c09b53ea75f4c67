/*
 * resolve.h - helpers shared by the rewrite/resolve code (resolve.c,
 * resolve_addr.c) and the trivial-rewrite service. The public interface
 * is rewrite_clnt.h; this is the small internal one.
 */
#ifndef POSTHORN_RESOLVE_H
#define POSTHORN_RESOLVE_H

#include <sys/socket.h>
#include "maps.h"

/* A parameter's expanded value, or dflt when posthorn does not know it. */
const char *resolve_param(const char *name, const char *dflt);
int     resolve_param_bool(const char *name, int dflt);
/* A table list opened once per spec and kept (title names it in logs). */
MAPS   *resolve_maps(const char *title, const char *spec);
/* Does domain match the domain list in parameter param? Table failures
 * set *fail and return 0. */
int     resolve_domain_list(const char *param, const char *domain, int *fail);
/* Is sa (AF_INET/AF_INET6, port ignored) an address of this host per
 * inet_interfaces ("all": every interface) and proxy_interfaces? The
 * list is looked up once per value of the two parameters. */
int     resolve_own_addr(const struct sockaddr_storage *sa);
/* "[1.2.3.4]" / "[IPv6:::1]" into sa; 0 or -1. */
int     resolve_literal_parse(const char *domain, struct sockaddr_storage *sa);

#endif
