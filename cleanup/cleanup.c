/*
 * cleanup.c - the cleanup daemon: the only program that creates queue
 * files. Runs under master as service "cleanup" (public/cleanup, unix);
 * smtpd and pickup are its clients. The work is in cleanup_service.c.
 */
#include "cleanup.h"
#include "msg.h"
#include "server.h"

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {0};

    msg_init("cleanup", 0);
    single_server_main(argc, argv, cleanup_service, &opts);
}
