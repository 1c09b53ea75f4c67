/*
 * test_maillog.c - unit tests for lib/util/maillog.c, the maillog_file
 * rules that postlogd, "postfix start" and msg.c share.
 */
#include <stdio.h>
#include <string.h>

#include "maillog.h"
#include "mem.h"
#include "unit.h"

UNIT_TEST(test_prefixes)
{
    CHECK(maillog_prefix_ok("/var/log/postfix.log", "/var, /dev/stdout"));
    CHECK(maillog_prefix_ok("/dev/stdout", "/var, /dev/stdout"));
    CHECK(maillog_prefix_ok("/dev/stdout", "/var /dev/stdout"));
    CHECK(!maillog_prefix_ok("/etc/passwd", "/var, /dev/stdout"));
    CHECK(!maillog_prefix_ok("/tmp/x.log", "/var"));
    CHECK(!maillog_prefix_ok("/var/log/x", ""));         /* no prefix: nothing */
    CHECK(!maillog_prefix_ok("/var/log/x", NULL));
}

UNIT_TEST(test_modes)
{
    CHECK_INT(maillog_mode("0600"), 0600);
    CHECK_INT(maillog_mode("0640"), 0640);
    CHECK_INT(maillog_mode("644"), 0644);               /* octal without the 0 */
    CHECK_INT(maillog_mode("0666"), -1);
    CHECK_INT(maillog_mode("0600x"), -1);
    CHECK_INT(maillog_mode(""), -1);
    CHECK_INT(maillog_mode(NULL), -1);
}

/* The reason, or "" when the file may be used. */
static const char *
check(const char *file, const char *prefixes, const char *perms, int *mode)
{
    static char buf[256];
    char   *why = maillog_check(file, prefixes, perms, mode);

    snprintf(buf, sizeof(buf), "%s", why ? why : "");
    mem_free(why);
    return buf;
}

UNIT_TEST(test_check)
{
    int     mode = 0;

    CHECK_STR(check("", "/var", "0666", &mode), "");    /* no maillog at all */
    CHECK_STR(check("/var/log/m", "/var", "0640", &mode), "");
    CHECK_INT(mode, 0640);
    CHECK_STR(check("/var/log/m", "/var", NULL, NULL), "");     /* no permissions check */
    CHECK_STR(check("var/log/m", "var", "0600", &mode),
              "maillog_file \"var/log/m\" is not an absolute path");
    CHECK_STR(check("/tmp/m", "/var, /dev/stdout", "0600", &mode),
              "maillog_file \"/tmp/m\" does not start with one of the "
              "maillog_file_prefixes (/var, /dev/stdout)");
    CHECK_STR(check("/var/m", "/var", "0666", &mode),
              "invalid maillog_file_permissions value \"0666\": specify 0600, 0640 or 0644");
}

UNIT_TESTS {
    {"test_prefixes", test_prefixes},
    {"test_modes", test_modes},
    {"test_check", test_check},
    UNIT_END
};
