/*
 * trivial-rewrite.c - the address rewriting and resolving service.
 *
 * Runs under master as service "rewrite" (private/rewrite, unix). A
 * multi-client server: each client keeps its connection and sends
 * {request=rewrite|resolve, ...} lists (mail_proto.h) after the server's
 * {protocol=rewrite} greeting on connect; see trivial-rewrite_service.c.
 */
#include "msg.h"
#include "server.h"
#include "trivial-rewrite.h"

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .on_accept = rewrite_greet,
    };

    msg_init("trivial-rewrite", 0);
    multi_server_main(argc, argv, rewrite_service, &opts);
}
