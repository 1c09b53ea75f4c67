/*
 * local_mbox.c - writing a message to a mailbox file or a Maildir.
 *
 * Interface (local.h):
 *   local_mbox_deliver()  append to an mbox file: the spool mailbox
 *       (created by root with O_EXCL|O_NOFOLLOW, owned by the user),
 *       the home mailbox, or a /file from an alias or .forward; dot lock
 *       (<file>.lock, stale after stale_lock_time) and fcntl lock; on any
 *       write error the file is truncated back to its old size.
 *   local_maildir_deliver()  unnamed tmp/ file, fsync, link into new/
 *       (a named one renamed where that cannot be done: maildir_deliver()).
 * The message copy, the locks and the Maildir writer are shared with
 * virtual(8): lib/global/mbox.c.
 *
 * SECURITY: the writes happen in local itself with the recipient's
 * effective ids, real and saved uid root, under command_time_limit
 * (local_euid_run, local_child.c; no fork). A file that exists and is
 * neither a regular file nor a symbolic link (a FIFO, a device, a
 * directory) is refused before it is opened (/dev/null excepted); the
 * open uses O_NOFOLLOW (a symbolic link fails) and O_NONBLOCK (no wait
 * for a FIFO reader should the file be swapped after the check), and the
 * opened file must be a regular file with a single link; O_NONBLOCK is
 * then cleared. A spool mailbox must be owned by the recipient. Only the
 * spool mailbox creation and its dot lock are done as root, in a
 * directory root controls. Maildir files are new (O_TMPFILE, or
 * O_EXCL|O_NOFOLLOW).
 *
 * DIAGNOSTICS: none fatal; a stale lock file is a warning and is removed;
 * a mailbox that cannot be truncated back after a failed write is a
 * warning. Every other failure is the recipient's result (deferred or
 * bounced by errno).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local.h"
#include "mbox.h"
#include "mem.h"
#include "msg.h"

/* ---- mbox --------------------------------------------------------------- */

typedef struct MBOX_CTX {
    LOCAL_STATE *st;
    const char *path;
    const char *delivered;
    uid_t   owner;              /* required owner (spool), or -1 */
    int     kind;               /* 0 file, 1 spool mailbox, 2 home mailbox */
    int     flags;
} MBOX_CTX;

/* Open and check the file; -1 with errno (EPERM: not a safe target). */
static int
local_mbox_open(const MBOX_CTX *m, struct stat *st)
{
    int     fd, oflags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
    int     devnull = strcmp(m->path, "/dev/null") == 0;

    if (!devnull && lstat(m->path, st) == 0 && !S_ISREG(st->st_mode)
        && !S_ISLNK(st->st_mode)) {
        errno = EPERM;                  /* never open a FIFO or a device */
        return -1;
    }
    fd = open(m->path, oflags);
    if (fd < 0 && errno == ENOENT && m->kind != 1)
        fd = open(m->path, oflags | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0)
        goto bad;
    if (S_ISCHR(st->st_mode) && devnull)
        return fd;
    if (!S_ISREG(st->st_mode) || st->st_nlink != 1
        || (m->owner != (uid_t) -1 && st->st_uid != m->owner)) {
        errno = EPERM;
        goto bad;
    }
    if (fcntl(fd, F_SETFL, O_APPEND) < 0)      /* clear O_NONBLOCK */
        goto bad;
    return fd;
bad:
    close(fd);
    return -1;
}

static int
local_mbox_write(void *ctx, VSTRING *dsn, VSTRING *why)
{
    MBOX_CTX *m = ctx;
    struct stat st;
    char   *lock = NULL;
    int     fd, status;

    if (m->kind == 2 && (lock = mbox_dotlock(m->path, var_deliver_lock_attempts,
                                             var_deliver_lock_delay, var_stale_lock_time)) == NULL)
        return mbox_fail(dsn, why, errno, "unable to create lock file %s.lock: %s", m->path);
    if ((fd = local_mbox_open(m, &st)) < 0) {
        status = mbox_fail(dsn, why, errno, errno == EPERM ?
                 "file %s is not a regular file with one link owned by the recipient (%s)"
                           : "cannot open file %s: %s", m->path);
        goto done;
    }
    if (S_ISREG(st.st_mode)
        && mbox_fcntl_lock(fd, var_deliver_lock_attempts, var_deliver_lock_delay) < 0) {
        status = mbox_fail(dsn, why, errno, "unable to lock %s: %s", m->path);
        close(fd);
        goto done;
    }
    status = mbox_append_fd(m->st->req, fd, S_ISREG(st.st_mode), m->flags,
                            local_orig_rcpt(m->st), m->delivered, dsn, why);
    close(fd);
done:
    if (lock) {
        unlink(lock);
        mem_free(lock);
    }
    return status;
}

