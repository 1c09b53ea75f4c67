/*
 * smtp_param.c - the SMTP/LMTP client's parameters.
 *
 * Interface (smtp.h): smtp_params_init(lmtp) reads every parameter the
 * client uses into smtp_params, once, after the privilege drop (smtp
 * restarts on "postfix reload"): the smtp_* names, or for LMTP the
 * lmtp_* names (lmtp_lhlo_name, lmtp_lhlo_timeout, lmtp_tcp_port,
 * ...), one table each, plus the global ones both share.
 * smtp_param_read_prefixed() reads a table of names without the prefix
 * ("tls_security_level") into the smtp_ or lmtp_ one (smtp_tls.c,
 * smtp_sasl.c). Defaults and
 * bounds are those of the one parameter table (lib/global/params.c).
 * LMTP always sends LHLO (always_send_ehlo 1, never_send_ehlo 0: no
 * lmtp_ forms exist). smtp_dns_support_level (lmtp_...), when set,
 * overrides disable_dns_lookups; "dnssec" also has lib/dns ask for
 * DNSSEC-validated answers (dns_dnssec_request, for smtp_dane.c).
 *
 * DIAGNOSTICS: a bad value is fatal with the parameter's name and value
 * (config_read_vars); an empty smtp_helo_name / lmtp_lhlo_name too, as
 * Postfix ("bad string length 0 < 1"), and an smtp_dns_support_level
 * other than disabled, enabled and dnssec. param_guard: a parameter that
 * posthorn does not implement but that outgoing mail would depend on
 * makes the client refuse to deliver (smtp_params.refusal).
 */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dns.h"
#include "mem.h"
#include "msg.h"
#include "param_guard.h"
#include "smtp.h"

SMTP_PARAMS smtp_params;

#define P (&smtp_params)

/* Both protocols. */
static const CONFIG_VAR smtp_common_vars[] = {
    CONFIG_VAR_STR("myhostname", &P->myhostname),
    CONFIG_VAR_STR("inet_protocols", &P->inet_protocols),
    CONFIG_VAR_BOOL("soft_bounce", &P->soft_bounce),
    CONFIG_VAR_BOOL("disable_dns_lookups", &P->disable_dns_lookups),
    CONFIG_VAR_STR("connection_cache_service_name", &P->cache_service),
    CONFIG_VAR_TIME("connection_cache_protocol_timeout", &P->cache_timeout),
    CONFIG_VAR_END,
};

static const CONFIG_VAR smtp_vars[] = {
    CONFIG_VAR_TIME("smtp_connect_timeout", &P->connect_timeout),
    CONFIG_VAR_TIME("smtp_helo_timeout", &P->helo_timeout),
    CONFIG_VAR_TIME("smtp_mail_timeout", &P->mail_timeout),
    CONFIG_VAR_TIME("smtp_rcpt_timeout", &P->rcpt_timeout),
    CONFIG_VAR_TIME("smtp_data_init_timeout", &P->data_init_timeout),
    CONFIG_VAR_TIME("smtp_data_xfer_timeout", &P->data_xfer_timeout),
    CONFIG_VAR_TIME("smtp_data_done_timeout", &P->data_done_timeout),
    CONFIG_VAR_TIME("smtp_quit_timeout", &P->quit_timeout),
    CONFIG_VAR_TIME("smtp_rset_timeout", &P->rset_timeout),
    CONFIG_VAR_INT("smtp_line_length_limit", &P->line_length_limit),
    CONFIG_VAR_BOOL("smtp_send_xforward_command", &P->send_xforward),
    CONFIG_VAR_TIME("smtp_xforward_timeout", &P->xforward_timeout),
    CONFIG_VAR_INT("smtp_mx_address_limit", &P->mx_address_limit),
    CONFIG_VAR_INT("smtp_mx_session_limit", &P->mx_session_limit),
    CONFIG_VAR_BOOL("smtp_skip_5xx_greeting", &P->skip_5xx_greeting),
    CONFIG_VAR_BOOL("smtp_skip_quit_response", &P->skip_quit_response),
    CONFIG_VAR_BOOL("smtp_always_send_ehlo", &P->always_send_ehlo),
    CONFIG_VAR_BOOL("smtp_never_send_ehlo", &P->never_send_ehlo),
    CONFIG_VAR_BOOL("smtp_randomize_addresses", &P->randomize_addresses),
    CONFIG_VAR_BOOL("smtp_quote_rfc821_envelope", &P->quote_rfc821_envelope),
    CONFIG_VAR_STR("smtp_helo_name", &P->helo_name),
    CONFIG_VAR_STR("smtp_tcp_port", &P->default_port),
    CONFIG_VAR_STR("smtp_discard_ehlo_keywords", &P->discard_ehlo_keywords),
    CONFIG_VAR_STR("smtp_host_lookup", &P->host_lookup),
    CONFIG_VAR_STR("smtp_dns_support_level", &P->dns_support_level),
    CONFIG_VAR_STR("smtp_bind_address", &P->bind_address),
    CONFIG_VAR_STR("smtp_bind_address6", &P->bind_address6),
    CONFIG_VAR_STR("smtp_fallback_relay", &P->fallback_relay),
    CONFIG_VAR_BOOL("smtp_connection_cache_on_demand", &P->cache_on_demand),
    CONFIG_VAR_STR("smtp_connection_cache_destinations", &P->cache_destinations),
    CONFIG_VAR_TIME("smtp_connection_cache_time_limit", &P->cache_time_limit),
    CONFIG_VAR_TIME("smtp_connection_reuse_time_limit", &P->reuse_time_limit),
    CONFIG_VAR_INT("smtp_connection_reuse_count_limit", &P->reuse_count_limit),
    CONFIG_VAR_END,
};

