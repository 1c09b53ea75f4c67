/*
 * mail_params.c - read the parameters of the lib/global modules once.
 *
 * Interface: mail_params.h (mail_params, mail_params_init,
 * mail_params_need). mail_params_init() also tells the proxy: table type
 * where the proxymap services are (queue_directory,
 * proxymap_service_name, proxywrite_service_name, ipc_timeout), and
 * the table types in shared objects where they are (daemon_directory).
 *
 * DIAGNOSTICS: a bad value is fatal with the parameter's name and value
 * (config_read_vars); so is a negative delay_logging_resolution_limit,
 * which the table's range (0 = no minimum) cannot express. Using a value
 * before mail_params_init() is a programming error (panic).
 */
#include "config.h"
#include "dict_proxy.h"
#include "mail_params.h"
#include "msg.h"

MAIL_PARAMS mail_params;

/* Handed to the proxy: table type (lib/dict/dict_proxy.c). */
static const char *var_queue_dir;
static const char *var_proxymap_service;
static const char *var_proxywrite_service;
/* Handed to dict_plugin.c: where dict_pgsql.so etc. are. */
static const char *var_daemon_dir;

static const CONFIG_VAR mail_params_vars[] = {
    CONFIG_VAR_INT("delay_logging_resolution_limit",
                   &mail_params.delay_logging_resolution_limit),
    CONFIG_VAR_TIME("ipc_timeout", &mail_params.ipc_timeout),
    CONFIG_VAR_STR("myorigin", &mail_params.myorigin),
    CONFIG_VAR_STR("recipient_delimiter", &mail_params.recipient_delimiter),
    CONFIG_VAR_STR("hash_queue_names", &mail_params.hash_queue_names),
    CONFIG_VAR_INT("hash_queue_depth", &mail_params.hash_queue_depth),
    CONFIG_VAR_STR("receive_override_options", &mail_params.receive_override_options),
    CONFIG_VAR_STR("queue_directory", &var_queue_dir),
    CONFIG_VAR_STR("proxymap_service_name", &var_proxymap_service),
    CONFIG_VAR_STR("proxywrite_service_name", &var_proxywrite_service),
    CONFIG_VAR_STR("daemon_directory", &var_daemon_dir),
    CONFIG_VAR_END,
};

void
mail_params_init(void)
{
    config_read_vars(mail_params_vars);
    if (mail_params.delay_logging_resolution_limit < 0)
        msg_fatal("invalid delay_logging_resolution_limit parameter value %ld < 0",
                  mail_params.delay_logging_resolution_limit);
    dict_proxy_config(var_queue_dir, var_proxymap_service, var_proxywrite_service,
                      mail_params.ipc_timeout > 3600 ? 3600 : (int) mail_params.ipc_timeout);
    dict_plugin_config(var_daemon_dir);
    mail_params.ready = 1;
}

void
mail_params_need(const char *who)
{
    if (!mail_params.ready)
        msg_panic("%s: mail_params_init() was not called", who);
}
