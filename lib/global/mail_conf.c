/*
 * mail_conf.c - process set-up that comes from main.cf: where log lines
 * go, and who mail_owner and setgid_group are.
 *
 * Interface: config.h (msg_logging_init, priv_mail_owner,
 * priv_setgid_group). The mechanisms live in lib/util (msg.c, privs.c),
 * which knows nothing of main.cf; this file reads the parameters for
 * them.
 *
 * DIAGNOSTICS: fatal when mail_owner or setgid_group does not exist or
 * has a privileged id, with Postfix's wording; msg.c warns about a bad
 * syslog_facility or maillog_file.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>

#include "config.h"
#include "msg.h"

void
msg_logging_init(void)
{
    MSG_LOG_SETTINGS set;

    set.syslog_name = config_str("syslog_name");
    set.syslog_facility = config_str("syslog_facility");
    set.hostname = config_str("myhostname");
    set.maillog_file = config_str("maillog_file");
    set.maillog_file_prefixes = config_str("maillog_file_prefixes");
    set.maillog_file_permissions = config_str("maillog_file_permissions");
    set.queue_directory = config_str("queue_directory");
    msg_logging_setup(&set);
}

void
priv_mail_owner(uid_t *uid, gid_t *gid)
{
    const char *name = config_str("mail_owner");
    struct passwd *pw;

    if (*name == 0)
        name = "postfix";
    errno = 0;
    if ((pw = getpwnam(name)) == NULL)
        msg_fatal("file %s/main.cf: parameter mail_owner: unknown user name value: %s",
                  config_directory(), name);
    if (pw->pw_uid == 0)
        msg_fatal("file %s/main.cf: parameter mail_owner: user %s has privileged user ID",
                  config_directory(), name);
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
}

gid_t
priv_setgid_group(void)
{
    const char *name = config_str("setgid_group");
    struct group *gr;

    if (*name == 0)
        name = "postdrop";
    if ((gr = getgrnam(name)) == NULL)
        msg_fatal("file %s/main.cf: parameter setgid_group: unknown group name: %s",
                  config_directory(), name);
    if (gr->gr_gid == 0)
        msg_fatal("file %s/main.cf: parameter setgid_group: group %s has privileged group ID",
                  config_directory(), name);
    return gr->gr_gid;
}
