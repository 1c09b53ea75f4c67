/*
 * smtpd.c - the SMTP server program: main() only.
 *
 * master runs "smtpd -n smtp -t inet [-o name=value]..." with the
 * listening socket inherited; the single-server skeleton (server.h)
 * accepts one client at a time, drops to mail_owner, and calls
 * smtpd_service() per connection. "smtpd -d" serves stdin/stdout once.
 * The protocol is in smtpd_proto.c and the modules listed in smtpd.h.
 *
 * SECURITY: everything a client sends is untrusted; see smtpd.h for the
 * bounds. smtpd runs as mail_owner and never opens queue files itself.
 */
#include "msg.h"
#include "server.h"
#include "smtpd.h"

static void
smtpd_service(STREAM *client)
{
    SMTPD_STATE state;

    smtpd_state_init(&state, client);
    smtpd_peer_init(&state);
    smtpd_session(&state);
    smtpd_state_free(&state);
}

static void
smtpd_post_init(const char *service, ARGV *args)
{
    smtpd_params_load();
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = NULL,
        .post_init = smtpd_post_init,
        .keep_root = 0,
    };

    msg_init("smtpd", 0);
    single_server_main(argc, argv, smtpd_service, &opts);
}
