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
 * It refuses to start (fatal) with restriction lists that cannot stop
 * unauthorized relaying (smtpd_check_relay_safety).
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

/*
 * Runs as root before the chroot (master.cf chroot = y) and the privilege
 * drop: every lookup table smtpd uses is opened here and kept open for
 * the process lifetime, so hash:/etc/postfix/... still works in the jail.
 */
static void
smtpd_pre_init(const char *service, ARGV *args)
{
    smtpd_params_load();
    smtpd_check_relay_safety();         /* no open relay: fatal before serving */
    smtpd_check_preopen();
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = smtpd_pre_init,
        .post_init = NULL,
        .keep_root = 0,
    };

    msg_init("smtpd", 0);
    single_server_main(argc, argv, smtpd_service, &opts);
}
