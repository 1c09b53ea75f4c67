/*
 * postqueue_params.c - postqueue's parameters.
 *
 * Interface (postqueue.h): postqueue_params_init() reads the var_*
 * variables once, after main.cf is loaded (postqueue.c keeps the order:
 * environment sanitizing, configuration directory check, main.cf, then
 * this table).
 *
 * DIAGNOSTICS: a bad number or time, or one outside the bounds in
 * lib/global/params.c, is fatal with the parameter's name and value.
 */
#include "config.h"
#include "postqueue.h"

const char *var_queue_dir;
const char *var_daemon_dir;
const char *var_mail_owner;
const char *var_flush_acl;
const char *var_showq_acl;
long    var_ipc_timeout;

static const CONFIG_VAR postqueue_vars[] = {
    CONFIG_VAR_STR("queue_directory", &var_queue_dir),
    CONFIG_VAR_STR("daemon_directory", &var_daemon_dir),
    CONFIG_VAR_STR("mail_owner", &var_mail_owner),
    CONFIG_VAR_STR("authorized_flush_users", &var_flush_acl),
    CONFIG_VAR_STR("authorized_mailq_users", &var_showq_acl),
    CONFIG_VAR_TIME("ipc_timeout", &var_ipc_timeout),
    CONFIG_VAR_END,
};

void
postqueue_params_init(void)
{
    config_read_vars(postqueue_vars);
}
