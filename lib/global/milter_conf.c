/*
 * milter_conf.c - the milter_* parameters, read once at start-up by the
 * programs that run milters (smtpd, cleanup).
 *
 * Interface (milter.h): milter_conf_read(conf) fills a MILTER_CONF with
 * milter_connect_timeout, milter_command_timeout, milter_content_timeout,
 * milter_default_action, milter_protocol and the milter_*_macros lists;
 * milter_conf_macro_defaults(ms) sets the values every event may use
 * (j, {daemon_name}, v) from myhostname, milter_macro_daemon_name and
 * milter_macro_v.
 *
 * DIAGNOSTICS: a bad value is fatal (config_read_vars, milters_create).
 */
#include "config.h"
#include "milter.h"
#include "msg.h"

static long var_milt_conn_time;
static long var_milt_cmd_time;
static long var_milt_cont_time;
static const char *var_milt_def_action;
static long var_milt_protocol;
static const char *var_milt_mac[MILTER_MAC_STAGES];
static const char *var_milt_daemon_name;
static const char *var_milt_v;
static const char *var_milt_myhostname;

static const CONFIG_VAR milter_vars[] = {
    CONFIG_VAR_TIME("milter_connect_timeout", &var_milt_conn_time),
    CONFIG_VAR_TIME("milter_command_timeout", &var_milt_cmd_time),
    CONFIG_VAR_TIME("milter_content_timeout", &var_milt_cont_time),
    CONFIG_VAR_STR("milter_default_action", &var_milt_def_action),
    CONFIG_VAR_INT("milter_protocol", &var_milt_protocol),
    CONFIG_VAR_STR("milter_connect_macros", &var_milt_mac[MILTER_MAC_CONNECT]),
    CONFIG_VAR_STR("milter_helo_macros", &var_milt_mac[MILTER_MAC_HELO]),
    CONFIG_VAR_STR("milter_mail_macros", &var_milt_mac[MILTER_MAC_MAIL]),
    CONFIG_VAR_STR("milter_rcpt_macros", &var_milt_mac[MILTER_MAC_RCPT]),
    CONFIG_VAR_STR("milter_data_macros", &var_milt_mac[MILTER_MAC_DATA]),
    CONFIG_VAR_STR("milter_end_of_data_macros", &var_milt_mac[MILTER_MAC_EOM]),
    CONFIG_VAR_STR("milter_end_of_header_macros", &var_milt_mac[MILTER_MAC_EOH]),
    CONFIG_VAR_STR("milter_unknown_command_macros", &var_milt_mac[MILTER_MAC_UNKNOWN]),
    CONFIG_VAR_STR("milter_macro_daemon_name", &var_milt_daemon_name),
    CONFIG_VAR_STR("milter_macro_v", &var_milt_v),
    CONFIG_VAR_STR("myhostname", &var_milt_myhostname),
    CONFIG_VAR_END,
};

void
milter_conf_read(MILTER_CONF *conf)
{
    config_read_vars(milter_vars);
    conf->conn_timeout = var_milt_conn_time;
    conf->cmd_timeout = var_milt_cmd_time;
    conf->content_timeout = var_milt_cont_time;
    conf->def_action = var_milt_def_action;
    conf->protocol = var_milt_protocol;
    for (int i = 0; i < MILTER_MAC_STAGES; i++)
        conf->macros[i] = var_milt_mac[i];
    if (milter_parse_action(conf->def_action) < 0)
        msg_fatal("bad milter_default_action \"%s\"", conf->def_action);
}

void
milter_conf_macro_defaults(MILTERS *ms)
{
    milters_macro_set(ms, "j", var_milt_myhostname);
    milters_macro_set(ms, "{daemon_name}", var_milt_daemon_name);
    milters_macro_set(ms, "v", var_milt_v);
}
