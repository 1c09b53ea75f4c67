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
 */
#include "pickup.h"
#include "server.h"

static void
pickup_service(const char *buf, int len)
{
    /* Any wakeup byte means the same: look at the maildrop queue. */
    pickup_scan();
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {0};

    trigger_server_main(argc, argv, pickup_service, &opts);
}