/* Root part of spool delivery: create the mailbox for the user if needed. */
static int
local_spool_create(const char *path, const LOCAL_PRIV *priv, VSTRING *dsn, VSTRING *why)
{
    struct stat st;
    int     fd;

    if (lstat(path, &st) == 0)
        return 0;
    if (errno != ENOENT)
        return mbox_fail(dsn, why, errno, "cannot access mailbox %s: %s", path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY, 0600);
    if (fd < 0 && errno != EEXIST)
        return mbox_fail(dsn, why, errno, "cannot create mailbox %s: %s", path);
    if (fd >= 0) {
        if (fchown(fd, priv->uid, priv->gid) < 0) {
            int     err = errno;

            close(fd);
            unlink(path);
            return mbox_fail(dsn, why, err, "cannot set owner of mailbox %s: %s", path);
        }
        close(fd);
    }
    return 0;
}

int
local_mbox_deliver(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_PRIV *priv,
                   const char *path, int kind, int flags, VSTRING *dsn, VSTRING *why)
{
    MBOX_CTX m = {st, path, a->address, (uid_t) -1, kind, flags};
    char   *lock = NULL;
    int     status;

    if (st->req->trace_flags & DELIVER_TRACE_VERIFY)
        return DELIVER_SENT;            /* sendmail -bv: report only */

    if (kind == 1) {
        m.owner = priv->uid;
        if ((status = local_spool_create(path, priv, dsn, why)) != 0)
            goto prefix;
        if ((lock = mbox_dotlock(path, var_deliver_lock_attempts, var_deliver_lock_delay,
                                  var_stale_lock_time)) == NULL) {
            status = mbox_fail(dsn, why, errno, "unable to create lock file %s.lock: %s",
                                     path);
            goto prefix;
        }
    }
    status = local_euid_run(st, priv, local_mbox_write, &m, dsn, why);
    if (lock) {
        unlink(lock);
        mem_free(lock);
    }
prefix:
    if (status != DELIVER_SENT) {
        char   *text = mem_strdup(STR(why));

        if (kind == 0)
            vstring_sprintf(why, "cannot append message to file %s: %s", path, text);
        else
            vstring_sprintf(why, "cannot update mailbox %s for user %s. %s", path,
                            priv->name, text);
        mem_free(text);
    }
    return status;
}

/* ---- Maildir ------------------------------------------------------------ */

typedef struct MAILDIR_CTX {
    LOCAL_STATE *st;
    const char *dir;
    const char *delivered;
    int     flags;
} MAILDIR_CTX;

static int
local_maildir_write(void *ctx, VSTRING *dsn, VSTRING *why)
{
    MAILDIR_CTX *m = ctx;

    return maildir_deliver(m->st->req, m->dir, m->flags, local_orig_rcpt(m->st), m->delivered,
                           dsn, why);
}

int
local_maildir_deliver(LOCAL_STATE *st, const LOCAL_PRIV *priv, const char *dir,
                      const char *delivered, int flags, VSTRING *dsn, VSTRING *why)
{
    MAILDIR_CTX m = {st, dir, delivered, flags};
    int     status;

    if (st->req->trace_flags & DELIVER_TRACE_VERIFY)
        return DELIVER_SENT;            /* sendmail -bv: report only */
    status = local_euid_run(st, priv, local_maildir_write, &m, dsn, why);
    if (status != DELIVER_SENT) {
        char   *text = mem_strdup(STR(why));

        vstring_sprintf(why, "maildir delivery failed: %s", text);
        mem_free(text);
    }
    return status;
}
