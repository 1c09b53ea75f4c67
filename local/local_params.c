/*
 * local_params.c - the parameters of the local delivery agent, read once.
 *
 * Interface (local.h): local_params_init() reads every parameter local
 * uses into the var_* variables declared in local.h, from the one
 * parameter table (lib/global/params.c, the only place a default
 * lives). main() calls it in pre_init, after main.cf and the master.cf
 * -o overrides; local restarts on "postfix reload", so it is never read
 * again. forward_path, luser_relay and mailbox_command are kept
 * unexpanded (PARAM_FLAG_RAW): local_expand() expands them per recipient;
 * the main.cf parameters they name are looked up here, once
 * (local_expand_init()).
 *
 * DIAGNOSTICS: a bad value (a time or number that does not parse, or is
 * out of the table's range) is fatal with the parameter's name and value,
 * before local serves a request.
 */
#include "config.h"
#include "local.h"

/* Aliases and addresses (local_recipient.c, local_token.c, local_forward.c). */
const char *var_alias_maps;
const char *var_forward_path;
const char *var_luser_relay;
const char *var_recipient_delimiter;
const char *var_myorigin;
const char *var_local_transport;
const char *var_allow_mail_to_commands;
const char *var_allow_mail_to_files;
const char *var_command_expansion_filter;
const char *var_forward_expansion_filter;
const char *var_prepend_delivered_header;

/* Mailboxes (local_recipient.c, local_mbox.c). */
const char *var_mailbox_command;
const char *var_home_mailbox;
const char *var_mail_spool_directory;
long    var_deliver_lock_attempts;
long    var_deliver_lock_delay;
long    var_stale_lock_time;

/* Delivery children and commands (local_child.c, local_command.c). */
const char *var_default_privs;
long    var_mailbox_size_limit;
long    var_command_time_limit;
const char *var_export_environment;
const char *var_local_command_shell;

static const CONFIG_VAR local_vars[] = {
    CONFIG_VAR_STR("alias_maps", &var_alias_maps),
    CONFIG_VAR_STR("forward_path", &var_forward_path),
    CONFIG_VAR_STR("luser_relay", &var_luser_relay),
    CONFIG_VAR_STR("recipient_delimiter", &var_recipient_delimiter),
    CONFIG_VAR_STR("myorigin", &var_myorigin),
    CONFIG_VAR_STR("local_transport", &var_local_transport),
    CONFIG_VAR_STR("allow_mail_to_commands", &var_allow_mail_to_commands),
    CONFIG_VAR_STR("allow_mail_to_files", &var_allow_mail_to_files),
    CONFIG_VAR_STR("command_expansion_filter", &var_command_expansion_filter),
    CONFIG_VAR_STR("forward_expansion_filter", &var_forward_expansion_filter),
    CONFIG_VAR_STR("prepend_delivered_header", &var_prepend_delivered_header),
    CONFIG_VAR_STR("mailbox_command", &var_mailbox_command),
    CONFIG_VAR_STR("home_mailbox", &var_home_mailbox),
    CONFIG_VAR_STR("mail_spool_directory", &var_mail_spool_directory),
    CONFIG_VAR_INT("deliver_lock_attempts", &var_deliver_lock_attempts),
    CONFIG_VAR_TIME("deliver_lock_delay", &var_deliver_lock_delay),
    CONFIG_VAR_TIME("stale_lock_time", &var_stale_lock_time),
    CONFIG_VAR_STR("default_privs", &var_default_privs),
    CONFIG_VAR_SIZE("mailbox_size_limit", &var_mailbox_size_limit),
    CONFIG_VAR_TIME("command_time_limit", &var_command_time_limit),
    CONFIG_VAR_STR("export_environment", &var_export_environment),
    CONFIG_VAR_STR("local_command_shell", &var_local_command_shell),
    CONFIG_VAR_END,
};

void
local_params_init(void)
{
    config_read_vars(local_vars);
    local_expand_reset();
    local_expand_init(var_forward_path);
    local_expand_init(var_luser_relay);
    local_expand_init(var_mailbox_command);
}
