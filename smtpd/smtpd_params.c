/*
 * smtpd_params.c - the main.cf parameters the SMTP server reads, once.
 *
 * Interface (smtpd.h): smtpd_params_init() runs in pre_init, as root and
 * before the chroot, so the tables open from outside the jail (smtpd is
 * restarted on "postfix reload", so start-up is the only time). It reads
 * every parameter smtpd uses into the var_* variables from one CONFIG_VAR
 * table: the defaults and bounds live in one place only, the parameter
 * table (lib/global/params.c), and a bad value is fatal at start with the
 * parameter's name and value. It then builds smtpd_conf from those values:
 * split lists, match lists, opened tables, decoded keywords, and the
 * restriction classes (each name in smtpd_restriction_classes is itself
 * a parameter, one the parameter table may not know, so it is looked up
 * by name, here, once). No other smtpd file reads a parameter.
 *
 * SECURITY: main.cf is trusted; numeric values are range-checked by the
 * config_* readers (fatal on a bad value), so a typo cannot silently
 * disable a limit.
 *
 * DIAGNOSTICS: a bad parameter value is fatal at start with its name and
 * value (config_read_vars), and so is a bad smtpd_forbid_bare_newline.
 */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"

const char *var_myhostname;
const char *var_mail_name;
const char *var_smtpd_banner;
const char *var_service_name;
const char *var_stress;
int     var_smtpd_req_deadline;
long    var_smtpd_min_data_rate;
long    var_queue_minfree;
long    var_message_limit;
long    var_line_limit;
long    var_smtpd_rcpt_limit;
long    var_smtpd_soft_erlim;
long    var_smtpd_hard_erlim;
long    var_smtpd_junk_cmd_limit;
long    var_smtpd_err_sleep;
long    var_smtpd_tmout;
int     var_disable_vrfy_cmd;
int     var_smtpd_peername_lookup;
int     var_smtputf8_enable;
long    var_smtpd_bare_lf_code;
const char *var_rcpt_delim;
const char *var_filter_xport;
int     var_smtpd_delay_reject;
int     var_helo_required;
int     var_soft_bounce;
int     var_smtpd_rej_unl_rcpt;
int     var_smtpd_rej_unl_from;
const char *var_smtpd_null_key;
long    var_reject_code;
long    var_defer_code;
long    var_relay_code;
long    var_access_map_code;
long    var_local_rcpt_code;
long    var_virt_mailbox_code;
long    var_relay_rcpt_code;
long    var_virt_alias_code;
int     var_show_unk_rcpt_table;
const char *var_double_bounce_sender;
int     var_relay_before_rcpt;
long    var_non_fqdn_code;
long    var_bad_name_code;
long    var_unk_addr_code;
long    var_unk_client_code;
long    var_maps_rbl_code;
long    var_smtpd_cconn_limit;
long    var_smtpd_crate_limit;
long    var_smtpd_cmail_limit;
long    var_smtpd_crcpt_limit;
long    var_smtpd_cauth_limit;
long    var_smtpd_policy_tmout;
long    var_smtpd_policy_idle;
long    var_smtpd_policy_ttl;
long    var_smtpd_policy_req_limit;
long    var_smtpd_policy_try_limit;
long    var_smtpd_policy_try_delay;
const char *var_smtpd_policy_def_action;
const char *var_smtpd_policy_context;

/* Only read here, to build smtpd_conf. */
static const char *var_smtpd_bare_lf;
static const char *var_smtpd_bare_lf_excl;
static const char *var_smtpd_ehlo_dis_words;
static const char *var_smtpd_forbid_cmds;
static const char *var_local_rwr_clients;
static const char *var_mynetworks;
static const char *var_mynetworks_style;
static const char *var_smtpd_hoggers;
static const char *var_smtpd_xforward_hosts;
static const char *var_par_dom_match;
static const char *var_client_checks;
static const char *var_helo_checks;
static const char *var_mail_checks;
static const char *var_relay_checks;
static const char *var_rcpt_checks;
static const char *var_data_checks;
static const char *var_eod_checks;
static const char *var_etrn_checks;
static const char *var_rest_classes;
static const char *var_local_rcpt_maps;
static const char *var_virt_mailbox_maps;
static const char *var_virt_alias_maps;
static const char *var_relay_rcpt_maps;
static const char *var_canonical_maps;
static const char *var_rcpt_canon_maps;
static const char *var_send_canon_maps;
static const char *var_smtpd_sender_login_maps;

