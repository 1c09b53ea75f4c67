/*
 * virtual.h - the virtual(8) delivery agent: mail for
 * virtual_mailbox_domains into mbox files and Maildirs under
 * virtual_mailbox_base, owned by the ids of virtual_uid_maps and
 * virtual_gid_maps.
 *
 * Parts: virtual.c (main, parameters, one request, each recipient's
 * table lookups), virtual_mailbox.c (the write, with the mapped ids).
 *
 * SECURITY: virtual runs as root only to switch ids: every file and
 * lock is created with the recipient's effective uid and gid (never
 * root: uids below virtual_minimum_uid and gid 0 are refused), and root
 * comes back only between recipients.
 *
 * DIAGNOSTICS: fatal at start for bad parameter values (an unknown
 * virtual_mailbox_lock method, server.c) and whenever switching ids to
 * the recipient or back to root fails (never write with the wrong ids);
 * per recipient a uid below virtual_minimum_uid or missing from the maps is a
 * warning and a deferral, a table lookup failure a deferral, an unknown
 * user or a mailbox over virtual_mailbox_limit a bounce.
 */
#ifndef POSTHORN_VIRTUAL_H
#define POSTHORN_VIRTUAL_H

#include <sys/types.h>

#include "deliver.h"
#include "vstring.h"

#define VIRTUAL_LOCK_FCNTL   (1 << 0)
#define VIRTUAL_LOCK_FLOCK   (1 << 1)
#define VIRTUAL_LOCK_DOTLOCK (1 << 2)

/* virtual.c: the parameters, read once. */
extern const char *var_virt_mailbox_base;
extern long var_virt_mailbox_limit;
extern int virtual_lock_styles;         /* VIRTUAL_LOCK_* */
extern long var_deliver_lock_attempts;
extern long var_deliver_lock_delay;
extern long var_stale_lock_time;

/* virtual_mailbox.c: deliver recipient i of req into path (a trailing
 * '/': Maildir), as uid/gid. DELIVER_*; dsn and why on failure, the
 * success text ("delivered to maildir") otherwise. */
int     virtual_mailbox(DELIVER_REQUEST *req, int i, const char *path, uid_t uid, gid_t gid,
                        VSTRING *dsn, VSTRING *why);
/* Parse virtual_mailbox_lock; -1 on an unknown word. */
int     virtual_lock_parse(const char *text);

#endif
