/*
 * bounce.c - the bounce daemon: delivery status notifications.
 *
 * master.cf runs one program for three services:
 *   bounce unix - - n - 0 bounce     (bounce/ID: non-delivery notices)
 *   defer  unix - - n - 0 bounce     (defer/ID)
 *   trace  unix - - n - 0 bounce     (trace/ID)
 * as mail_owner, one client per process (single server); the service
 * name picks the log. It greets each client with {protocol=bounce}; the
 * requests are in mail_proto.h, the work in bounce_service.c.
 */
#include "msg.h"
#include "server.h"
#include "bounce.h"

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .on_accept = bounce_greet,
    };

    msg_init("bounce", 0);
    single_server_main(argc, argv, bounce_service, &opts);
}