static const CONFIG_VAR smtpd_vars[] = {
    CONFIG_VAR_STR("myhostname", &var_myhostname),
    CONFIG_VAR_STR("mail_name", &var_mail_name),
    CONFIG_VAR_STR("smtpd_banner", &var_smtpd_banner),
    CONFIG_VAR_STR("service_name", &var_service_name),
    CONFIG_VAR_STR("stress", &var_stress),
    CONFIG_VAR_SIZE("message_size_limit", &var_message_limit),
    CONFIG_VAR_INT("line_length_limit", &var_line_limit),
    CONFIG_VAR_INT("smtpd_recipient_limit", &var_smtpd_rcpt_limit),
    CONFIG_VAR_INT("smtpd_soft_error_limit", &var_smtpd_soft_erlim),
    CONFIG_VAR_INT("smtpd_hard_error_limit", &var_smtpd_hard_erlim),
    CONFIG_VAR_INT("smtpd_junk_command_limit", &var_smtpd_junk_cmd_limit),
    CONFIG_VAR_TIME("smtpd_error_sleep_time", &var_smtpd_err_sleep),
    CONFIG_VAR_TIME("smtpd_timeout", &var_smtpd_tmout),
    CONFIG_VAR_BOOL("smtpd_per_request_deadline", &var_smtpd_req_deadline),
    CONFIG_VAR_INT("smtpd_min_data_rate", &var_smtpd_min_data_rate),
    CONFIG_VAR_SIZE("queue_minfree", &var_queue_minfree),
    CONFIG_VAR_BOOL("disable_vrfy_command", &var_disable_vrfy_cmd),
    CONFIG_VAR_BOOL("smtpd_peername_lookup", &var_smtpd_peername_lookup),
    CONFIG_VAR_BOOL("smtputf8_enable", &var_smtputf8_enable),
    CONFIG_VAR_STR("smtpd_forbid_bare_newline", &var_smtpd_bare_lf),
    CONFIG_VAR_STR("smtpd_forbid_bare_newline_exclusions", &var_smtpd_bare_lf_excl),
    CONFIG_VAR_INT("smtpd_forbid_bare_newline_reject_code", &var_smtpd_bare_lf_code),
    CONFIG_VAR_STR("smtpd_discard_ehlo_keywords", &var_smtpd_ehlo_dis_words),
    CONFIG_VAR_STR("smtpd_forbidden_commands", &var_smtpd_forbid_cmds),
    CONFIG_VAR_STR("recipient_delimiter", &var_rcpt_delim),
    CONFIG_VAR_STR("local_header_rewrite_clients", &var_local_rwr_clients),
    CONFIG_VAR_STR("content_filter", &var_filter_xport),
    CONFIG_VAR_STR("mynetworks", &var_mynetworks),
    CONFIG_VAR_STR("smtpd_authorized_xforward_hosts", &var_smtpd_xforward_hosts),
    CONFIG_VAR_END,
};

