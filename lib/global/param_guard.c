/*
 * param_guard.c - what posthorn does with parameters it does not implement.
 *
 * Interface: param_guard.h. The guard table below lists the parameters
 * whose silent absence would weaken security, the programs that would
 * have to honour them, and which values engage them:
 *
 *   "yes"        a boolean set to yes/true
 *   "set"        any non-empty value (a list of milters, a map)
 *   "level:..."  one of the listed TLS security levels
 *
 * smtpd's TLS levels, smtpd_enforce_tls, smtpd_tls_wrappermode and
 * smtpd_tls_auth_only left it with smtpd_tls.c, smtpd_sasl_auth_enable
 * with smtpd_sasl.c (which refuses an smtpd_sasl_type other than dovecot
 * and cyrus itself), smtpd_sender_login_maps with smtpd_check.c; the
 * smtp/lmtp client's levels, smtp_enforce_tls, smtp_tls_wrappermode and
 * smtp_tls_policy_maps with smtp/smtp_tls.c, smtp_sasl_auth_enable with
 * smtp/smtp_sasl.c, smtpd_milters and non_smtpd_milters with
 * lib/global/milter*.c, smtpd_tls_req_ccert (client certificates) with
 * smtpd_tls.c.
 *
 * A guarded parameter that posthorn comes to implement leaves this table
 * in the same commit (tests/unit/test_param_guard.c checks that no entry
 * names an implemented parameter). tests/unit/param_table.py does not
 * count the names here as parameters the code reads.
 *
 * DIAGNOSTICS: none here; the callers turn a refusal into a fatal log
 * line (smtpd after "421 4.3.5", pickup) or deferred mail (smtp, lmtp).
 */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mem.h"
#include "param_guard.h"


static const struct {
    const char *name;
    const char *programs;       /* space-separated program names */
    const char *engage;         /* "yes", "set" or "level:<levels>" */
    const char *feature;        /* what would be missing */
} guards[] = {
    {"smtpd_proxy_filter", "smtpd", "set", "the before-queue content filter"},
    {"smtp_tls_per_site", "smtp", "set", "TLS"},
    {"lmtp_tls_per_site", "lmtp", "set", "TLS"},
};

#define GUARD_COUNT ((int) (sizeof(guards) / sizeof(guards[0])))

int
param_unimplemented(const char *name)
{
    const PARAM_INFO *info = config_param_info(name);

    return info != NULL && (info->flags & (PARAM_FLAG_IMPL | PARAM_FLAG_DOC)) == 0;
}

/* Is word one of the space-separated words in list? */
static int
param_guard_word_in(const char *word, const char *list)
{
    size_t  len = strlen(word);
    const char *p;

    for (p = list; (p = strstr(p, word)) != NULL; p += len)
        if ((p == list || p[-1] == ' ') && (p[len] == 0 || p[len] == ' '))
            return 1;
    return 0;
}

static int
param_guard_engages(int i, const char *value)
{
    const char *rule = guards[i].engage;
    int     b;

    while (*value == ' ' || *value == '\t')
        value++;
    if (strcmp(rule, "yes") == 0)
        return config_parse_bool(value, &b) == 0 && b;
    if (strcmp(rule, "set") == 0)
        return *value != 0;
    if (*value == 0 || strchr(value, ' ') != NULL)
        return *value != 0;             /* not a single level: be safe */
    return param_guard_word_in(value, rule + strlen("level:"));
}

const char *
param_guard_engaged(const char *name, const char *value)
{
    int     i;

    for (i = 0; i < GUARD_COUNT; i++)
        if (strcmp(guards[i].name, name) == 0 && param_guard_engages(i, value))
            return guards[i].feature;
    return NULL;
}

char   *
param_guard_refusal(const char *program)
{
    const char *value;
    int     i;

    for (i = 0; i < GUARD_COUNT; i++) {
        if (!param_guard_word_in(program, guards[i].programs))
            continue;
        value = config_str(guards[i].name);
        if (param_guard_engages(i, value))
            return mem_printf("parameter %s = %s needs %s, which posthorn does "
                              "not implement; refusing to work without it",
                              guards[i].name, value, guards[i].feature);
    }
    return NULL;
}

const char *
param_guard_name(int i)
{
    return i >= 0 && i < GUARD_COUNT ? guards[i].name : NULL;
}
