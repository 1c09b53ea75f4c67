/*
 * postdrop_env.c - the hygiene a set-gid command needs before it trusts
 * anything of its invoker.
 *
 * Interface (postdrop.h):
 *   postdrop_sanitize()          descriptors 0-2 open, umask 077, the
 *                                environment emptied (a few names kept
 *                                aside for postdrop_saved_env())
 *   postdrop_privileged()        running with privileges the invoker
 *                                does not have (set-gid postdrop)
 *   postdrop_check_config_dir()  a non-default configuration directory
 *                                is taken from a privileged invoker only
 *                                when root or listed in the default
 *                                main.cf's alternate_config_directories
 *   postdrop_check_user()        authorized_submit_users
 *   postdrop_fatal()             "fatal: ..." and exit with a sysexits code
 *
 * SECURITY: everything the invoker controls (environment, descriptors,
 * umask, argv[0], the configuration directory) is reset or checked here
 * before the queue directory is touched.
 */
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "postdrop.h"

static char *saved_mail_config;
static char *saved_tz;

void
postdrop_fatal(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_FATAL, fmt, ap);
    va_end(ap);
    exit(status);
}

void
postdrop_sanitize(void)
{
    const char *v;
    int     fd;

    /* An invoker that closed 0-2 must not get our files on them. */
    for (fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0) {
            int     nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);

            if (nfd < 0 || (nfd != fd && (dup2(nfd, fd) < 0 || close(nfd) < 0)))
                _exit(POSTDROP_EX_SOFTWARE);
        }
    }
    umask(077);
    if ((v = getenv("MAIL_CONFIG")) != NULL && strlen(v) < 4096)
        saved_mail_config = mem_strdup(v);
    if ((v = getenv("TZ")) != NULL && strlen(v) < 256)
        saved_tz = mem_strdup(v);
    if (clearenv() != 0)
        _exit(POSTDROP_EX_SOFTWARE);
    if (saved_tz)
        (void) setenv("TZ", saved_tz, 1);
    (void) setenv("PATH", "/usr/bin:/bin", 1);
}

const char *
postdrop_saved_env(const char *name)
{
    if (strcmp(name, "MAIL_CONFIG") == 0)
        return saved_mail_config;
    if (strcmp(name, "TZ") == 0)
        return saved_tz;
    return NULL;
}

int
postdrop_privileged(void)
{
    return getuid() != geteuid() || getgid() != getegid();
}

/* Same directory, ignoring trailing slashes. */
static int
postdrop_same_dir(const char *a, const char *b)
{
    size_t  la = strlen(a), lb = strlen(b);

    while (la > 1 && a[la - 1] == '/')
        la--;
    while (lb > 1 && b[lb - 1] == '/')
        lb--;
    return la == lb && strncmp(a, b, la) == 0;
}

void
postdrop_check_config_dir(const char *dir)
{
    ARGV   *list;
    int     ok = 0;

    if (dir == NULL || postdrop_same_dir(dir, CONFIG_DEFAULT_DIR))
        return;
    if (getuid() == 0 || !postdrop_privileged())
        return;
    config_load(CONFIG_DEFAULT_DIR);
    list = config_list("alternate_config_directories");
    for (size_t i = 0; i < list->argc && !ok; i++)
        ok = postdrop_same_dir(list->argv[i], dir);
    argv_free(list);
    config_reset();
    if (!ok)
        postdrop_fatal(POSTDROP_EX_NOPERM,
                       "%s: not listed in alternate_config_directories of %s/main.cf",
                       dir, CONFIG_DEFAULT_DIR);
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