static const CONFIG_VAR smtpd_check_vars[] = {
    CONFIG_VAR_BOOL("smtpd_delay_reject", &var_smtpd_delay_reject),
    CONFIG_VAR_BOOL("smtpd_helo_required", &var_helo_required),
    CONFIG_VAR_BOOL("soft_bounce", &var_soft_bounce),
    CONFIG_VAR_BOOL("smtpd_reject_unlisted_recipient", &var_smtpd_rej_unl_rcpt),
    CONFIG_VAR_BOOL("smtpd_reject_unlisted_sender", &var_smtpd_rej_unl_from),
    CONFIG_VAR_STR("smtpd_null_access_lookup_key", &var_smtpd_null_key),
    CONFIG_VAR_STR("parent_domain_matches_subdomains", &var_par_dom_match),
    CONFIG_VAR_INT("reject_code", &var_reject_code),
    CONFIG_VAR_INT("defer_code", &var_defer_code),
    CONFIG_VAR_INT("relay_domains_reject_code", &var_relay_code),
    CONFIG_VAR_INT("access_map_reject_code", &var_access_map_code),
    CONFIG_VAR_INT("unknown_local_recipient_reject_code", &var_local_rcpt_code),
    CONFIG_VAR_INT("unknown_virtual_mailbox_reject_code", &var_virt_mailbox_code),
    CONFIG_VAR_INT("unknown_relay_recipient_reject_code", &var_relay_rcpt_code),
    CONFIG_VAR_INT("unknown_virtual_alias_reject_code", &var_virt_alias_code),
    CONFIG_VAR_BOOL("show_user_unknown_table_name", &var_show_unk_rcpt_table),
    CONFIG_VAR_STR("double_bounce_sender", &var_double_bounce_sender),
    CONFIG_VAR_BOOL("smtpd_relay_before_recipient_restrictions", &var_relay_before_rcpt),
    CONFIG_VAR_STR("mynetworks_style", &var_mynetworks_style),
    CONFIG_VAR_INT("non_fqdn_reject_code", &var_non_fqdn_code),
    CONFIG_VAR_INT("invalid_hostname_reject_code", &var_bad_name_code),
    CONFIG_VAR_INT("unknown_address_reject_code", &var_unk_addr_code),
    CONFIG_VAR_INT("unknown_client_reject_code", &var_unk_client_code),
    CONFIG_VAR_INT("maps_rbl_reject_code", &var_maps_rbl_code),
    CONFIG_VAR_STR("smtpd_client_restrictions", &var_client_checks),
    CONFIG_VAR_STR("smtpd_helo_restrictions", &var_helo_checks),
    CONFIG_VAR_STR("smtpd_sender_restrictions", &var_mail_checks),
    CONFIG_VAR_STR("smtpd_relay_restrictions", &var_relay_checks),
    CONFIG_VAR_STR("smtpd_recipient_restrictions", &var_rcpt_checks),
    CONFIG_VAR_STR("smtpd_data_restrictions", &var_data_checks),
    CONFIG_VAR_STR("smtpd_end_of_data_restrictions", &var_eod_checks),
    CONFIG_VAR_STR("smtpd_etrn_restrictions", &var_etrn_checks),
    CONFIG_VAR_STR("smtpd_restriction_classes", &var_rest_classes),
    CONFIG_VAR_STR("local_recipient_maps", &var_local_rcpt_maps),
    CONFIG_VAR_STR("virtual_mailbox_maps", &var_virt_mailbox_maps),
    CONFIG_VAR_STR("virtual_alias_maps", &var_virt_alias_maps),
    CONFIG_VAR_STR("relay_recipient_maps", &var_relay_rcpt_maps),
    CONFIG_VAR_STR("canonical_maps", &var_canonical_maps),
    CONFIG_VAR_STR("recipient_canonical_maps", &var_rcpt_canon_maps),
    CONFIG_VAR_STR("sender_canonical_maps", &var_send_canon_maps),
    CONFIG_VAR_STR("smtpd_sender_login_maps", &var_smtpd_sender_login_maps),
    CONFIG_VAR_END,
};

