/*
 * discard.c - the discard delivery agent ("discard unix - - n - -
 * discard" in master.cf). Runs as mail_owner, one request per client.
 *
 * Every recipient of the request counts as delivered; the log line
 * names the next hop as the reason, as Postfix does:
 *   ID: to=<rcpt>, relay=none, delay=.., delays=.., dsn=2.0.0, status=sent (reason)
 * The next hop is whatever the transport entry says after "discard:"
 * (or, when that is empty, the resolver's default: the recipient
 * domain). A leading "X.Y.Z" code replaces the default 2.0.0, as class 2.
 * The request is handled by verdict_service() (lib/global/verdict.c),
 * which the error agent shares.
 *
 * SECURITY: reads only the delivery request (checked by
 * deliver_request_read); the message content is never read.
 *
 * DIAGNOSTICS: start-up problems are fatal in the daemon skeleton
 * (server.c); a request that cannot be read or answered is a warning
 * (deliver_request_serve()).
 */
#include "msg.h"
#include "server.h"
#include "verdict.h"

#define DISCARD_REASON_DEFAULT "discarded"

static void
discard_service(STREAM *client)
{
    verdict_service(client, DELIVER_SENT, DISCARD_REASON_DEFAULT);
}

int
main(int argc, char **argv)
{
    SERVER_OPTS opts = {0};

    msg_init(argv[0], 0);
    single_server_main(argc, argv, discard_service, &opts);
}
