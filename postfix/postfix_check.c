/*
 * postfix_check.c - "postfix check" and the checks "postfix start" runs.
 *
 * Interface: postfix.h. postfix_check() verifies what master needs and is
 * fatal when it is missing: mail_owner and setgid_group exist and are not
 * privileged, master.cf parses, daemon_directory holds master, a
 * maillog_file matches $maillog_file_prefixes and maillog_file_permissions
 * is 0600, 0640 or 0644 (postlogd refuses them otherwise, and the log
 * would silently go nowhere). It creates
 * missing directories with Postfix's ownership and modes:
 *
 *   queue_directory          0755 root
 *   pid                      0755 root
 *   maildrop                 1730 mail_owner:setgid_group
 *   public                   0710 mail_owner:setgid_group
 *   private, incoming, active, deferred, hold, corrupt,
 *   bounce, defer, trace, flush, saved       0700 mail_owner
 *   data_directory           0700 mail_owner
 *
 * With warn set (postfix check) it also reports existing directories with
 * the wrong owner and main.cf parameters posthorn does not know.
 * Always (start and check) it warns about each parameter set in main.cf
 * or with -o in master.cf that posthorn knows but does not implement
 * (param_guard.h), and says so louder when that makes services refuse
 * work.
 * set-permissions fixes owner and mode of the directories above.
 *
 * SECURITY: runs as root. Ownership is changed only on directories this
 * file names, with lchown-free fchown on an O_DIRECTORY|O_NOFOLLOW fd, so
 * a symlink planted in the queue cannot redirect it.
 *
 * DIAGNOSTICS: fatal: a queue_directory that is not absolute, a
 * daemon_directory or queue subdirectory that is not a directory or cannot
 * be made, an unreadable or broken master.cf. Warnings (as postfix check):
 * files not owned as expected, chown/chmod failures, unused parameters,
 * parameters posthorn does not implement (and those that make services
 * refuse to work).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "maillog.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "param_guard.h"
#include "postfix.h"
#include "privs.h"

typedef struct POSTFIX_DIR {
    const char *name;           /* relative to queue_directory */
    int     mode;
    int     owned;              /* 1: mail_owner, 0: root */
    int     group;              /* 1: setgid_group */
} POSTFIX_DIR;

static const POSTFIX_DIR postfix_dirs[] = {
    {"pid", 0755, 0, 0},
    {"maildrop", 01730, 1, 1},
    {"public", 0710, 1, 1},
    {"private", 0700, 1, 0},
    {"incoming", 0700, 1, 0},
    {"active", 0700, 1, 0},
    {"deferred", 0700, 1, 0},
    {"hold", 0700, 1, 0},
    {"corrupt", 0700, 1, 0},
    {"bounce", 0700, 1, 0},
    {"defer", 0700, 1, 0},
    {"trace", 0700, 1, 0},
    {"flush", 0700, 1, 0},
    {"saved", 0700, 1, 0},
    {"recycle", 0700, 1, 0},            /* posthorn's: queue.h QUEUE_RECYCLE */
};

static struct {
    uid_t   owner_uid;
    gid_t   owner_gid;
    gid_t   setgid_gid;
} pf_ids;

/* Set owner and mode through a descriptor (never follows a symlink). */
static void
postfix_fix_dir(const char *path, uid_t uid, gid_t gid, int mode)
{
    int     fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        msg_warn("open %s: %m", path);
        return;
    }
    if (geteuid() == 0 && fchown(fd, uid, gid) < 0)
        msg_warn("chown %s: %m", path);
    if (fchmod(fd, (mode_t) mode) < 0)
        msg_warn("chmod %s: %m", path);
    close(fd);
}

/* Create path if missing; warn (or fix) when its owner is wrong. */
static void
postfix_make_dir(const char *path, uid_t uid, gid_t gid, int mode, int warn, int fix)
{
    struct stat st;
    int     created = 0;

    if (lstat(path, &st) < 0) {
        if (errno != ENOENT || mkdir(path, 0700) < 0)
            msg_fatal("create directory %s: %m", path);
        created = 1;
    } else if (!S_ISDIR(st.st_mode)) {
        msg_fatal("%s: not a directory", path);
    }
    if (created || fix) {
        postfix_fix_dir(path, uid, gid, mode);
    } else if (warn && geteuid() == 0 && st.st_uid != uid) {
        msg_warn("not owned by %s: %s", uid == 0 ? "root" : var_mail_owner,
                 path);
    }
}

