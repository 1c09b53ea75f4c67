/*
 * sendmail_params.c - the sendmail command's parameters.
 *
 * Interface (sendmail.h): sendmail_params_init() reads the var_*
 * variables once, after main.cf is loaded (sendmail.c: options first,
 * then main.cf, then this table).
 *
 * DIAGNOSTICS: a bad number or size, or one outside the bounds in
 * lib/global/params.c, is fatal with the parameter's name and value.
 */
#include "config.h"
#include "sendmail.h"

const char *var_command_dir;
const char *var_daemon_dir;
const char *var_alias_db;
long    var_line_limit;
long    var_header_limit;
long    var_message_limit;

static const CONFIG_VAR sendmail_vars[] = {
    CONFIG_VAR_STR("command_directory", &var_command_dir),
    CONFIG_VAR_STR("daemon_directory", &var_daemon_dir),
    CONFIG_VAR_STR("alias_database", &var_alias_db),
    CONFIG_VAR_INT("line_length_limit", &var_line_limit),
    CONFIG_VAR_SIZE("header_size_limit", &var_header_limit),
    CONFIG_VAR_SIZE("message_size_limit", &var_message_limit),
    CONFIG_VAR_END,
};

void
sendmail_params_init(void)
{
    config_read_vars(sendmail_vars);
}
