/*
 * flush.c - the fast flush service: main() and the parameters.
 *
 * master.cf: "flush unix n - n 1000? 0 flush" (public/flush, as Postfix:
 * postqueue, which is not mail_owner, connects to it). For each site in
 * fast_flush_domains (default $relay_domains) it keeps a list of the
 * queue ids with mail deferred for that site in $queue_directory/flush/
 * <site>, filled by qmgr for each deferral (flush_clnt_add); ETRN,
 * "postqueue -s site" and "sendmail -qRsite" (flush_clnt_send_site)
 * move exactly those messages from deferred/ to incoming/ and wake
 * qmgr, so only that site's mail is tried at once. The requests and the
 * files: flush_service.c.
 *
 * Parameters: fast_flush_domains (through lib/global/resolve.c),
 * fast_flush_refresh_time, fast_flush_purge_time.
 *
 * SECURITY: runs as mail_owner (the skeleton drops privileges before the
 * first request); requests come from local users through postqueue and
 * remote clients through smtpd's ETRN, and are checked
 * (flush_service.c).
 *
 * DIAGNOSTICS: a bad parameter value is fatal at start
 * (config_read_vars); at run time only warnings.
 */
#include "config.h"
#include "msg.h"
#include "server.h"
#include "flush.h"

long    var_flush_refresh;
long    var_flush_purge;

static const CONFIG_VAR flush_vars[] = {
    CONFIG_VAR_TIME("fast_flush_refresh_time", &var_flush_refresh),
    CONFIG_VAR_TIME("fast_flush_purge_time", &var_flush_purge),
    CONFIG_VAR_END,
};

static void
flush_pre_init(const char *service, ARGV *args)
{
    config_read_vars(flush_vars);
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = flush_pre_init,
        .on_accept = flush_greet,
    };

    msg_init("flush", 0);
    single_server_main(argc, argv, flush_service, &opts);
}
