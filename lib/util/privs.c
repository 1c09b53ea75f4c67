/*
 * privs.c - the one routine that drops privileges, and id look-ups.
 *
 * Interface: privs.h. priv_drop(): optional chroot (and chdir "/"),
 * setgroups to the single group, setresgid, setresuid, then verify that
 * setuid(0) fails. Any failure is fatal. When the process does not run as
 * root (a non-root demo or test instance) nothing changes and no error is
 * reported. priv_drop_try() does the same id change without chroot and
 * returns -1 instead of exiting (a forked child that must report first).
 *
 * SECURITY: this is where root goes away; order matters (groups and gid
 * before uid, chroot before the uid change). The ids come from the
 * caller: $mail_owner / $setgid_group (mail_conf.c) or a recipient's
 * passwd entry.
 *
 * DIAGNOSTICS: priv_drop() is fatal on every failure: chroot or chdir
 * after it, setgroups/setresgid/setresuid (naming the call), and a root
 * that can be regained after the drop. priv_drop_try(), priv_set_euid()
 * and priv_restore_root() return -1 with errno instead.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "privs.h"

static int
priv_is_root(void)
{
    uid_t   r, e, s;

    if (getresuid(&r, &e, &s) < 0)
        return geteuid() == 0;
    return r == 0 || e == 0 || s == 0;
}

/* Groups, gid, uid, then the regain check: NULL, or the failed step. */
static const char *
priv_switch_ids(uid_t uid, gid_t gid)
{
    if (setgroups(1, &gid) < 0)
        return "setgroups";
    if (setresgid(gid, gid, gid) < 0)
        return "setresgid";
    if (setresuid(uid, uid, uid) < 0)
        return "setresuid";
    if (uid != 0 && setuid(0) == 0) {
        errno = EPERM;
        return "regain";
    }
    return NULL;
}

void
priv_drop(uid_t uid, gid_t gid, const char *chroot_dir)
{
    const char *step;

    if (!priv_is_root())
        return;
    if (geteuid() != 0 && seteuid(0) < 0)
        msg_fatal("priv_drop: seteuid(0): %m");
    if (chroot_dir != NULL && *chroot_dir != 0) {
        if (chroot(chroot_dir) < 0)
            msg_fatal("chroot(%s): %m", chroot_dir);
        if (chdir("/") < 0)
            msg_fatal("chdir(/) after chroot(%s): %m", chroot_dir);
    }
    if ((step = priv_switch_ids(uid, gid)) == NULL)
        return;
    if (strcmp(step, "regain") == 0)
        msg_fatal("priv_drop: could regain root privileges after dropping to uid %ld",
                  (long) uid);
    msg_fatal("%s(%ld): %m", step, strcmp(step, "setresuid") == 0 ? (long) uid : (long) gid);
}

int
priv_drop_try(uid_t uid, gid_t gid)
{
    if (!priv_is_root())
        return 0;
    if (geteuid() != 0 && seteuid(0) < 0)
        return -1;
    return priv_switch_ids(uid, gid) == NULL ? 0 : -1;
}

int
priv_set_euid(uid_t uid, gid_t gid)
{
    if (!priv_is_root())
        return 0;
    if (geteuid() != 0 && seteuid(0) < 0)
        return -1;
    if (setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(uid) < 0)
        return -1;
    return 0;
}

int
priv_restore_root(void)
{
    gid_t   gid = 0;

    if (!priv_is_root())
        return 0;
    if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(1, &gid) < 0)
        return -1;
    return 0;
}
