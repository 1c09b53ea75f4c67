/*
 * proxymap.c - the lookup table proxy server: main() only.
 *
 * master.cf (Debian's and posthorn's):
 *   proxymap   unix - - n - - proxymap     read-only lookups
 *   proxywrite unix - - n - 1 proxymap     updates, one process
 * Not chrooted: its job is to reach tables that a chrooted daemon cannot
 * see (local_recipient_maps = proxy:unix:passwd.byname $alias_maps for a
 * chrooted smtpd), and to share one open table among many clients. The
 * service name picks the role: $proxywrite_service_name serves
 * $proxy_write_maps with updates allowed, any other name serves
 * $proxy_read_maps read-only. Protocol: lib/dict/dict_proxy.h; requests
 * are handled in proxymap_service.c.
 *
 * SECURITY: runs as mail_owner (unpriv column "-"); clients are local
 * daemons on a private socket, still untrusted: only tables that the
 * administrator listed (with "proxy:") are ever opened.
 *
 * DIAGNOSTICS: fatal at start-up for bad parameters and the daemon
 * skeleton's errors (server.c); nothing fatal per client.
 */
#include <string.h>

#include "config.h"
#include "msg.h"
#include "proxymap.h"
#include "server.h"

static const char *var_proxywrite_service;
static const CONFIG_VAR proxymap_vars[] = {
    CONFIG_VAR_STR("proxywrite_service_name", &var_proxywrite_service),
    CONFIG_VAR_END,
};

static void
proxymap_pre_init(const char *service, ARGV *args)
{
    config_read_vars(proxymap_vars);
    proxymap_init(strcmp(service, var_proxywrite_service) == 0);
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = proxymap_pre_init,
        .on_accept = proxymap_greet,
    };

    msg_init("proxymap", 0);
    multi_server_main(argc, argv, proxymap_service, &opts);
}
