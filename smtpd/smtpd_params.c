/*
 * smtpd_params.c - the main.cf parameters the SMTP server reads.
 *
 * Interface: smtpd_params_load() fills the global SMTPD_PARAMS once,
 * after the configuration is loaded (post_init). Each parameter is read
 * with config_lookup(); when the parameter table does not know it yet,
 * the Postfix default below is used, so smtpd behaves the same either way.
 *
 * SECURITY: main.cf is trusted; numeric values are range-checked here so
 * that a bad value cannot disable a limit by accident (fatal instead).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"

SMTPD_PARAMS smtpd_params;

/* The expanded value of name, or the expanded default. Allocated. */
static char *
smtpd_param_str(const char *name, const char *dflt)
{
    const char *value = config_lookup(name);

    if (value != NULL)
        return mem_strdup(value);
    return config_expand(dflt);
}

static long
smtpd_param_long(const char *name, const char *dflt, long min)
{
    char   *text = smtpd_param_str(name, dflt);
    char   *end;
    long    value = strtol(text, &end, 10);

    if (*text == 0 || *end != 0 || value < min)
        msg_fatal("bad numerical parameter value: %s = %s", name, text);
    mem_free(text);
    return value;
}

static long
smtpd_param_time(const char *name, const char *dflt)
{
    char   *text = smtpd_param_str(name, dflt);
    long    value;

    if (config_parse_time(text, 's', &value) != 0 || value < 0)
        msg_fatal("bad time parameter value: %s = %s", name, text);
    mem_free(text);
    return value;
}

static int
smtpd_param_bool(const char *name, const char *dflt)
{
    char   *text = smtpd_param_str(name, dflt);
    int     value;

    if (config_parse_bool(text, &value) != 0)
        msg_fatal("bad boolean parameter value: %s = %s", name, text);
    mem_free(text);
    return value;
}

static ARGV *
smtpd_param_list(const char *name, const char *dflt)
{
    char   *text = smtpd_param_str(name, dflt);
    ARGV   *list = argv_split_list(text);

    mem_free(text);
    return list;
}

/* A MAPS, or NULL when the parameter is empty. */
static MAPS *
smtpd_param_maps(const char *name, const char *dflt)
{
    char   *text = smtpd_param_str(name, dflt);
    MAPS   *maps = NULL;

    if (text[strspn(text, ARGV_LIST_SEP)] != 0)
        maps = maps_create(name, text, 0);
    mem_free(text);
    return maps;
}

static int
smtpd_param_bare_lf(void)
{
    char   *text = smtpd_param_str("smtpd_forbid_bare_newline", "normalize");
    int     mode;

    /* "yes" was the 3.8-3.9 spelling of normalize. */
    if (strcasecmp(text, "normalize") == 0 || strcasecmp(text, "yes") == 0)
        mode = SMTPD_BARE_LF_NORMALIZE;
    else if (strcasecmp(text, "reject") == 0)
        mode = SMTPD_BARE_LF_REJECT;
    else if (strcasecmp(text, "no") == 0)
        mode = SMTPD_BARE_LF_NO;
    else
        msg_fatal("bad smtpd_forbid_bare_newline value: %s", text);
    mem_free(text);
    return mode;
}

static void
smtpd_params_restrictions(SMTPD_PARAMS *p)
{
    p->client_restrictions = smtpd_param_list("smtpd_client_restrictions", "");
    p->helo_restrictions = smtpd_param_list("smtpd_helo_restrictions", "");
    p->sender_restrictions = smtpd_param_list("smtpd_sender_restrictions", "");
    p->relay_restrictions = smtpd_param_list("smtpd_relay_restrictions",
            "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination");
    p->recipient_restrictions = smtpd_param_list("smtpd_recipient_restrictions", "");
}

static void
smtpd_params_tables(SMTPD_PARAMS *p)
{
    char   *nets = smtpd_param_str("mynetworks", "127.0.0.0/8 [::1]/128");
    char   *excl = smtpd_param_str("smtpd_forbid_bare_newline_exclusions", "$mynetworks");

    p->mynetworks = netmatch_create("mynetworks", nets);
    p->bare_lf_exclusions = netmatch_create("smtpd_forbid_bare_newline_exclusions", excl);
    mem_free(nets);
    mem_free(excl);
    p->local_rcpt_maps = smtpd_param_maps("local_recipient_maps",
                                          "proxy:unix:passwd.byname $alias_maps");
    p->virtual_mailbox_maps = smtpd_param_maps("virtual_mailbox_maps", "");
    p->virtual_alias_maps = smtpd_param_maps("virtual_alias_maps", "$virtual_maps");
    p->relay_rcpt_maps = smtpd_param_maps("relay_recipient_maps", "");
}

void
smtpd_params_load(void)
{
    SMTPD_PARAMS *p = &smtpd_params;

    p->myhostname = config_str("myhostname");
    if (*p->myhostname == 0)
        p->myhostname = "localhost";
    p->mail_name = config_lookup("mail_name") ? config_str("mail_name") : "Postfix";
    p->banner = smtpd_param_str("smtpd_banner", "$myhostname ESMTP $mail_name");
    p->message_size_limit = smtpd_param_long("message_size_limit", "10240000", 0);
    p->line_length_limit = smtpd_param_long("line_length_limit", "2048", 512);
    p->recipient_limit = smtpd_param_long("smtpd_recipient_limit", "1000", 1);
    p->soft_error_limit = smtpd_param_long("smtpd_soft_error_limit", "10", 0);
    p->hard_error_limit = smtpd_param_long("smtpd_hard_error_limit", "20", 1);
    p->error_sleep_time = smtpd_param_time("smtpd_error_sleep_time", "1s");
    p->timeout = smtpd_param_time("smtpd_timeout", "300s");
    p->disable_vrfy = smtpd_param_bool("disable_vrfy_command", "no");
    p->peername_lookup = smtpd_param_bool("smtpd_peername_lookup", "yes");
    p->reject_unlisted_recipient = smtpd_param_bool("smtpd_reject_unlisted_recipient", "yes");
    p->bare_lf_mode = smtpd_param_bare_lf();
    p->bare_lf_code = smtpd_param_long("smtpd_forbid_bare_newline_reject_code", "550", 400);
    p->reject_code = smtpd_param_long("reject_code", "554", 400);
    p->defer_code = smtpd_param_long("defer_code", "450", 400);
    p->relay_code = smtpd_param_long("relay_domains_reject_code", "554", 400);
    p->access_code = smtpd_param_long("access_map_reject_code", "554", 400);
    p->unknown_local_code = smtpd_param_long("unknown_local_recipient_reject_code", "550", 400);
    p->unknown_virtual_code = smtpd_param_long("unknown_virtual_mailbox_reject_code", "550", 400);
    p->unknown_relay_code = smtpd_param_long("unknown_relay_recipient_reject_code", "550", 400);
    p->discard_ehlo = smtpd_param_list("smtpd_discard_ehlo_keywords", "");
    p->recipient_delimiter = smtpd_param_str("recipient_delimiter", "");
    smtpd_params_restrictions(p);
    smtpd_params_tables(p);
}
