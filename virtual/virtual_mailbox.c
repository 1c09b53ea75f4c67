/*
 * virtual_mailbox.c - one recipient's mailbox write for virtual(8).
 *
 * Interface (virtual.h): virtual_mailbox() switches the effective ids
 * to the mapped uid/gid (priv_set_euid; real and saved uid stay root so
 * the user cannot signal the agent), writes, and switches back. A
 * Maildir (path ending in '/') is written by maildir_deliver() (tmp/,
 * one fsync, rename into new/; lib/global/mbox.c); an mbox file is
 * opened with O_APPEND|O_NOFOLLOW (created 0600 when missing), locked
 * as virtual_mailbox_lock says (fcntl, flock, dotlock; the dot lock is
 * <file>.lock, made as the user, so the mailbox directory must be
 * writable by the user as with Postfix), and appended by
 * mbox_append_fd(). virtual_mailbox_limit is RLIMIT_FSIZE (set once in
 * virtual.c): a write beyond it bounces, "mailbox ... exceeds size
 * limit". Headers as Postfix's virtual writes them: Return-Path:,
 * X-Original-To:, Delivered-To: (the recipient), and for mbox the
 * "From " line, ">From " quoting and the final empty line.
 *
 * SECURITY: an mbox must be a regular file with one link owned by the
 * recipient's uid; nothing is opened or created as root (the ids are
 * switched before the first path operation). virtual_mailbox_base and
 * the table values are the administrator's; the recipient address is
 * only a table key.
 *
 * DIAGNOSTICS: a failure to switch ids or to regain root is fatal (the
 * process would otherwise keep the wrong ids); other failures are the
 * recipient's result.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "mbox.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "virtual.h"

int
virtual_lock_parse(const char *text)
{
    ARGV   *list = argv_split_list(text);
    int     styles = 0;

    for (size_t i = 0; i < list->argc && styles >= 0; i++) {
        if (strcasecmp(list->argv[i], "fcntl") == 0)
            styles |= VIRTUAL_LOCK_FCNTL;
        else if (strcasecmp(list->argv[i], "flock") == 0)
            styles |= VIRTUAL_LOCK_FLOCK;
        else if (strcasecmp(list->argv[i], "dotlock") == 0)
            styles |= VIRTUAL_LOCK_DOTLOCK;
        else
            styles = -1;
    }
    argv_free(list);
    return styles;
}

/* Open the mbox as the user; -1 with errno (EPERM: not a safe file). */
static int
virtual_mbox_open(const char *path, uid_t uid)
{
    int     fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK,
                      0600);
    struct stat st;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != uid) {
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

/* The kernel locks virtual_mailbox_lock asks for: 0, or -1 with errno. */
static int
virtual_mbox_lock(int fd)
{
    if ((virtual_lock_styles & VIRTUAL_LOCK_FCNTL)
        && mbox_fcntl_lock(fd, var_deliver_lock_attempts, var_deliver_lock_delay) < 0)
        return -1;
    if ((virtual_lock_styles & VIRTUAL_LOCK_FLOCK)
        && mbox_flock(fd, var_deliver_lock_attempts, var_deliver_lock_delay) < 0)
        return -1;
    return 0;
}

static int
virtual_mbox(DELIVER_REQUEST *req, int i, const char *path, uid_t uid, VSTRING *dsn,
             VSTRING *why)
{
    const DELIVER_RCPT *r = &req->rcpt[i];
    const char *orig = (r->orig_rcpt && *r->orig_rcpt) ? r->orig_rcpt : r->address;
    char   *lock = NULL;
    int     fd, status;

    if ((virtual_lock_styles & VIRTUAL_LOCK_DOTLOCK)
        && (lock = mbox_dotlock(path, var_deliver_lock_attempts, var_deliver_lock_delay,
                                var_stale_lock_time)) == NULL)
        return mbox_fail(dsn, why, errno, "unable to create lock file %s.lock: %s", path);
    if ((fd = virtual_mbox_open(path, uid)) < 0) {
        status = mbox_fail(dsn, why, errno, errno == EPERM ?
                           "file %s is not a regular file with one link owned by the "
                           "recipient (%s)" : "cannot open file %s: %s", path);
    } else if (virtual_mbox_lock(fd) < 0) {
        status = mbox_fail(dsn, why, errno, "unable to lock %s: %s", path);
        close(fd);
    } else {
        status = mbox_append_fd(req, fd, 1, MBOX_COPY_MBOX, orig, r->address, dsn, why);
        close(fd);
    }
    if (lock) {
        unlink(lock);
        mem_free(lock);
    }
    return status;
}

/* Prefix the reason of a failed delivery; EFBIG is the size limit. */
static void
virtual_fail_text(const char *path, int maildir, VSTRING *dsn, VSTRING *why)
{
    char   *text = mem_strdup(STR(why));

    if (strstr(text, strerror(EFBIG)) != NULL) {
        vstring_strcpy(dsn, "5.2.2");
        vstring_sprintf(why, "%s %s exceeds size limit", maildir ? "maildir file in" : "mailbox",
                        path);
    } else if (maildir) {
        vstring_sprintf(why, "maildir delivery failed: %s", text);
    } else {
        vstring_sprintf(why, "cannot update mailbox %s. %s", path, text);
    }
    mem_free(text);
}

int
virtual_mailbox(DELIVER_REQUEST *req, int i, const char *path, uid_t uid, gid_t gid,
                VSTRING *dsn, VSTRING *why)
{
    const DELIVER_RCPT *r = &req->rcpt[i];
    const char *orig = (r->orig_rcpt && *r->orig_rcpt) ? r->orig_rcpt : r->address;
    size_t  len = strlen(path);
    int     maildir = len > 0 && path[len - 1] == '/';
    int     status;

    if (req->trace_flags & DELIVER_TRACE_VERIFY) {
        vstring_sprintf(why, "delivers to %s", maildir ? "maildir" : "mailbox");
        return DELIVER_SENT;
    }
    if (priv_set_euid(uid, gid) < 0)
        msg_fatal("cannot switch to uid %ld gid %ld: %m", (long) uid, (long) gid);
    if (maildir)
        status = maildir_deliver(req, path, MBOX_COPY_MAILDIR, orig, r->address, dsn, why);
    else
        status = virtual_mbox(req, i, path, uid, dsn, why);
    if (priv_restore_root() < 0)
        msg_fatal("cannot restore root privileges: %m");
    if (status == DELIVER_SENT) {
        vstring_strcpy(dsn, "2.0.0");
        vstring_sprintf(why, "delivered to %s", maildir ? "maildir" : "mailbox");
    } else {
        virtual_fail_text(path, maildir, dsn, why);
        if (STR(dsn)[0] == '5')
            status = DELIVER_BOUNCE;
    }
    return status;
}
