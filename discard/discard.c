/*
 * discard.c - main() of the discard delivery agent (see discard.h).
 * Runs as mail_owner, one request per client.
 *
 * SECURITY: reads only the delivery request (checked by
 * deliver_request_read); the message content is never read.
 */
#include "msg.h"
#include "server.h"
#include "discard.h"

int
main(int argc, char **argv)
{
    SERVER_OPTS opts = {0};

    msg_init(argv[0], 0);
    single_server_main(argc, argv, discard_service, &opts);
}
