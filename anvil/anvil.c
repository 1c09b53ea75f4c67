/*
 * anvil.c - the connection and rate limit server: main() only.
 *
 * master.cf: "anvil unix - - n - 1 anvil" (private/anvil, one process,
 * as mail_owner). smtpd processes keep one connection each and ask it
 * to count their clients' connections, messages and recipients
 * (protocol: mail_proto.h "anvil"); the counters live in memory only
 * (anvil_table.c), the requests are handled in anvil_service.c.
 *
 * As in Postfix, max_use does not apply: the counters must outlive any
 * number of smtpd processes, so main() puts "-o max_use=<huge>" in front
 * of master's arguments (a master.cf -o still wins). The skeleton's
 * max_idle applies: with no smtpd connected for that long, anvil exits and
 * its (by then mostly expired) counters go with it.
 *
 * SECURITY: runs as mail_owner; its clients are local daemons on a
 * private socket, still treated as untrusted (see anvil_service.c).
 *
 * DIAGNOSTICS: start-up problems are fatal in the daemon skeleton
 * (server.c: a bad option or parameter value, a failed privilege drop);
 * the run-time warnings are anvil_service.c's.
 */
#include "anvil.h"
#include "msg.h"
#include "server.h"

#define ANVIL_MAX_USE_OPT "max_use=1000000000"

static void
anvil_post_init(const char *service, ARGV *args)
{
    anvil_init();
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .post_init = anvil_post_init,
        .on_accept = anvil_greet,
    };
    static const char *const defaults[] = {ANVIL_MAX_USE_OPT, NULL};
    char  **args = server_default_opts(&argc, argv, defaults);

    msg_init("anvil", 0);
    multi_server_main(argc, args, anvil_service, &opts);
}
