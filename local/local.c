/*
 * local.c - main() of the local delivery agent.
 *
 * Interface: run by master as "local unix - n n - - local" (root; the
 * skeleton keeps root because of opts.keep_root). See local.h for the
 * parts; each connection is one delivery request (local_service.c).
 * pre_init (root, after main.cf and -o) reads the parameters
 * (local_params.c) and opens the alias tables.
 *
 * SECURITY: local stays root so that it can become each recipient: it
 * writes user files itself with the recipient's effective ids (real and
 * saved uid root) and runs commands in children that drop to the
 * recipient (local_child.c).
 *
 * DIAGNOSTICS: start-up problems are fatal: the skeleton's (server.c) and
 * a bad parameter value (local_params.c, resolve_params_init()); the
 * run-time warnings are the other local_*.c files'.
 */
#include "local.h"
#include "msg.h"
#include "resolve.h"
#include "server.h"

static void
local_pre_init(const char *service, ARGV *args)
{
    local_params_init();
    resolve_params_init();              /* local domains: a bad value is fatal now */
    local_init();
}

int
main(int argc, char **argv)
{
    SERVER_OPTS opts = {0};

    msg_init("local", 0);
    opts.pre_init = local_pre_init;
    opts.keep_root = 1;
    single_server_main(argc, argv, local_service, &opts);
}
