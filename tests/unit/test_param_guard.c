/*
 * test_param_guard.c - unit tests for lib/param_guard.c: which values
 * engage a guard, which program refuses, and that the guard table only
 * names parameters the table knows and posthorn does not implement.
 */
#include <string.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "param_guard.h"
#include "unit.h"

static void
setup(const char *text)
{
    msg_init("test_param_guard", MSG_NOSYSLOG);
    config_reset();
    config_load_text(text, "main.cf");
}

UNIT_TEST(test_guard_table_is_current)
{
    const char *name;
    const PARAM_INFO *info;
    int     i;

    setup("");
    for (i = 0; (name = param_guard_name(i)) != NULL; i++) {
        info = config_param_info(name);
        CHECK(info != NULL);
        /* a guard on an implemented parameter is stale: remove it */
        CHECK(info == NULL || (info->flags & PARAM_FLAG_IMPL) == 0);
    }
    CHECK(i > 0);                   /* the table is there */
}

UNIT_TEST(test_engaging_values)
{
    setup("");
    /* smtpd implements TLS: its levels no longer refuse */
    CHECK(param_guard_engaged("smtpd_tls_security_level", "encrypt") == NULL);
    /* nor client certificates */
    CHECK(param_guard_engaged("smtpd_tls_req_ccert", "yes") == NULL);
    /* neither does the smtp client's */
    CHECK(param_guard_engaged("smtp_tls_security_level", "dane-only") == NULL);
    CHECK(param_guard_engaged("smtp_tls_per_site", "hash:/x") != NULL);
    CHECK(param_guard_engaged("smtp_tls_per_site", "") == NULL);
    /* smtpd implements AUTH (Dovecot, Cyrus); smtpd_sasl.c refuses other types */
    CHECK(param_guard_engaged("smtpd_sasl_auth_enable", "yes") == NULL);
    CHECK(param_guard_engaged("smtpd_sender_login_maps", "hash:/x") == NULL);
    /* milters are implemented (lib/global/milter*.c) */
    CHECK(param_guard_engaged("smtpd_milters", "inet:localhost:8891") == NULL);
    CHECK(param_guard_engaged("smtpd_proxy_filter", "127.0.0.1:10024") != NULL);
    CHECK(param_guard_engaged("smtpd_proxy_filter", "") == NULL);
    CHECK(param_guard_engaged("smtp_body_checks", "hash:/x") == NULL);   /* only warned */
}

UNIT_TEST(test_refusal_per_program)
{
    char   *why;

    setup("smtp_tls_per_site = hash:/x\n"
          "smtpd_tls_security_level = may\n");
    CHECK(param_guard_refusal("smtpd") == NULL);
    CHECK(param_guard_refusal("lmtp") == NULL);
    CHECK(param_guard_refusal("pickup") == NULL);
    why = param_guard_refusal("smtp");
    CHECK(why != NULL && strstr(why, "smtp_tls_per_site = hash:/x needs TLS") != NULL);
    mem_free(why);
    /* a master.cf -o override engages it for that service only */
    config_override("smtpd_proxy_filter", "127.0.0.1:10025");
    why = param_guard_refusal("smtpd");
    CHECK(why != NULL && strstr(why, "smtpd_proxy_filter = 127.0.0.1:10025") != NULL);
    mem_free(why);
}

UNIT_TEST(test_unimplemented)
{
    setup("");
    CHECK(param_unimplemented("smtp_body_checks"));
    CHECK(!param_unimplemented("myhostname"));
    CHECK(!param_unimplemented("readme_directory"));   /* documentation only */
    CHECK(!param_unimplemented("no_such_parameter"));  /* unknown: another warning */
}

UNIT_TESTS {
    {"test_guard_table_is_current", test_guard_table_is_current},
    {"test_engaging_values", test_engaging_values},
    {"test_refusal_per_program", test_refusal_per_program},
    {"test_unimplemented", test_unimplemented},
    UNIT_END
};
