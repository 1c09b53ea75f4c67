/*
 * pickup_params.c - the pickup daemon's parameters.
 *
 * Interface (pickup.h): pickup_params_init() reads them into the var_*
 * variables once, at start (pickup restarts on "postfix reload").
 * Defaults and bounds are those of the parameter table (lib/params.c);
 * a bad value is fatal with the parameter's name and value.
 *
 * DIAGNOSTICS: a bad parameter value is fatal at start with its name and
 * value (config_read_vars).
 */
#include "config.h"
#include "pickup.h"

/* ipc_timeout: checked at start; cleanup_clnt_open() applies it. */
const char *var_myhostname;
const char *var_mail_name;
long    var_line_limit;
long    var_ipc_timeout;
const char *var_filter_xport;

static const CONFIG_VAR pickup_vars[] = {
    CONFIG_VAR_STR("myhostname", &var_myhostname),
    CONFIG_VAR_STR("mail_name", &var_mail_name),
    CONFIG_VAR_INT("line_length_limit", &var_line_limit),
    CONFIG_VAR_TIME("ipc_timeout", &var_ipc_timeout),
    CONFIG_VAR_STR("content_filter", &var_filter_xport),
    CONFIG_VAR_END,
};

void
pickup_params_init(void)
{
    config_read_vars(pickup_vars);
}