static void
postfix_queue_dirs(int warn, int fix)
{
    const char *qdir = var_queue_dir;
    const POSTFIX_DIR *d;
    char   *path;
    size_t  i;

    if (*qdir != '/')
        msg_fatal("queue_directory \"%s\" is not an absolute path", qdir);
    postfix_make_dir(qdir, 0, 0, 0755, warn, fix);
    for (i = 0; i < sizeof(postfix_dirs) / sizeof(postfix_dirs[0]); i++) {
        d = postfix_dirs + i;
        path = mem_printf("%s/%s", qdir, d->name);
        postfix_make_dir(path, d->owned ? pf_ids.owner_uid : 0,
                         d->group ? pf_ids.setgid_gid : (d->owned ? pf_ids.owner_gid : 0),
                         d->mode, warn, fix);
        mem_free(path);
    }
    if (*var_data_dir)
        postfix_make_dir(var_data_dir, pf_ids.owner_uid, pf_ids.owner_gid, 0700, warn, fix);
}

static void
postfix_check_programs(void)
{
    const char *ddir = var_daemon_dir;
    char   *master = mem_printf("%s/master", ddir);
    struct stat st;

    if (stat(ddir, &st) < 0 || !S_ISDIR(st.st_mode))
        msg_fatal("daemon_directory %s: %s", ddir,
                  errno ? strerror(errno) : "not a directory");
    if (access(master, X_OK) < 0)
        msg_fatal("%s: %m", master);
    mem_free(master);
}

/* One parameter set by the administrator: is it ignored, or worse? */
static void
postfix_warn_unimplemented(const char *where, const char *name, const char *value)
{
    const char *feature;

    if (!param_unimplemented(name))
        return;
    if ((feature = param_guard_engaged(name, value)) != NULL)
        msg_warn("%s: parameter %s = %s needs %s, which posthorn does not implement: "
                 "the services that need it refuse to work", where, name, value, feature);
    else
        msg_warn("%s: parameter %s is not implemented by posthorn; ignored", where, name);
}

static void
postfix_walk_main_cf(const char *name, void *ctx)
{
    if (config_in_file(name))
        postfix_warn_unimplemented((const char *) ctx, name, config_str(name));
}

/* The -o name=value (or -oname=value) settings of one master.cf entry. */
static void
postfix_check_overrides(const char *path, const MASTER_ENT *ent)
{
    const char *arg, *eq;
    char   *where, *name, *value;
    size_t  i;

    for (i = 0; i < ent->args->argc; i++) {
        arg = ent->args->argv[i];
        if (strncmp(arg, "-o", 2) != 0)
            continue;
        if (arg[2] != 0)
            arg += 2;
        else if (i + 1 < ent->args->argc)
            arg = ent->args->argv[++i];
        else
            break;
        if ((eq = strchr(arg, '=')) == NULL)
            continue;
        where = mem_printf("%s, line %d", path, ent->line);
        name = mem_strndup(arg, eq - arg);
        value = config_expand(eq + 1);
        postfix_warn_unimplemented(where, name, value);
        mem_free(where);
        mem_free(name);
        mem_free(value);
    }
}

static void
postfix_check_mastercf(void)
{
    char   *path = mem_printf("%s/master.cf", config_directory());
    char   *main_cf = mem_printf("%s/main.cf", config_directory());
    char   *err = NULL;
    MASTER_TABLE *tab = mastercf_load(path, &err);
    int     i;

    if (tab == NULL)
        msg_fatal("%s", err ? err : "cannot read master.cf");
    config_walk(postfix_walk_main_cf, main_cf);
    for (i = 0; i < tab->count; i++)
        postfix_check_overrides(path, tab->ents[i]);
    mastercf_free(tab);
    mem_free(main_cf);
    mem_free(path);
}

/* postlogd would refuse the file: say so before anything starts. */
static void
postfix_check_maillog(void)
{
    char   *why = maillog_check(var_maillog_file, var_maillog_file_pfxs,
                                var_maillog_file_perms, NULL);

    if (why != NULL)
        msg_fatal("%s", why);
}

static void
postfix_check_params(void)
{
    ARGV   *unknown = config_unknown_names();
    size_t  i;

    for (i = 0; unknown && i < unknown->argc; i++)
        msg_warn("%s/main.cf: unused parameter: %s=%s", config_directory(),
                 unknown->argv[i], config_str(unknown->argv[i]));
    argv_free(unknown);
}

void
postfix_check(int warn)
{
    priv_mail_owner(&pf_ids.owner_uid, &pf_ids.owner_gid);
    pf_ids.setgid_gid = priv_setgid_group();
    postfix_check_mastercf();
    postfix_check_maillog();
    postfix_check_programs();
    postfix_queue_dirs(warn, 0);
    if (warn)
        postfix_check_params();
}

void
postfix_set_permissions(void)
{
    priv_mail_owner(&pf_ids.owner_uid, &pf_ids.owner_gid);
    pf_ids.setgid_gid = priv_setgid_group();
    postfix_queue_dirs(0, 1);
}
