/*
 * error.c - main() of the error delivery agent (services "error" and
 * "retry"; see error.h). Runs as mail_owner, one request per client.
 *
 * SECURITY: reads only the delivery request (checked by
 * deliver_request_read) and writes nothing but log lines and the reply.
 */
#include <string.h>

#include "config.h"
#include "msg.h"
#include "server.h"
#include "error.h"

static int var_soft_bounce;

static const CONFIG_VAR error_vars[] = {
    CONFIG_VAR_BOOL("soft_bounce", &var_soft_bounce),
    CONFIG_VAR_END,
};

/* The parameters, read once (error restarts on "postfix reload"). */
static void
error_post_init(const char *service, ARGV *args)
{
    config_read_vars(error_vars);
    error_defer_only = var_soft_bounce || strcmp(msg_program(), "retry") == 0
        || (service && strcmp(service, "retry") == 0);
}

int
main(int argc, char **argv)
{
    SERVER_OPTS opts = {0};

    msg_init(argv[0], 0);
    opts.post_init = error_post_init;
    single_server_main(argc, argv, error_service, &opts);
}