static const CONFIG_VAR lmtp_vars[] = {
    CONFIG_VAR_TIME("lmtp_connect_timeout", &P->connect_timeout),
    CONFIG_VAR_TIME("lmtp_lhlo_timeout", &P->helo_timeout),
    CONFIG_VAR_TIME("lmtp_mail_timeout", &P->mail_timeout),
    CONFIG_VAR_TIME("lmtp_rcpt_timeout", &P->rcpt_timeout),
    CONFIG_VAR_TIME("lmtp_data_init_timeout", &P->data_init_timeout),
    CONFIG_VAR_TIME("lmtp_data_xfer_timeout", &P->data_xfer_timeout),
    CONFIG_VAR_TIME("lmtp_data_done_timeout", &P->data_done_timeout),
    CONFIG_VAR_TIME("lmtp_quit_timeout", &P->quit_timeout),
    CONFIG_VAR_TIME("lmtp_rset_timeout", &P->rset_timeout),
    CONFIG_VAR_INT("lmtp_line_length_limit", &P->line_length_limit),
    CONFIG_VAR_BOOL("lmtp_send_xforward_command", &P->send_xforward),
    CONFIG_VAR_TIME("lmtp_xforward_timeout", &P->xforward_timeout),
    CONFIG_VAR_INT("lmtp_mx_address_limit", &P->mx_address_limit),
    CONFIG_VAR_INT("lmtp_mx_session_limit", &P->mx_session_limit),
    CONFIG_VAR_BOOL("lmtp_skip_5xx_greeting", &P->skip_5xx_greeting),
    CONFIG_VAR_BOOL("lmtp_skip_quit_response", &P->skip_quit_response),
    CONFIG_VAR_BOOL("lmtp_randomize_addresses", &P->randomize_addresses),
    CONFIG_VAR_BOOL("lmtp_quote_rfc821_envelope", &P->quote_rfc821_envelope),
    CONFIG_VAR_STR("lmtp_lhlo_name", &P->helo_name),
    CONFIG_VAR_STR("lmtp_tcp_port", &P->default_port),
    CONFIG_VAR_STR("lmtp_discard_lhlo_keywords", &P->discard_ehlo_keywords),
    CONFIG_VAR_STR("lmtp_host_lookup", &P->host_lookup),
    CONFIG_VAR_STR("lmtp_dns_support_level", &P->dns_support_level),
    CONFIG_VAR_STR("lmtp_bind_address", &P->bind_address),
    CONFIG_VAR_STR("lmtp_bind_address6", &P->bind_address6),
    CONFIG_VAR_STR("lmtp_fallback_relay", &P->fallback_relay),
    CONFIG_VAR_BOOL("lmtp_connection_cache_on_demand", &P->cache_on_demand),
    CONFIG_VAR_STR("lmtp_connection_cache_destinations", &P->cache_destinations),
    CONFIG_VAR_TIME("lmtp_connection_cache_time_limit", &P->cache_time_limit),
    CONFIG_VAR_TIME("lmtp_connection_reuse_time_limit", &P->reuse_time_limit),
    CONFIG_VAR_INT("lmtp_connection_reuse_count_limit", &P->reuse_count_limit),
    CONFIG_VAR_END,
};

void
smtp_param_read_prefixed(const CONFIG_VAR *vars, int lmtp)
{
    size_t  n = 0;
    CONFIG_VAR *copy;

    while (vars[n].name)
        n++;
    copy = mem_array(n + 1, sizeof(*copy));
    for (size_t i = 0; i <= n; i++) {
        copy[i] = vars[i];
        if (vars[i].name)
            copy[i].name = mem_printf("%s_%s", lmtp ? "lmtp" : "smtp", vars[i].name);
    }
    config_read_vars(copy);
    for (size_t i = 0; i < n; i++)
        mem_free((char *) copy[i].name);
    mem_free(copy);
}

/*
 * smtp_dns_support_level: empty leaves disable_dns_lookups in charge;
 * "disabled" / "enabled" override it; "dnssec" is "enabled" with
 * DNSSEC-validated answers asked for (lib/dns, smtp_dane.c).
 */
static void
smtp_params_dns_level(SMTP_PARAMS *sp, int lmtp)
{
    const char *v = sp->dns_support_level;

    sp->dnssec = 0;
    if (*v == 0)
        return;
    if (strcasecmp(v, "disabled") == 0) {
        sp->disable_dns_lookups = 1;
    } else if (strcasecmp(v, "enabled") == 0) {
        sp->disable_dns_lookups = 0;
    } else if (strcasecmp(v, "dnssec") == 0) {
        sp->disable_dns_lookups = 0;
        sp->dnssec = 1;
        dns_dnssec_request();
    } else {
        msg_fatal("invalid %s_dns_support_level: \"%s\"", lmtp ? "lmtp" : "smtp", v);
    }
}

void
smtp_params_init(int lmtp)
{
    SMTP_PARAMS *sp = &smtp_params;

    sp->lmtp = lmtp;
    sp->proto = lmtp ? "LMTP" : "SMTP";
    sp->always_send_ehlo = 1;
    sp->never_send_ehlo = 0;
    config_read_vars(smtp_common_vars);
    config_read_vars(lmtp ? lmtp_vars : smtp_vars);
    smtp_params_dns_level(sp, lmtp);
    if (*sp->helo_name == 0)
        msg_fatal("bad string length 0 < 1: %s = ", lmtp ? "lmtp_lhlo_name" : "smtp_helo_name");
    mem_free(sp->refusal);
    if ((sp->refusal = param_guard_refusal(lmtp ? "lmtp" : "smtp")) != NULL)
        msg_warn("%s", sp->refusal);
}
