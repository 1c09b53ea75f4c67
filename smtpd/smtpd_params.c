/*
 * smtpd_params.c - the main.cf parameters the SMTP server reads.
 *
 * Interface: smtpd_params_load() fills the global SMTPD_PARAMS once,
 * after the configuration is loaded (pre_init: as root, before the
 * chroot, so the tables open from outside the jail). Every value comes from
 * config_str/config_int/config_bool/config_time/config_size/config_list,
 * so the defaults live in one place only: the table in lib/params.c.
 * The only helpers here build objects (NETMATCH, MAPS) from a value.
 *
 * SECURITY: main.cf is trusted; numeric values are range-checked by the
 * config_* readers (fatal on a bad value), so a typo cannot silently
 * disable a limit.
 */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"

SMTPD_PARAMS smtpd_params;

/* A MAPS for the parameter, or NULL when its value is empty. */
static MAPS *
smtpd_params_maps(const char *name)
{
    const char *text = config_str(name);

    if (text[strspn(text, ARGV_LIST_SEP)] == 0)
        return NULL;
    return maps_create(name, text, 0);
}

/* smtpd_forbid_bare_newline: normalize (or 3.8's "yes"), reject, no. */
static int
smtpd_params_bare_lf(void)
{
    const char *text = config_str("smtpd_forbid_bare_newline");

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
smtpd_params_forbidden(SMTPD_PARAMS *p)
{
    ARGV   *list = config_list("smtpd_forbidden_commands");
    char   *err = NULL;
    DICT   *dict;

    p->forbidden_commands = argv_alloc();
    p->forbidden_dicts = mem_alloc((list->argc + 1) * sizeof(DICT *));
    p->forbidden_dict_count = 0;
    for (size_t i = 0; i < list->argc; i++) {
        if (strchr(list->argv[i], ':') == NULL) {
            argv_add(p->forbidden_commands, list->argv[i]);
        } else if ((dict = dict_open(list->argv[i], 0, &err)) != NULL) {
            p->forbidden_dicts[p->forbidden_dict_count++] = dict;
        } else {
            if (msg_verbose)
                msg_info("smtpd_forbidden_commands: %s", err);
            mem_free(err);
            err = NULL;
        }
    }
    argv_free(list);
}

static void
smtpd_params_restrictions(SMTPD_PARAMS *p)
{
    p->client_restrictions = config_list("smtpd_client_restrictions");
    p->helo_restrictions = config_list("smtpd_helo_restrictions");
    p->sender_restrictions = config_list("smtpd_sender_restrictions");
    p->relay_restrictions = config_list("smtpd_relay_restrictions");
    p->recipient_restrictions = config_list("smtpd_recipient_restrictions");
}

static void
smtpd_params_tables(SMTPD_PARAMS *p)
{
    p->mynetworks = netmatch_create("mynetworks", config_str("mynetworks"));
    p->bare_lf_exclusions = netmatch_create("smtpd_forbid_bare_newline_exclusions",
                                  config_str("smtpd_forbid_bare_newline_exclusions"));
    p->local_rcpt_maps = smtpd_params_maps("local_recipient_maps");
    p->virtual_mailbox_maps = smtpd_params_maps("virtual_mailbox_maps");
    p->virtual_alias_maps = smtpd_params_maps("virtual_alias_maps");
    p->relay_rcpt_maps = smtpd_params_maps("relay_recipient_maps");
}

static void
smtpd_params_codes(SMTPD_PARAMS *p)
{
    p->bare_lf_code = config_int("smtpd_forbid_bare_newline_reject_code");
    p->reject_code = config_int("reject_code");
    p->defer_code = config_int("defer_code");
    p->relay_code = config_int("relay_domains_reject_code");
    p->access_code = config_int("access_map_reject_code");
    p->unknown_local_code = config_int("unknown_local_recipient_reject_code");
    p->unknown_virtual_code = config_int("unknown_virtual_mailbox_reject_code");
    p->unknown_relay_code = config_int("unknown_relay_recipient_reject_code");
}

void
smtpd_params_load(void)
{
    SMTPD_PARAMS *p = &smtpd_params;

    /* Copies: config_str() values live until the configuration changes. */
    p->myhostname = mem_strdup(config_str("myhostname"));
    p->mail_name = mem_strdup(config_str("mail_name"));
    p->banner = mem_strdup(config_str("smtpd_banner"));
    p->message_size_limit = config_size("message_size_limit");
    p->line_length_limit = config_int("line_length_limit");
    p->recipient_limit = config_int("smtpd_recipient_limit");
    p->soft_error_limit = config_int("smtpd_soft_error_limit");
    p->hard_error_limit = config_int("smtpd_hard_error_limit");
    p->junk_command_limit = config_int("smtpd_junk_command_limit");
    p->error_sleep_time = config_time("smtpd_error_sleep_time");
    p->timeout = config_time("smtpd_timeout");
    p->ipc_timeout = config_time(MAIL_IPC_TIMEOUT_PARAM);
    p->disable_vrfy = config_bool("disable_vrfy_command");
    p->peername_lookup = config_bool("smtpd_peername_lookup");
    p->reject_unlisted_recipient = config_bool("smtpd_reject_unlisted_recipient");
    p->bare_lf_mode = smtpd_params_bare_lf();
    p->smtputf8_enable = config_bool("smtputf8_enable");
    p->discard_ehlo = config_list("smtpd_discard_ehlo_keywords");
    smtpd_params_forbidden(p);
    p->recipient_delimiter = mem_strdup(config_str("recipient_delimiter"));
    p->rewrite_clients = config_list("local_header_rewrite_clients");
    smtpd_params_codes(p);
    smtpd_params_restrictions(p);
    smtpd_params_tables(p);
}
