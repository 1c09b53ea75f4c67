/*
 * cleanup.c - the cleanup daemon: the only program that creates queue
 * files. Runs under master as service "cleanup" (public/cleanup, unix);
 * smtpd and pickup are its clients. The work is in cleanup_service.c.
 *
 * DIAGNOSTICS: start-up problems are fatal (the skeleton, server.c, and a
 * bad parameter value, cleanup_params.c); the run-time warnings are the
 * other cleanup_*.c files'.
 */
#include "cleanup.h"
#include "msg.h"
#include "resolve.h"
#include "server.h"

/* As root, before the chroot (master.cf chroot = y): read the parameters
 * and open every table now; they stay for the process lifetime. */
static void
cleanup_pre_init(const char *service, ARGV *args)
{
    cleanup_params_init();
    resolve_params_init();
    cleanup_map_load();
    cleanup_checks_load();
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = cleanup_pre_init,
    };

    msg_init("cleanup", 0);
    single_server_main(argc, argv, cleanup_service, &opts);
}