static const CONFIG_VAR smtpd_client_vars[] = {
    CONFIG_VAR_INT("smtpd_client_connection_count_limit", &var_smtpd_cconn_limit),
    CONFIG_VAR_INT("smtpd_client_connection_rate_limit", &var_smtpd_crate_limit),
    CONFIG_VAR_INT("smtpd_client_message_rate_limit", &var_smtpd_cmail_limit),
    CONFIG_VAR_INT("smtpd_client_recipient_rate_limit", &var_smtpd_crcpt_limit),
    CONFIG_VAR_INT("smtpd_client_auth_rate_limit", &var_smtpd_cauth_limit),
    CONFIG_VAR_STR("smtpd_client_event_limit_exceptions", &var_smtpd_hoggers),
    CONFIG_VAR_TIME("smtpd_policy_service_timeout", &var_smtpd_policy_tmout),
    CONFIG_VAR_TIME("smtpd_policy_service_max_idle", &var_smtpd_policy_idle),
    CONFIG_VAR_TIME("smtpd_policy_service_max_ttl", &var_smtpd_policy_ttl),
    CONFIG_VAR_INT("smtpd_policy_service_request_limit", &var_smtpd_policy_req_limit),
    CONFIG_VAR_INT("smtpd_policy_service_try_limit", &var_smtpd_policy_try_limit),
    CONFIG_VAR_TIME("smtpd_policy_service_retry_delay", &var_smtpd_policy_try_delay),
    CONFIG_VAR_STR("smtpd_policy_service_default_action", &var_smtpd_policy_def_action),
    CONFIG_VAR_STR("smtpd_policy_service_policy_context", &var_smtpd_policy_context),
    CONFIG_VAR_END,
};

SMTPD_CONF smtpd_conf;

/* A MAPS for the parameter, or NULL when its value is empty. */
static MAPS *
smtpd_params_maps(const char *name, const char *text)
{
    if (text[strspn(text, ARGV_LIST_SEP)] == 0)
        return NULL;
    return maps_create(name, text, 0);
}

/* smtpd_forbid_bare_newline: normalize (or 3.8's "yes"), reject, no. */
static int
smtpd_params_bare_lf(const char *text)
{
    if (strcasecmp(text, "normalize") == 0 || strcasecmp(text, "yes") == 0)
        return SMTPD_BARE_LF_NORMALIZE;
    if (strcasecmp(text, "reject") == 0)
        return SMTPD_BARE_LF_REJECT;
    if (strcasecmp(text, "no") == 0)
        return SMTPD_BARE_LF_NO;
    msg_fatal("bad smtpd_forbid_bare_newline value: %s", text);
}

/*
 * smtpd_forbidden_commands: plain verbs, and "type:table" entries opened
 * once here. A table of a type posthorn cannot open (regexp: in the
 * default, for now) is left out without a warning on every start.
 */
static void
smtpd_params_forbidden(SMTPD_CONF *c)
{
    ARGV   *list = argv_split_list(var_smtpd_forbid_cmds);
    char   *err = NULL;
    DICT   *dict;

    c->forbidden_commands = argv_alloc();
    c->forbidden_dicts = mem_alloc((list->argc + 1) * sizeof(DICT *));
    c->forbidden_dict_count = 0;
    for (size_t i = 0; i < list->argc; i++) {
        if (strchr(list->argv[i], ':') == NULL) {
            argv_add(c->forbidden_commands, list->argv[i]);
        } else if ((dict = dict_open(list->argv[i], 0, &err)) != NULL) {
            c->forbidden_dicts[c->forbidden_dict_count++] = dict;
        } else {
            if (msg_verbose)
                msg_info("smtpd_forbidden_commands: %s", err);
            mem_free(err);
            err = NULL;
        }
    }
    argv_free(list);
}

/*
 * smtpd_restriction_classes: each name is a parameter whose value is a
 * restriction list (set in main.cf, so usually unknown to the parameter
 * table); the first mention of a name wins.
 */
static void
smtpd_params_classes(SMTPD_CONF *c)
{
    ARGV   *names = argv_split_list(var_rest_classes);

    c->classes = htable_create(names->argc + 1);
    for (size_t i = 0; i < names->argc; i++)
        if (htable_find(c->classes, names->argv[i]) == NULL)
            (void) htable_enter(c->classes, names->argv[i], config_list(names->argv[i]));
    argv_free(names);
}

