/*
 * postdrop_params.c - postdrop's parameters.
 *
 * Interface (postdrop.h): postdrop_params_init() reads the var_*
 * variables once, after main.cf is loaded (postdrop.c keeps the order:
 * environment sanitizing, configuration directory check, main.cf, then
 * this table).
 *
 * DIAGNOSTICS: a bad number or size, or one outside the bounds in
 * lib/global/params.c, is fatal with the parameter's name and value.
 */
#include "config.h"
#include "postdrop.h"

const char *var_queue_dir;
const char *var_pickup_service;
const char *var_submit_acl;
long    var_message_limit;
long    var_line_limit;

static const CONFIG_VAR postdrop_vars[] = {
    CONFIG_VAR_STR("queue_directory", &var_queue_dir),
    CONFIG_VAR_STR("pickup_service_name", &var_pickup_service),
    CONFIG_VAR_STR("authorized_submit_users", &var_submit_acl),
    CONFIG_VAR_SIZE("message_size_limit", &var_message_limit),
    CONFIG_VAR_INT("line_length_limit", &var_line_limit),
    CONFIG_VAR_END,
};

void
postdrop_params_init(void)
{
    config_read_vars(postdrop_vars);
}
