/*
 * privs.h - the one routine that drops privileges.
 *
 * priv_drop(): optional chroot, setgroups to the one group, setresgid,
 * setresuid, then a check that setuid(0) fails; any failure is fatal.
 * Nothing is done when the process is not root (a non-root demo).
 * A process that set only its effective ids (priv_set_euid) keeps root
 * as real and saved uid: the user it acts for cannot signal or trace it.
 *
 * DIAGNOSTICS: priv_drop() is fatal on every failure (chroot, setgroups,
 * setresgid, setresuid, root regained); the other functions return -1 with
 * errno.
 */
#ifndef POSTHORN_PRIVS_H
#define POSTHORN_PRIVS_H

#include <sys/types.h>

void    priv_drop(uid_t uid, gid_t gid, const char *chroot_dir);
/* The same without chroot: 0, or -1 (errno set) instead of a fatal error. */
int     priv_drop_try(uid_t uid, gid_t gid);
/* Temporarily switch effective ids (local delivery helpers). 0 / -1. */
int     priv_set_euid(uid_t uid, gid_t gid);
int     priv_restore_root(void);

#endif
