/*
 * cleanup_params.c - the cleanup daemon's parameters.
 *
 * Interface (cleanup.h): cleanup_params_init() reads every parameter
 * cleanup uses into the var_* variables, once, in pre_init (cleanup
 * restarts on "postfix reload"). Defaults and bounds are those of the
 * one parameter table (lib/params.c); a bad value is fatal with the
 * parameter's name and value.
 *
 * DIAGNOSTICS: a bad parameter value is fatal at start with the
 * parameter's name and value (config_read_vars).
 */
#include "cleanup.h"
#include "config.h"

/* Per message (cleanup_envelope.c, cleanup_message.c, cleanup_service.c). */
long    var_smtpd_rcpt_limit;
long    var_dup_filter_limit;
long    var_message_limit;
long    var_line_limit;
long    var_header_limit;
int     var_replace_cr_lf;
long    var_hopcount_limit;
long    var_delay_warn_time;
const char *var_hfrom_format;
int     var_always_add_hdrs;
const char *var_myhostname;
long    var_ipc_timeout;
long    var_in_flow_delay;
const char *var_remote_rwr_domain;

/* Content checks (cleanup_checks.c). */
const char *var_header_checks;
const char *var_mimehdr_checks;
const char *var_nesthdr_checks;
const char *var_body_checks;
long    var_body_check_len;
long    var_mime_maxdepth;
int     var_disable_mime_input;

/* Address mapping (cleanup_map.c). */
const char *var_send_canon_maps;
const char *var_rcpt_canon_maps;
const char *var_canonical_maps;
const char *var_virt_alias_maps;
const char *var_send_canon_classes;
const char *var_rcpt_canon_classes;
const char *var_canon_classes;
const char *var_masq_classes;
const char *var_masq_domains;
const char *var_masq_exceptions;
long    var_virt_recur_limit;
long    var_virt_expan_limit;
const char *var_prop_extension;

/* Milters (cleanup_milter.c). */
const char *var_non_smtpd_milters;
const char *var_milt_head_checks;

static const CONFIG_VAR cleanup_vars[] = {
    CONFIG_VAR_STR("non_smtpd_milters", &var_non_smtpd_milters),
    CONFIG_VAR_STR("milter_header_checks", &var_milt_head_checks),
    CONFIG_VAR_INT("smtpd_recipient_limit", &var_smtpd_rcpt_limit),
    CONFIG_VAR_INT("duplicate_filter_limit", &var_dup_filter_limit),
    CONFIG_VAR_SIZE("message_size_limit", &var_message_limit),
    CONFIG_VAR_INT("line_length_limit", &var_line_limit),
    CONFIG_VAR_SIZE("header_size_limit", &var_header_limit),
    CONFIG_VAR_BOOL("cleanup_replace_stray_cr_lf", &var_replace_cr_lf),
    CONFIG_VAR_INT("hopcount_limit", &var_hopcount_limit),
    CONFIG_VAR_TIME("delay_warning_time", &var_delay_warn_time),
    CONFIG_VAR_TIME("in_flow_delay", &var_in_flow_delay),
    CONFIG_VAR_STR("header_from_format", &var_hfrom_format),
    CONFIG_VAR_BOOL("always_add_missing_headers", &var_always_add_hdrs),
    CONFIG_VAR_STR("myhostname", &var_myhostname),
    CONFIG_VAR_TIME("ipc_timeout", &var_ipc_timeout),
    CONFIG_VAR_STR("remote_header_rewrite_domain", &var_remote_rwr_domain),
    CONFIG_VAR_STR("header_checks", &var_header_checks),
    CONFIG_VAR_STR("mime_header_checks", &var_mimehdr_checks),
    CONFIG_VAR_STR("nested_header_checks", &var_nesthdr_checks),
    CONFIG_VAR_STR("body_checks", &var_body_checks),
    CONFIG_VAR_SIZE("body_checks_size_limit", &var_body_check_len),
    CONFIG_VAR_INT("mime_nesting_limit", &var_mime_maxdepth),
    CONFIG_VAR_BOOL("disable_mime_input_processing", &var_disable_mime_input),
    CONFIG_VAR_STR("sender_canonical_maps", &var_send_canon_maps),
    CONFIG_VAR_STR("recipient_canonical_maps", &var_rcpt_canon_maps),
    CONFIG_VAR_STR("canonical_maps", &var_canonical_maps),
    CONFIG_VAR_STR("virtual_alias_maps", &var_virt_alias_maps),
    CONFIG_VAR_STR("sender_canonical_classes", &var_send_canon_classes),
    CONFIG_VAR_STR("recipient_canonical_classes", &var_rcpt_canon_classes),
    CONFIG_VAR_STR("canonical_classes", &var_canon_classes),
    CONFIG_VAR_STR("masquerade_classes", &var_masq_classes),
    CONFIG_VAR_STR("masquerade_domains", &var_masq_domains),
    CONFIG_VAR_STR("masquerade_exceptions", &var_masq_exceptions),
    CONFIG_VAR_INT("virtual_alias_recursion_limit", &var_virt_recur_limit),
    CONFIG_VAR_INT("virtual_alias_expansion_limit", &var_virt_expan_limit),
    CONFIG_VAR_STR("propagate_unmatched_extensions", &var_prop_extension),
    CONFIG_VAR_END,
};

void
cleanup_params_init(void)
{
    config_read_vars(cleanup_vars);
    cleanup_milter_init();
}
