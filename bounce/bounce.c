/*
 * bounce.c - the bounce daemon: delivery status notifications.
 *
 * master.cf runs one program for three services:
 *   bounce unix - - n - 0 bounce     (bounce/ID: non-delivery notices)
 *   defer  unix - - n - 0 bounce     (defer/ID)
 *   trace  unix - - n - 0 bounce     (trace/ID)
 * as mail_owner, one client per process (single server); the service
 * name picks the log. It greets each client with {protocol=bounce}; the
 * requests are in mail_proto.h, the work in bounce_service.c.
 *
 * Parameters are read once, after the privilege drop, from the one table
 * (lib/global/params.c); a bad value is fatal with its name and value.
 *
 * DIAGNOSTICS: a bad parameter value is fatal at start (config_read_vars),
 * and so are the skeleton's start-up problems (server.c); the run-time
 * warnings are bounce_service.c's and bounce_notify.c's.
 */
#include "config.h"
#include "msg.h"
#include "server.h"
#include "bounce.h"

const char *var_myhostname;
const char *var_mail_name;
long    var_bounce_limit;
long    var_delay_warn_time;
long    var_max_queue_time;
const char *var_double_bounce_sender;
const char *var_2bounce_rcpt;
const char *var_bounce_rcpt;
const char *var_delay_rcpt;
const char *var_notify_classes;
long    var_ipc_timeout;
int     var_smtputf8_enable;

static const CONFIG_VAR bounce_vars[] = {
    CONFIG_VAR_STR("myhostname", &var_myhostname),
    CONFIG_VAR_STR("mail_name", &var_mail_name),
    CONFIG_VAR_SIZE("bounce_size_limit", &var_bounce_limit),
    CONFIG_VAR_TIME("delay_warning_time", &var_delay_warn_time),
    CONFIG_VAR_TIME("maximal_queue_lifetime", &var_max_queue_time),
    CONFIG_VAR_STR("double_bounce_sender", &var_double_bounce_sender),
    CONFIG_VAR_STR("2bounce_notice_recipient", &var_2bounce_rcpt),
    CONFIG_VAR_STR("bounce_notice_recipient", &var_bounce_rcpt),
    CONFIG_VAR_STR("delay_notice_recipient", &var_delay_rcpt),
    CONFIG_VAR_STR("notify_classes", &var_notify_classes),
    CONFIG_VAR_TIME("ipc_timeout", &var_ipc_timeout),
    CONFIG_VAR_BOOL("smtputf8_enable", &var_smtputf8_enable),
    CONFIG_VAR_END,
};

void
bounce_params_init(void)
{
    config_read_vars(bounce_vars);
}

static void
bounce_post_init(const char *service, ARGV *args)
{
    bounce_params_init();
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .post_init = bounce_post_init,
        .on_accept = bounce_greet,
    };

    msg_init("bounce", 0);
    single_server_main(argc, argv, bounce_service, &opts);
}
