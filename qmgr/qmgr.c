/*
 * qmgr.c - the queue manager: main() and the trigger handler.
 *
 * master.cf: "qmgr unix n - n 300 1 qmgr" (one process; master writes a
 * 'W' wakeup every 300 seconds). It runs as mail_owner in
 * $queue_directory (the trigger skeleton does both).
 *
 * Triggers on public/qmgr, one byte each (several may arrive at once):
 *   I  scan incoming/
 *   D  scan deferred/ for messages whose retry time has come
 *   A  scan incoming/ and all of deferred/, ignoring retry times
 *   F  forget dead transports (flush); with D/A it retries them now
 *   W  wakeup: scan incoming/ and the due part of deferred/
 * Anything else is ignored with a warning.
 *
 * At start every file left in active/ (in flight when qmgr stopped) goes
 * back to incoming/ and incoming/ is scanned: a delivery may repeat,
 * no message is lost. Finished messages hand their bounce and trace logs
 * to the bounce and trace services (qmgr_bounce_flush). The rest is in
 * qmgr_*.c (see qmgr.h).
 *
 * DIAGNOSTICS: start-up problems are fatal (the daemon skeleton, server.c,
 * and bad parameter values, qmgr_param.c); an unknown trigger byte is a
 * warning and is ignored.
 */
#include "mail_proto.h"
#include "msg.h"
#include "server.h"
#include "qmgr.h"

static void
qmgr_trigger(const char *buf, int len)
{
    int     flags = 0;

    for (int i = 0; i < len; i++) {
        switch (buf[i]) {
        case QMGR_REQ_SCAN_INCOMING:
            flags |= QMGR_SCAN_INCOMING;
            break;
        case QMGR_REQ_SCAN_DEFERRED:
            flags |= QMGR_SCAN_DEFERRED;
            break;
        case QMGR_REQ_SCAN_ALL:
            flags |= QMGR_SCAN_INCOMING | QMGR_SCAN_DEFERRED | QMGR_SCAN_ALL;
            break;
        case QMGR_REQ_FLUSH_DEAD:
            qmgr_sched_flush_dead();
            break;
        case TRIGGER_REQ_WAKEUP:
            flags |= QMGR_SCAN_INCOMING | QMGR_SCAN_DEFERRED;
            break;
        default:
            msg_warn("ignoring unknown trigger request 0x%02x", (unsigned char) buf[i]);
            break;
        }
    }
    if (flags)
        qmgr_scan_request(flags);
    else
        qmgr_sched_kick();
}

static void
qmgr_post_init(const char *service, ARGV *args)
{
    qmgr_params_init();
    qmgr_log_flush_fn = qmgr_bounce_flush;
    qmgr_scan_recover();
    qmgr_sched_timers_init();
    qmgr_sched_flow();                 /* in_flow_delay tokens for cleanup */
    qmgr_scan_request(QMGR_SCAN_INCOMING);
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {.post_init = qmgr_post_init};

    msg_init("qmgr", 0);
    trigger_server_main(argc, argv, qmgr_trigger, &opts);
}
