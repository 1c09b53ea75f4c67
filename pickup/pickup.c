/*
 * pickup.c - the pickup daemon: takes locally submitted mail from the
 * maildrop queue and gives it to cleanup.
 *
 * master.cf:  pickup fifo n - n 60 1 pickup
 * Woken by postdrop ("W" on public/pickup) and by master's wakeup timer;
 * each wakeup scans maildrop/ (pickup_scan.c). Runs as $mail_owner.
 *
 * SECURITY: maildrop files are owned by unprivileged users; see
 * pickup_file.c for how they are opened and checked.
 *
 * DIAGNOSTICS: fatal at start when a parameter that non-SMTP mail needs
 * is set but not implemented (non_smtpd_milters, param_guard.h): the
 * mail waits in maildrop/ until the configuration is fixed.
 */
#include "msg.h"
#include "param_guard.h"
#include "pickup.h"
#include "server.h"

static void
pickup_service(const char *buf, int len)
{
    /* Any wakeup byte means the same: look at the maildrop queue. */
    pickup_scan();
}

/* As root, before the chroot (Debian's master.cf: chroot y). */
static void
pickup_pre_init(const char *service, ARGV *args)
{
    char   *refusal;

    pickup_file_init();
    pickup_params_init();
    refusal = param_guard_refusal("pickup");
    if (refusal != NULL)
        msg_fatal("%s", refusal);
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {.pre_init = pickup_pre_init};

    trigger_server_main(argc, argv, pickup_service, &opts);
}
