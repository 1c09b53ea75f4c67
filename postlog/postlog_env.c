/*
 * postlog_env.c - the hygiene of the set-gid postlog command.
 *
 * Interface (postlog.h):
 *   postlog_sanitize()          descriptors 0-2 open, umask 077, the
 *                               environment emptied (MAIL_CONFIG and TZ
 *                               kept aside)
 *   postlog_saved_config()      the invoker's MAIL_CONFIG, or NULL
 *   postlog_check_config_dir()  a non-default configuration directory is
 *                               accepted from a privileged invoker only
 *                               when root or listed in the default
 *                               main.cf's alternate_config_directories
 *
 * SECURITY: postlog is installed set-gid $setgid_group so that it may
 * send to public/postlog. Everything the invoker controls (environment,
 * descriptors, umask, the configuration directory) is reset or checked
 * here first: with a main.cf of the user's choosing the command could be
 * made to write to sockets or files the group may reach.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "mem.h"
#include "msg.h"
#include "postlog.h"

static char *postlog_mail_config;

void
postlog_sanitize(void)
{
    const char *v;
    char   *tz = NULL;

    for (int fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0) {
            int     nfd = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);

            if (nfd < 0 || (nfd != fd && (dup2(nfd, fd) < 0 || close(nfd) < 0)))
                _exit(1);
        }
    }
    umask(077);
    if ((v = getenv("MAIL_CONFIG")) != NULL && strlen(v) < 4096)
        postlog_mail_config = mem_strdup(v);
    if ((v = getenv("TZ")) != NULL && strlen(v) < 256)
        tz = mem_strdup(v);
    if (clearenv() != 0)
        _exit(1);
    if (tz)
        (void) setenv("TZ", tz, 1);
    mem_free(tz);
    (void) setenv("PATH", "/usr/bin:/bin", 1);
}

const char *
postlog_saved_config(void)
{
    return postlog_mail_config;
}

/* Same directory, ignoring trailing slashes. */
static int
postlog_same_dir(const char *a, const char *b)
{
    size_t  la = strlen(a), lb = strlen(b);

    while (la > 1 && a[la - 1] == '/')
        la--;
    while (lb > 1 && b[lb - 1] == '/')
        lb--;
    return la == lb && strncmp(a, b, la) == 0;
}

/* Read from the default main.cf only, before the real one is loaded. */
static const char *var_alt_config_dirs;

static const CONFIG_VAR postlog_default_vars[] = {
    CONFIG_VAR_STR("alternate_config_directories", &var_alt_config_dirs),
    CONFIG_VAR_END,
};

void
postlog_check_config_dir(const char *dir)
{
    ARGV   *list;
    int     ok = 0;

    if (dir == NULL || postlog_same_dir(dir, CONFIG_DEFAULT_DIR))
        return;
    if (*dir != '/')
        msg_fatal("configuration directory must be absolute: %s", dir);
    if (getuid() == 0 || (getuid() == geteuid() && getgid() == getegid()))
        return;
    config_load(CONFIG_DEFAULT_DIR);
    config_read_vars(postlog_default_vars);
    list = argv_split_list(var_alt_config_dirs);
    for (size_t i = 0; i < list->argc && !ok; i++)
        ok = postlog_same_dir(list->argv[i], dir);
    argv_free(list);
    config_reset();
    if (!ok)
        msg_fatal("%s: not listed in alternate_config_directories of %s/main.cf",
                  dir, CONFIG_DEFAULT_DIR);
}