static void
smtpd_params_restrictions(SMTPD_CONF *c)
{
    c->client_restrictions = argv_split_list(var_client_checks);
    c->helo_restrictions = argv_split_list(var_helo_checks);
    c->sender_restrictions = argv_split_list(var_mail_checks);
    c->relay_restrictions = argv_split_list(var_relay_checks);
    c->recipient_restrictions = argv_split_list(var_rcpt_checks);
    c->data_restrictions = argv_split_list(var_data_checks);
    c->eod_restrictions = argv_split_list(var_eod_checks);
    c->etrn_restrictions = argv_split_list(var_etrn_checks);
    smtpd_params_classes(c);
    c->parent_matches = strstr(var_par_dom_match, "smtpd_access_maps") != NULL;
}

static void
smtpd_params_tables(SMTPD_CONF *c)
{
    c->mynetworks = netmatch_create("mynetworks", var_mynetworks);
    c->bare_lf_exclusions = netmatch_create("smtpd_forbid_bare_newline_exclusions",
                                            var_smtpd_bare_lf_excl);
    c->xforward_hosts = netmatch_create("smtpd_authorized_xforward_hosts",
                                        var_smtpd_xforward_hosts);
    c->hoggers = netmatch_create("smtpd_client_event_limit_exceptions", var_smtpd_hoggers);
    c->local_rcpt_maps = smtpd_params_maps("local_recipient_maps", var_local_rcpt_maps);
    c->virtual_mailbox_maps = smtpd_params_maps("virtual_mailbox_maps", var_virt_mailbox_maps);
    c->virtual_alias_maps = smtpd_params_maps("virtual_alias_maps", var_virt_alias_maps);
    c->relay_rcpt_maps = smtpd_params_maps("relay_recipient_maps", var_relay_rcpt_maps);
    c->canonical_maps = smtpd_params_maps("canonical_maps", var_canonical_maps);
    c->rcpt_canon_maps = smtpd_params_maps("recipient_canonical_maps", var_rcpt_canon_maps);
    c->send_canon_maps = smtpd_params_maps("sender_canonical_maps", var_send_canon_maps);
    c->sender_login_maps = smtpd_params_maps("smtpd_sender_login_maps",
                                             var_smtpd_sender_login_maps);
}

/*
 * compatibility_level below 1, 2 or 3.6 and the parameter not set: what
 * smtpd needs for Postfix's "using backwards-compatible default setting"
 * notices. With smtpd_relay_restrictions at its level-0 default (empty),
 * Postfix evaluates a stand-in list for the notice only.
 */
static void
smtpd_params_compat(SMTPD_CONF *c)
{
    c->compat_relay_domains = config_compat_break("relay_domains", "2");
    c->compat_relay_before = !var_relay_before_rcpt
        && config_compat_break("smtpd_relay_before_recipient_restrictions", "3.6");
    c->compat_smtputf8 = !var_smtputf8_enable && config_compat_break("smtputf8_enable", "1");
    c->mynetworks_style = var_mynetworks_style;
    if (config_compat_break("mynetworks_style", "2") && !config_is_set("mynetworks")) {
        char   *host = param_mynetworks_style("host");

        c->compat_mynetworks = netmatch_create("mynetworks", host);
        mem_free(host);
    }
    if (config_compat_break("smtpd_relay_restrictions", "1") && c->relay_restrictions->argc == 0)
        c->compat_relay_restrictions = argv_split_list("permit_mynetworks, "
                                         "permit_sasl_authenticated, permit_auth_destination");
}

void
smtpd_params_init(void)
{
    SMTPD_CONF *c = &smtpd_conf;

    config_read_vars(smtpd_vars);
    config_read_vars(smtpd_check_vars);
    config_read_vars(smtpd_client_vars);
    c->bare_lf_mode = smtpd_params_bare_lf(var_smtpd_bare_lf);
    c->discard_ehlo = argv_split_list(var_smtpd_ehlo_dis_words);
    smtpd_params_forbidden(c);
    c->rewrite_clients = argv_split_list(var_local_rwr_clients);
    smtpd_params_restrictions(c);
    smtpd_params_tables(c);
    smtpd_params_compat(c);
    smtpd_milter_init();
}
