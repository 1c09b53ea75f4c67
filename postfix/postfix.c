/*
 * postfix.c - the postfix control command: main().
 *
 * Usage: postfix [-c config_dir] [-Dv] command
 * Commands: start, start-fg, stop, abort, reload, status, check, flush,
 * set-permissions. The configuration directory is -c, else $MAIL_CONFIG,
 * else /etc/postfix. Reserved for the superuser, with one exception: a
 * private instance whose mail_owner is the invoking user (the non-root
 * demo, "make run") may be controlled by that user.
 *
 * Messages go to stderr and to the mail log, tagged "postfix/postfix-script"
 * as Postfix's own script does. Exit status: 0 success, 1 failure (also
 * "not running" for status/stop, "already running" for start).
 *
 * SECURITY: runs as root; the environment is reduced to what master needs
 * (MAIL_CONFIG, PATH, TZ, LANG) before master is started.
 *
 * DIAGNOSTICS: fatal: a usage error or unknown command, a non-root caller
 * (with Postfix's hint to use sendmail), a bad parameter value, a failed
 * setenv.
 */
#include <pwd.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "msg.h"
#include "postfix.h"

int     postfix_verbose;

const char *var_mail_owner;
const char *var_queue_dir;
const char *var_data_dir;
const char *var_daemon_dir;
const char *var_maillog_file;
const char *var_maillog_file_perms;
const char *var_maillog_file_pfxs;

static const CONFIG_VAR postfix_vars[] = {
    CONFIG_VAR_STR("mail_owner", &var_mail_owner),
    CONFIG_VAR_STR("queue_directory", &var_queue_dir),
    CONFIG_VAR_STR("data_directory", &var_data_dir),
    CONFIG_VAR_STR("daemon_directory", &var_daemon_dir),
    CONFIG_VAR_STR("maillog_file", &var_maillog_file),
    CONFIG_VAR_STR("maillog_file_permissions", &var_maillog_file_perms),
    CONFIG_VAR_STR("maillog_file_prefixes", &var_maillog_file_pfxs),
    CONFIG_VAR_END,
};

static void
postfix_usage(void)
{
    msg_fatal("usage: postfix [-c config_dir] [-Dv] command");
}

/* Root, or the mail_owner of a private (non-root) instance. */
static void
postfix_check_user(void)
{
    struct passwd *pw;

    if (getuid() == 0)
        return;
    pw = getpwuid(getuid());
    if (pw != NULL && strcmp(pw->pw_name, var_mail_owner) == 0)
        return;
    msg_error("to submit mail, use the Postfix sendmail command");
    msg_fatal("the postfix command is reserved for the superuser");
}

static int
postfix_dispatch(const char *cmd)
{
    if (strcmp(cmd, "start") == 0)
        return postfix_start(0);
    if (strcmp(cmd, "start-fg") == 0)
        return postfix_start(1);
    if (strcmp(cmd, "stop") == 0)
        return postfix_stop(0);
    if (strcmp(cmd, "abort") == 0)
        return postfix_stop(1);
    if (strcmp(cmd, "reload") == 0)
        return postfix_reload();
    if (strcmp(cmd, "status") == 0)
        return postfix_status();
    if (strcmp(cmd, "flush") == 0)
        return postfix_flush();
    if (strcmp(cmd, "check") == 0) {
        postfix_check(1);
        return 0;
    }
    if (strcmp(cmd, "set-permissions") == 0) {
        postfix_set_permissions();
        return 0;
    }
    msg_fatal("unknown command: '%s'. Usage: postfix start (or stop, reload, "
              "abort, flush, check, status, set-permissions, start-fg)", cmd);
}

/* Postfix's notice, on every command, while compatibility_level is below
 * the current level (3.6 for Postfix 3.7). */
static void
postfix_compat_notice(void)
{
    if (!config_compat_below("3.6"))
        return;
    msg_info("Postfix is using backwards-compatible default settings");
    msg_info("See http://www.postfix.org/COMPATIBILITY_README.html for details");
    msg_info("To disable backwards compatibility use \"postconf compatibility_level=3.6\" "
             "and \"postfix reload\"");
}

int
main(int argc, char **argv)
{
    const char *dir = NULL;
    int     ch;

    umask(022);
    msg_init("postfix", MSG_STDERR);
    while ((ch = getopt(argc, argv, "c:Dv")) != -1) {
        switch (ch) {
        case 'c': dir = optarg; break;
        case 'D': break;        /* debugger: not supported, ignored */
        case 'v': msg_verbose++; postfix_verbose++; break;
        default: postfix_usage();
        }
    }
    if (optind >= argc)
        postfix_usage();
    config_load(dir);
    config_read_vars(postfix_vars);
    msg_logging_init();
    postfix_check_user();
    postfix_compat_notice();
    if (setenv("MAIL_CONFIG", config_directory(), 1) < 0)
        msg_fatal("setenv: out of memory");
    msg_init("postfix-script", MSG_STDERR);
    return postfix_dispatch(argv[optind]);
}
