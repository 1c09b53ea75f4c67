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
 * bounds. smtpd runs as mail_owner and never opens queue files itself;
 * the TLS keys are read in pre_init, as root, before the privilege drop
 * (Debian's snakeoil key is 0640 root:ssl-cert).
 *
 * DIAGNOSTICS: fatal at start with restriction lists that cannot stop
 * unauthorized relaying (smtpd_check_relay_safety). A parameter that
 * posthorn does not implement and whose absence would leave mail less
 * protected (param_guard.h) makes every client get "421 4.3.5 Server
 * configuration problem" and the process end with a fatal log line
 * naming the parameter (inside TLS on a wrapper-mode port).
 */
#include "msg.h"
#include "param_guard.h"
#include "server.h"
#include "smtpd.h"
#include "smtpd_sasl.h"

static char *smtpd_refusal;             /* param_guard_refusal(), or NULL */

static void
smtpd_service(STREAM *client)
{
    SMTPD_STATE state;

    if (smtpd_refusal != NULL) {
        smtpd_tls_refuse(client, "421 4.3.5 Server configuration problem\r\n");
        msg_fatal("%s", smtpd_refusal);
    }

    smtpd_state_init(&state, client);
    smtpd_peer_init(&state);
    smtpd_sasl_connect(&state);         /* fatal without the auth server, as Postfix */
    smtpd_proto_session(&state);
    smtpd_tls_stop(&state);
    smtpd_sasl_disconnect(&state);
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
    smtpd_params_init();
    smtpd_tls_init();                   /* keys: read as root (0640 root:ssl-cert) */
    smtpd_refusal = param_guard_refusal("smtpd");
    if (smtpd_refusal == NULL)
        smtpd_refusal = smtpd_sasl_init();      /* smtpd_sasl_type: dovecot only */
    if (smtpd_refusal != NULL)
        return;
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
