/*
 * error.c - the error delivery agent. One binary for two master.cf
 * services:
 *   error unix - - n - - error     bounce every recipient
 *   retry unix - - n - - error     defer every recipient
 * It defers instead of bouncing when its service name (or argv[0]) is
 * "retry", and under soft_bounce = yes. Runs as mail_owner, one request
 * per client.
 *
 * The next hop of the request is the reason ("error:mail for this
 * domain is not accepted", "local_transport = error:local mail delivery
 * is disabled"); it may start with an RFC 3463 code ("5.1.1 no such
 * user"). The request itself is handled by verdict_service()
 * (lib/global/verdict.c), which discard shares: default reason
 * "delivery failed", code 5.0.0 (4.0.0 when deferring).
 *
 * SECURITY: reads only the delivery request (checked by
 * deliver_request_read) and writes nothing but log lines and the reply.
 *
 * DIAGNOSTICS: a bad soft_bounce value is fatal at start
 * (config_read_vars), as are the skeleton's start-up problems (server.c);
 * a request that cannot be read or answered is a warning
 * (deliver_request_serve()).
 */

#include "config.h"
#include "msg.h"
#include "server.h"
#include "verdict.h"

#define ERROR_REASON_DEFAULT "delivery failed"

static int var_soft_bounce;
static int error_defer_only;    /* set once after the privilege drop */

static const CONFIG_VAR error_vars[] = {
    CONFIG_VAR_BOOL("soft_bounce", &var_soft_bounce),
    CONFIG_VAR_END,
};

/* The parameters, read once (error restarts on "postfix reload"). */
static void
error_post_init(const char *service, ARGV *args)
{
    config_read_vars(error_vars);
    error_defer_only = var_soft_bounce || server_named(service, "retry");
}

static void
error_service(STREAM *client)
{
    verdict_service(client, error_defer_only ? DELIVER_DEFER : DELIVER_BOUNCE,
                    ERROR_REASON_DEFAULT);
}

int
main(int argc, char **argv)
{
    SERVER_OPTS opts = {0};

    msg_init(argv[0], 0);
    opts.post_init = error_post_init;
    single_server_main(argc, argv, error_service, &opts);
}
