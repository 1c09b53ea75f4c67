/*
 * smtp_param.c - the SMTP/LMTP client's parameters.
 *
 * Interface (smtp.h): smtp_params_init(lmtp) fills smtp_params from
 * main.cf (with -o overrides), using the smtp_* names or, for LMTP, the
 * lmtp_* names (lmtp_lhlo_name, lmtp_lhlo_timeout, lmtp_tcp_port).
 * Unknown or empty values fall back to Postfix's defaults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "param_guard.h"
#include "smtp.h"

SMTP_PARAMS smtp_params;

/* The expanded value of prefix_name, or dflt when unset/unknown. */
static const char *
smtp_param_str(const char *prefix, const char *name, const char *dflt)
{
    char    full[128];
    const char *v;

    snprintf(full, sizeof(full), "%s_%s", prefix, name);
    v = config_lookup(full);
    return (v && *v) ? v : dflt;
}

static long
smtp_param_time(const char *prefix, const char *name, long dflt)
{
    const char *v = smtp_param_str(prefix, name, NULL);
    long    secs;

    if (v == NULL || config_parse_time(v, 's', &secs) < 0 || secs < 0)
        return dflt;
    return secs;
}

static long
smtp_param_long(const char *prefix, const char *name, long dflt)
{
    const char *v = smtp_param_str(prefix, name, NULL);
    char   *end;
    long    n;

    if (v == NULL)
        return dflt;
    n = strtol(v, &end, 10);
    return (*end || n < 0) ? dflt : n;
}

static int
smtp_param_bool(const char *prefix, const char *name, int dflt)
{
    const char *v = smtp_param_str(prefix, name, NULL);
    int     b;

    if (v == NULL || config_parse_bool(v, &b) < 0)
        return dflt;
    return b;
}

static const char *
smtp_param_global(const char *name, const char *dflt)
{
    const char *v = config_lookup(name);

    return (v && *v) ? v : dflt;
}

void
smtp_params_init(int lmtp)
{
    const char *p = lmtp ? "lmtp" : "smtp";
    SMTP_PARAMS *sp = &smtp_params;
    int     b;

    sp->lmtp = lmtp;
    sp->proto = lmtp ? "LMTP" : "SMTP";
    sp->connect_timeout = smtp_param_time(p, "connect_timeout", lmtp ? 0 : 30);
    sp->helo_timeout = smtp_param_time(p, lmtp ? "lhlo_timeout" : "helo_timeout", 300);
    sp->mail_timeout = smtp_param_time(p, "mail_timeout", 300);
    sp->rcpt_timeout = smtp_param_time(p, "rcpt_timeout", 300);
    sp->data_init_timeout = smtp_param_time(p, "data_init_timeout", 120);
    sp->data_xfer_timeout = smtp_param_time(p, "data_xfer_timeout", 180);
    sp->data_done_timeout = smtp_param_time(p, "data_done_timeout", 600);
    sp->quit_timeout = smtp_param_time(p, "quit_timeout", 300);
    sp->line_length_limit = smtp_param_long(p, "line_length_limit", 998);
    sp->mx_address_limit = smtp_param_long(p, "mx_address_limit", 5);
    sp->mx_session_limit = smtp_param_long(p, "mx_session_limit", 2);
    sp->skip_5xx_greeting = smtp_param_bool(p, "skip_5xx_greeting", 1);
    sp->skip_quit_response = smtp_param_bool(p, "skip_quit_response", !lmtp);
    sp->always_send_ehlo = smtp_param_bool(p, "always_send_ehlo", 1);
    sp->never_send_ehlo = lmtp ? 0 : smtp_param_bool(p, "never_send_ehlo", 0);
    sp->randomize_addresses = smtp_param_bool(p, "randomize_addresses", 1);
    sp->quote_rfc821_envelope = smtp_param_bool(p, "quote_rfc821_envelope", 1);
    sp->soft_bounce = (config_parse_bool(smtp_param_global("soft_bounce", "no"), &b) == 0) ? b : 0;

    mem_free(sp->myhostname);
    mem_free(sp->helo_name);
    mem_free(sp->default_port);
    mem_free(sp->discard_ehlo_keywords);
    mem_free(sp->inet_protocols);
    sp->myhostname = mem_strdup(smtp_param_global("myhostname", "localhost"));
    sp->helo_name = mem_strdup(smtp_param_str(p, lmtp ? "lhlo_name" : "helo_name",
                                              sp->myhostname));
    sp->default_port = mem_strdup(smtp_param_str(p, "tcp_port", lmtp ? "24" : "smtp"));
    sp->discard_ehlo_keywords =
        mem_strdup(smtp_param_str(p, lmtp ? "discard_lhlo_keywords" : "discard_ehlo_keywords", ""));
    sp->inet_protocols = mem_strdup(smtp_param_global("inet_protocols", "all"));
    mem_free(sp->refusal);
    if ((sp->refusal = param_guard_refusal(p)) != NULL)
        msg_warn("%s", sp->refusal);
}
