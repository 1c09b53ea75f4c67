/*
 * postdrop_env.c - the hygiene a set-gid command needs before it trusts
 * anything of its invoker.
 *
 * Interface (postdrop.h):
 *   postdrop_check_user()        authorized_submit_users (lib/user_acl.h)
 *   msg_fatal_status()             "fatal: ..." and exit with a sysexits code
 *
 * Descriptors, umask, environment and the trusted configuration
 * directories: lib/setgid_env.h, called from main().
 *
 * SECURITY: everything the invoker controls (environment, descriptors,
 * umask, argv[0], the configuration directory) is reset or checked
 * before the queue directory is touched.
 *
 * DIAGNOSTICS: fatal: a user that cannot be named or is not in
 * authorized_submit_users; see lib/global/setgid_env.c for the
 * environment.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "msg.h"
#include "postdrop.h"
#include "user_acl.h"

void
postdrop_check_user(uid_t uid, const char *program)
{
    struct passwd *pw;

    if (uid == 0)
        return;
    if ((pw = getpwuid(uid)) == NULL)
        msg_fatal_status(POSTDROP_EX_NOPERM, "unable to find out your login name (uid %ld)",
                       (long) uid);
    if (user_acl_match("authorized_submit_users", var_submit_acl,
                       pw->pw_name) != 1)
        msg_fatal_status(POSTDROP_EX_NOPERM, "User %s(%ld) is not allowed to submit mail",
                       pw->pw_name, (long) uid);
}
