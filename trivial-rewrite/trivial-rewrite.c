/*
 * trivial-rewrite.c - the address rewriting and resolving service.
 *
 * Runs under master as service "rewrite" (private/rewrite, unix). A
 * multi-client server: each client keeps its connection and sends
 * {request=rewrite|resolve, ...} lists (mail_proto.h) after the server's
 * {protocol=rewrite} greeting on connect; see trivial-rewrite_service.c.
 *
 * DIAGNOSTICS: start-up problems are fatal: the skeleton's (server.c) and
 * bad parameter values (resolve.c); the run-time warnings are
 * trivial-rewrite_service.c's.
 */
#include "msg.h"
#include "resolve.h"
#include "server.h"
#include "trivial-rewrite.h"

/*
 * As root, before the chroot (master.cf chroot = y): read the parameters
 * once (a bad value is fatal here, at start) and open transport_maps,
 * sender_dependent_relayhost_maps, sender_dependent_default_transport_maps
 * and the tables in the domain lists; resolve_maps() caches them by spec for
 * the process lifetime, so later lookups never open files.
 */
static void
rewrite_pre_init(const char *service, ARGV *args)
{
    resolve_params_init();
    resolve_maps_preopen();
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = rewrite_pre_init,
        .on_accept = rewrite_greet,
    };

    msg_init("trivial-rewrite", 0);
    multi_server_main(argc, argv, rewrite_service, &opts);
}
