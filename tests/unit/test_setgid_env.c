/*
 * test_setgid_env.c - unit tests for lib/global/setgid_env.c (the parts
 * that do not need a set-gid binary; tests/integration/test_setgid_env.py
 * runs the installed set-gid commands).
 */
#include <stdlib.h>

#include "config.h"
#include "msg.h"
#include "setgid_env.h"
#include "unit.h"

UNIT_TEST(test_config_dir_rules)
{
    msg_init("test_setgid_env", MSG_NOSYSLOG);
    CHECK(setgid_env_config_dir_ok(NULL));
    CHECK(setgid_env_config_dir_ok(CONFIG_DEFAULT_DIR));
    CHECK(setgid_env_config_dir_ok(CONFIG_DEFAULT_DIR "/"));
    CHECK(!setgid_env_config_dir_ok("relative/conf"));     /* never, for anyone */
    CHECK(!setgid_env_config_dir_ok("../etc/postfix"));
    CHECK(setgid_env_config_dir_ok("/tmp/some/conf"));      /* not privileged here */
}

UNIT_TEST(test_sanitize_keeps_only_tz)
{
    setenv("MAIL_CONFIG", "/tmp/conf", 1);
    setenv("TZ", "UTC", 1);
    setenv("LD_PRELOAD", "/tmp/evil.so", 1);
    CHECK_INT(setgid_env_sanitize(), 0);
    CHECK(getenv("LD_PRELOAD") == NULL);
    CHECK(getenv("MAIL_CONFIG") == NULL);
    CHECK_STR(getenv("TZ"), "UTC");
    CHECK_STR(getenv("PATH"), "/usr/bin:/bin");
    CHECK_STR(setgid_env_saved("MAIL_CONFIG"), "/tmp/conf");
}

UNIT_TESTS {
    {"test_config_dir_rules", test_config_dir_rules},
    {"test_sanitize_keeps_only_tz", test_sanitize_keeps_only_tz},
    UNIT_END
};
