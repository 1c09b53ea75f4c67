/*
 * postqueue_env.c - the hygiene of a set-gid command (postqueue is
 * installed set-gid $setgid_group so that it can reach public/showq and
 * public/qmgr).
 *
 * Interface (postqueue.h):
 *   postqueue_check_config_dir()  the directory must be absolute, and a
 *                                 non-default one is taken from a
 *                                 privileged invoker only when root or
 *                                 listed in the default main.cf's
 *                                 alternate_config_directories
 *                                 (lib/setgid_env.h); fatal otherwise
 *   postqueue_check_user()        authorized_mailq_users (-p, -j) or
 *                                 authorized_flush_users (-f, -i, -s)
 *                                 against the real uid's login name
 *                                 (lib/user_acl.h); root and mail_owner
 *                                 always may; fatal otherwise
 *   postqueue_fatal()             "fatal: ..." and exit 69
 * main() calls setgid_env_sanitize() first (descriptors, umask,
 * environment; lib/setgid_env.h).
 *
 * SECURITY: everything the invoker controls (environment, descriptors,
 * umask, the configuration directory) is reset or checked here before the
 * queue directory is touched: with an arbitrary main.cf a user could make
 * a set-gid program connect to sockets of its choosing. The user lists
 * are checked before any socket or queue file is touched.
 *
 * DIAGNOSTICS: fatal (exit 69): a configuration directory not absolute or
 * not allowed, a user not in
 * authorized_mailq_users/authorized_flush_users.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "msg.h"
#include "postqueue.h"
#include "setgid_env.h"
#include "user_acl.h"

void
postqueue_fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_FATAL, fmt, ap);
    va_end(ap);
    exit(POSTQUEUE_EX_FATAL);
}

void
postqueue_check_config_dir(const char *dir)
{
    if (dir != NULL && *dir != '/')
        postqueue_fatal("configuration directory must be absolute: %s", dir);
    if (!setgid_env_config_dir_ok(dir))
        postqueue_fatal("%s: not listed in alternate_config_directories of %s/main.cf",
                        dir, CONFIG_DEFAULT_DIR);
}

void
postqueue_check_user(int flush)
{
    const char *param = flush ? "authorized_flush_users" : "authorized_mailq_users";
    const char *spec = flush ? var_flush_acl : var_showq_acl;
    struct passwd *owner = getpwnam(var_mail_owner);
    uid_t   uid = getuid();
    const char *who;

    if (uid == 0 || (owner != NULL && owner->pw_uid == uid))
        return;
    if ((who = user_acl_check(param, spec, uid)) != NULL)
        postqueue_fatal("User %s(%ld) is not allowed to %s the mail queue",
                        who, (long) uid, flush ? "flush" : "view");
}
