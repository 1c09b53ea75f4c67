/*
 * setgid_env.c - set-gid command hygiene: descriptors, umask,
 * environment, trusted configuration directories.
 *
 * Interface: setgid_env.h.
 *
 * SECURITY: see setgid_env.h. The saved values are length-bounded; the
 * trusted directory list comes from the default main.cf only, which the
 * invoker cannot choose; it is read with its own CONFIG_VAR table and
 * forgotten (config_reset) before the caller loads its own main.cf.
 *
 * DIAGNOSTICS: an unreadable default main.cf is fatal (config_load);
 * everything else is a return value the caller reports.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "mem.h"
#include "setgid_env.h"

static char *setgid_mail_config;
static char *setgid_tz;

int
setgid_env_sanitize(void)
{
    const char *v;

    /* An invoker that closed 0-2 must not get our files on them. */
    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0) {
            int     nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);

            if (nfd < 0 || (nfd != fd && (dup2(nfd, fd) < 0 || close(nfd) < 0)))
                return -1;
        }
    }
    umask(077);
    if ((v = getenv("MAIL_CONFIG")) != NULL && strlen(v) < 4096)
        setgid_mail_config = mem_strdup(v);
    if ((v = getenv("TZ")) != NULL && strlen(v) < 256)
        setgid_tz = mem_strdup(v);
    if (clearenv() != 0)
        return -1;
    if (setgid_tz)
        (void) setenv("TZ", setgid_tz, 1);
    (void) setenv("PATH", "/usr/bin:/bin", 1);
    return 0;
}

const char *
setgid_env_saved(const char *name)
{
    if (strcmp(name, "MAIL_CONFIG") == 0)
        return setgid_mail_config;
    if (strcmp(name, "TZ") == 0)
        return setgid_tz;
    return NULL;
}

int
setgid_env_privileged(void)
{
    return getuid() != geteuid() || getgid() != getegid();
}

/* Same directory, ignoring trailing slashes. */
static int
setgid_env_same_dir(const char *a, const char *b)
{
    size_t  la = strlen(a), lb = strlen(b);

    while (la > 1 && a[la - 1] == '/')
        la--;
    while (lb > 1 && b[lb - 1] == '/')
        lb--;
    return la == lb && strncmp(a, b, la) == 0;
}

int
setgid_env_config_dir_ok(const char *dir)
{
    const char *alt_dirs;
    const CONFIG_VAR vars[] = {
        CONFIG_VAR_STR("alternate_config_directories", &alt_dirs),
        CONFIG_VAR_END,
    };
    ARGV   *list;
    int     ok = 0;

    if (dir == NULL || setgid_env_same_dir(dir, CONFIG_DEFAULT_DIR))
        return 1;
    if (*dir != '/')
        return 0;                       /* never a relative directory */
    if (getuid() == 0 || !setgid_env_privileged())
        return 1;
    config_load(CONFIG_DEFAULT_DIR);
    config_read_vars(vars);
    list = argv_split_list(alt_dirs);
    for (size_t i = 0; i < list->argc && !ok; i++)
        ok = setgid_env_same_dir(list->argv[i], dir);
    argv_free(list);
    config_reset();
    return ok;
}
