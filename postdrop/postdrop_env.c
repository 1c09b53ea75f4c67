/*
 * postdrop_env.c - the hygiene a set-gid command needs before it trusts
 * anything of its invoker.
 *
 * Interface (postdrop.h):
 *   postdrop_check_user()        authorized_submit_users
 *   postdrop_fatal()             "fatal: ..." and exit with a sysexits code
 *
 * Descriptors, umask, environment and the trusted configuration
 * directories: lib/setgid_env.h, called from main().
 *
 * SECURITY: everything the invoker controls (environment, descriptors,
 * umask, argv[0], the configuration directory) is reset or checked
 * before the queue directory is touched.
 */
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "maps.h"
#include "msg.h"
#include "postdrop.h"

void
postdrop_fatal(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_FATAL, fmt, ap);
    va_end(ap);
    exit(status);
}

/* Does the list in authorized_submit_users allow name? */
static int
postdrop_user_allowed(const char *name)
{
    ARGV   *list = config_list("authorized_submit_users");
    const char *value;
    int     allowed = 0;

    for (size_t i = 0; i < list->argc && !allowed; i++) {
        const char *item = list->argv[i];
        int     neg = (*item == '!');

        if (neg)
            item++;
        if (strcmp(item, "static:anyone") == 0) {
            allowed = !neg;
            break;
        }
        if (strchr(item, ':') != NULL) {
            MAPS   *m = maps_create("authorized_submit_users", item, 0);
            int     found = maps_find(m, name, &value);

            maps_free(m);
            if (found > 0) {
                allowed = !neg;
                break;
            }
        } else if (strcmp(item, name) == 0) {
            allowed = !neg;
            break;
        }
    }
    argv_free(list);
    return allowed;
}

void
postdrop_check_user(uid_t uid, const char *program)
{
    struct passwd *pw;

    if (uid == 0)
        return;
    if ((pw = getpwuid(uid)) == NULL)
        postdrop_fatal(POSTDROP_EX_NOPERM, "unable to find out your login name (uid %ld)",
                       (long) uid);
    if (!postdrop_user_allowed(pw->pw_name))
        postdrop_fatal(POSTDROP_EX_NOPERM, "User %s(%ld) is not allowed to submit mail",
                       pw->pw_name, (long) uid);
}
