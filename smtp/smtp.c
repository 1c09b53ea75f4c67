/*
 * smtp.c - main() of the SMTP and LMTP delivery agent.
 *
 * Interface: run by master as "smtp unix - - n - - smtp" (also as
 * "relay") and as "lmtp unix - - n - - lmtp". The program speaks LMTP
 * when its name (argv[0]) or its master.cf service name is "lmtp".
 * Each connection from qmgr is one delivery request (smtp_service.c);
 * the program runs as mail_owner (the skeleton drops privileges).
 *
 * SECURITY: talks to untrusted servers and DNS; see smtp_proto.c,
 * smtp_reply.c and smtp_dns.c for the bounds.
 *
 * DIAGNOSTICS: start-up problems are fatal: the skeleton's (server.c) and
 * bad parameter values (smtp_param.c).
 */

#include "msg.h"
#include "server.h"
#include "smtp.h"

/* As root, before any chroot: the TLS CA data, the SASL plug-ins and the
 * smtp_generic_maps tables. */
static void
smtp_pre_init(const char *service, ARGV *args)
{
    smtp_tls_init(server_named(service, "lmtp"));
    smtp_sasl_init(server_named(service, "lmtp"));
    smtp_generic_init(server_named(service, "lmtp"));
}

static void
smtp_post_init(const char *service, ARGV *args)
{
    smtp_params_init(server_named(service, "lmtp"));
}

int
main(int argc, char **argv)
{
    SERVER_OPTS opts = {0};

    msg_init(argv[0], 0);
    opts.pre_init = smtp_pre_init;
    opts.post_init = smtp_post_init;
    single_server_main(argc, argv, smtp_service, &opts);
}
