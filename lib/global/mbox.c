/*
 * mbox.c - writing one message into an mbox file or a Maildir (see
 * mbox.h), shared by local(8) and virtual(8).
 *
 * SECURITY: runs with the recipient's ids (the callers' business);
 * O_NOFOLLOW on every open, O_EXCL for lock and named Maildir tmp files
 * (an unnamed one is new by definition, and linkat() never replaces). The
 * sender is quoted and stripped of control characters so that a hostile
 * sender cannot forge a From line or a header.
 *
 * DIAGNOSTICS: a stale lock file is a warning (and removed); a mailbox
 * that cannot be truncated back after a failed write is a warning.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "fd_link.h"
#include "mbox.h"
#include "mem.h"
#include "msg.h"
#include "mypid.h"

/* ---- message copy ------------------------------------------------------- */

/*
 * The sender as it appears in the From line and Return-Path:: the local
 * part quoted when RFC 5322 needs it (address_quote, as Postfix's
 * quote_822_local), and any control character replaced by '?' so no
 * sender can end the line early (SMTP and sendmail refuse them anyway).
 */
void
mbox_quote_sender(VSTRING *out, const char *sender)
{
    address_quote(out, sender);
    for (char *p = STR(out); *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            *p = '?';
}

void
mbox_from_line(VSTRING *out, const char *sender, time_t t)
{
    VSTRING *quoted = vstring_alloc(ADDRESS_MAX * 2 + 3);
    char    date[64];
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
    mbox_quote_sender(quoted, sender);
    /* two spaces before the date, as Postfix writes it */
    vstring_sprintf(out, "From %s  %s\n", *sender ? STR(quoted) : "MAILER-DAEMON", date);
    vstring_free(quoted);
}

typedef struct COPY_CTX {
    STREAM *out;
    int     flags;
    int     bol;
} COPY_CTX;

static int
mbox_copy_line(const char *data, size_t len, int is_eol, void *ctx)
{
    COPY_CTX *c = ctx;

    if (c->bol && (c->flags & MBOX_COPY_QUOTE) && len >= 5 && memcmp(data, "From ", 5) == 0)
        stream_putc(c->out, '>');
    stream_write(c->out, data, len);
    if (is_eol)
        stream_putc(c->out, '\n');
    c->bol = is_eol;
    return stream_error(c->out) ? 1 : 0;
}

int
mbox_copy_message(DELIVER_REQUEST *req, STREAM *out, int flags,
                   const char *orig_rcpt, const char *delivered)
{
    VSTRING *line = vstring_alloc(4096);
    COPY_CTX c = {out, flags, 1};

    if (flags & MBOX_COPY_FROM) {
        mbox_from_line(line, req->sender, time(NULL));
        stream_puts(out, STR(line));
    }
    if (flags & MBOX_COPY_RETURN_PATH) {
        mbox_quote_sender(line, req->sender);
        stream_printf(out, "Return-Path: <%s>\n", STR(line));
    }
    if ((flags & MBOX_COPY_ORIG_RCPT) && orig_rcpt && *orig_rcpt)
        stream_printf(out, "X-Original-To: %s\n", orig_rcpt);
    if ((flags & MBOX_COPY_DELIVERED) && delivered && *delivered)
        stream_printf(out, "Delivered-To: %s\n", delivered);
    vstring_free(line);
    if (deliver_read_content(req, mbox_copy_line, &c) < 0)
        return MBOX_COPY_READ_ERROR;
    if (!c.bol)
        stream_putc(out, '\n');
    if (flags & MBOX_COPY_BLANK)
        stream_putc(out, '\n');
    if (stream_flush(out) < 0 || stream_error(out))
        return stream_errno(out) ? stream_errno(out) : EIO;
    return 0;
}

/* ---- errors ------------------------------------------------------------- */

/* DSN and status for a write error: a full mailbox bounces, the rest waits. */
const char *
mbox_errno_dsn(int err, int *status)
{
    switch (err) {
    case EFBIG:
    case EDQUOT:
        *status = DELIVER_BOUNCE;
        return "5.2.2";
    case ENOSPC:
        *status = DELIVER_DEFER;
        return "4.3.0";
    default:
        *status = DELIVER_DEFER;
        return "4.2.0";
    }
}

int
mbox_fail(VSTRING *dsn, VSTRING *why, int err, const char *fmt, const char *arg)
{
    int     status;

    vstring_strcpy(dsn, mbox_errno_dsn(err, &status));
    vstring_sprintf(why, fmt, arg, strerror(err));
    return status;
}

/* A failed copy: a queue file read error defers, a write error as errno. */
int
mbox_copy_fail(VSTRING *dsn, VSTRING *why, int err, const char *fmt, const char *arg)
{
    if (err == MBOX_COPY_READ_ERROR) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_strcpy(why, "queue file read error");
        return DELIVER_DEFER;
    }
    return mbox_fail(dsn, why, err, fmt, arg);
}

/* The message into fd (a file: opened by path), through a stream that
 * leaves fd open. */
static int
mbox_copy_fd(DELIVER_REQUEST *req, int fd, int flags, const char *orig_rcpt,
             const char *delivered)
{
    STREAM *out = stream_fdopen_file(fd);
    int     err = mbox_copy_message(req, out, flags, orig_rcpt, delivered);

    stream_free_keep_fd(out);
    return err;
}

/* ---- locking ------------------------------------------------------------ */

/* Create path.lock with O_EXCL; break it when older than stale_lock_time.
 * Returns the allocated lock path, or NULL with errno. */
char *
mbox_dotlock(const char *path, long attempts, long delay, long stale)
{
    char   *lock = mem_printf("%s.lock", path);
    struct stat st;
    long    i;
    int     fd;

    for (i = 0; i < attempts; i++) {
        if ((fd = open(lock, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600)) >= 0) {
            close(fd);
            return lock;
        }
        if (errno != EEXIST)
            break;
        if (lstat(lock, &st) == 0 && time(NULL) > st.st_mtime + stale) {
            msg_warn("%s: removing stale lock file", lock);
            unlink(lock);
            continue;
        }
        if (i + 1 < attempts)
            sleep((unsigned) delay);
    }
    if (errno == 0 || errno == EEXIST)
        errno = EAGAIN;
    mem_free(lock);
    return NULL;
}

/* One non-blocking try: 1 locked, 0 busy, -1 error. */
static int
mbox_try_fcntl(int fd)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) == 0)
        return 1;
    return (errno == EACCES || errno == EAGAIN) ? 0 : -1;
}

static int
mbox_try_flock(int fd)
{
    if (flock(fd, LOCK_EX | LOCK_NB) == 0)
        return 1;
    return errno == EWOULDBLOCK ? 0 : -1;
}

/* attempts tries, delay seconds apart: 0, or -1 (EAGAIN: still busy). */
static int
mbox_lock_retry(int fd, long attempts, long delay, int (*try_lock)(int))
{
    int     rc;

    for (long i = 0; i < attempts; i++) {
        if ((rc = try_lock(fd)) != 0)
            return rc > 0 ? 0 : -1;
        if (i + 1 < attempts)
            sleep((unsigned) delay);
    }
    errno = EAGAIN;
    return -1;
}

int
mbox_fcntl_lock(int fd, long attempts, long delay)
{
    return mbox_lock_retry(fd, attempts, delay, mbox_try_fcntl);
}

int
mbox_flock(int fd, long attempts, long delay)
{
    return mbox_lock_retry(fd, attempts, delay, mbox_try_flock);
}

/* ---- mbox --------------------------------------------------------------- */

int
mbox_append_fd(DELIVER_REQUEST *req, int fd, int regular, int flags,
               const char *orig_rcpt, const char *delivered, VSTRING *dsn, VSTRING *why)
{
    off_t   size = lseek(fd, 0, SEEK_END);
    int     err = mbox_copy_fd(req, fd, flags, orig_rcpt, delivered);

    if (err == 0 && regular && fsync(fd) < 0)
        err = errno;
    if (err == 0)
        return DELIVER_SENT;
    if (regular && ftruncate(fd, size) < 0)
        msg_warn("cannot truncate mailbox back to %ld bytes", (long) size);
    return mbox_copy_fail(dsn, why, err, "%.0serror writing message: %s", "");
}

/* ---- Maildir ------------------------------------------------------------ */

void
maildir_name(VSTRING *out, long sec, long usec, long pid, unsigned count,
                   const char *host)
{
    vstring_sprintf(out, "%ld.M%ldP%ldQ%u.", sec, usec, pid, count);
    for (; *host; host++) {
        if (*host == '/')
            vstring_cat(out, "\\057");
        else if (*host == ':')
            vstring_cat(out, "\\072");
        else
            vstring_addch(out, *host);
    }
}


/* Create dir's missing parents, mode 0700 (as Postfix's virtual does for
 * "domain/user/" under virtual_mailbox_base); 0 or -1 with errno. */
static int
maildir_mkparents(const char *dir, VSTRING *path)
{
    vstring_strcpy(path, dir);
    for (char *p = STR(path) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(STR(path), 0700) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

/* Create dir (and its missing parents) and its tmp, new and cur; 0, or -1
 * with errno and the failing directory in path. Called only when a file
 * operation found one missing. The caller runs with the recipient's ids. */
static int
maildir_mkdirs(const char *dir, VSTRING *path)
{
    const char *sub[] = {"", "tmp", "new", "cur"};
    int     i;

    if (maildir_mkparents(dir, path) < 0)
        return -1;
    for (i = 0; i < 4; i++) {
        vstring_sprintf(path, "%s/%s", dir, sub[i]);
        if (mkdir(STR(path), 0700) < 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

/* rename() into new/, creating the Maildir directories when missing. */
static int
maildir_rename(const char *dir, const char *from, const char *to)
{
    VSTRING *path;
    int     ret;

    if ((ret = rename(from, to)) == 0 || errno != ENOENT)
        return ret;
    path = vstring_alloc(256);
    if ((ret = maildir_mkdirs(dir, path)) == 0)
        ret = rename(from, to);
    vstring_free(path);
    return ret;
}

/*
 * Open path with flags -- a new tmp/ file, or tmp/ itself with O_TMPFILE --
 * making the Maildir when it is missing: fd, or -1 with errno, and dsn
 * and why set (naming the tmp/ file tmp, as Postfix's text does).
 */
static int
maildir_create(const char *dir, const char *path, int flags, const char *tmp,
               VSTRING *scratch, VSTRING *dsn, VSTRING *why)
{
    int     fd = open(path, flags, 0600);
    int     err;

    if (fd < 0 && errno == ENOENT) {            /* first delivery: no Maildir yet */
        if (maildir_mkdirs(dir, scratch) < 0) {
            err = errno;
            mbox_fail(dsn, why, err, "create maildir directory %s: %s", STR(scratch));
            errno = err;
            return -1;
        }
        fd = open(path, flags, 0600);
    }
    if (fd < 0) {
        err = errno;
        mbox_fail(dsn, why, err, "create maildir file %s: %s", tmp);
        errno = err;
    }
    return fd;
}

/*
 * How this process gives an unnamed Maildir file its name in new/
 * (fd_link.h); FD_LINK_NONE: no O_TMPFILE or no way to link an open file
 * here, so a named file in tmp/ renamed into new/, as Postfix does.
 */
static FD_LINK_HOW maildir_link_how = FD_LINK_EMPTY_PATH;

/*
 * The message into an unnamed file in dir/tmp (O_TMPFILE), synced, then
 * linked to new (its final name): a delivery status, or -1 when this file
 * system or kernel cannot do that (maildir_link_how is then FD_LINK_NONE;
 * nothing was delivered). No name is made before the data is on disk, so
 * a crash or a failed write leaves nothing behind in tmp/, and the
 * directory tmp/ is neither locked nor written (on ext4 without a journal
 * the fsync of a new name also writes its directory). Errors name the
 * tmp/ file the named way would have used (tmp), as that way's do.
 */
static int
maildir_deliver_unnamed(DELIVER_REQUEST *req, const char *dir, const char *tmp, const char *new,
                        int flags, const char *orig_rcpt, const char *delivered,
                        VSTRING *scratch, VSTRING *dsn, VSTRING *why)
{
    char   *tmpdir = mem_printf("%s/tmp", dir);
    int     fd, err;

    fd = maildir_create(dir, tmpdir, O_TMPFILE | O_WRONLY | O_CLOEXEC, tmp, scratch, dsn, why);
    mem_free(tmpdir);
    if (fd < 0) {
        if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
            maildir_link_how = FD_LINK_NONE;    /* not here: the named way */
            vstring_strcpy(dsn, "");
            vstring_strcpy(why, "");
            return -1;
        }
        return *STR(dsn) == '5' ? DELIVER_BOUNCE : DELIVER_DEFER;
    }
    err = mbox_copy_fd(req, fd, flags, orig_rcpt, delivered);
    if (err == 0 && fsync(fd) < 0)              /* the one fsync per message */
        err = errno;
    if (err == 0 && fd_link(fd, new, &maildir_link_how) < 0) {
        if (errno == ENOENT && maildir_mkdirs(dir, scratch) == 0
            && fd_link(fd, new, &maildir_link_how) == 0)
            errno = 0;                          /* new/ was removed meanwhile */
        err = errno;
        if (err == EOPNOTSUPP) {                /* this kernel cannot link it */
            (void) close(fd);
            return -1;
        }
    }
    (void) close(fd);                           /* synced: close reports nothing new */
    if (err != 0)
        return mbox_copy_fail(dsn, why, err, "error writing message to maildir file %s: %s", tmp);
    return DELIVER_SENT;
}

int
maildir_deliver(DELIVER_REQUEST *req, const char *dir, int flags, const char *orig_rcpt,
                const char *delivered, VSTRING *dsn, VSTRING *why)
{
    static unsigned count;
    static char host[256];
    char   *path = mem_strdup(dir);
    size_t  n = strlen(path);
    struct timeval tv;
    VSTRING *name = vstring_alloc(1024), *tmp = vstring_alloc(4096), *new = vstring_alloc(4096);
    int     fd, err, status = DELIVER_SENT;

    while (n > 1 && path[n - 1] == '/')
        path[--n] = 0;
    if (*host == 0 && (gethostname(host, sizeof(host)) < 0 || *host == 0))
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    gettimeofday(&tv, NULL);
    maildir_name(name, (long) tv.tv_sec, (long) tv.tv_usec, (long) my_pid(), ++count, host);
    vstring_sprintf(tmp, "%s/tmp/%s", path, STR(name));
    vstring_sprintf(new, "%s/new/%s", path, STR(name));
    if (maildir_link_how != FD_LINK_NONE
        && (status = maildir_deliver_unnamed(req, path, STR(tmp), STR(new), flags, orig_rcpt,
                                             delivered, name, dsn, why)) >= 0)
        goto done;
    status = DELIVER_SENT;
    if ((fd = maildir_create(path, STR(tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                             STR(tmp), name, dsn, why)) < 0) {
        status = DELIVER_DEFER;
        if (*STR(dsn) == '5')
            status = DELIVER_BOUNCE;
        goto done;
    }
    err = mbox_copy_fd(req, fd, flags, orig_rcpt, delivered);
    if (err == 0 && fsync(fd) < 0)              /* the one fsync per message */
        err = errno;
    if (close(fd) < 0 && err == 0)
        err = errno;
    if (err == 0 && maildir_rename(path, STR(tmp), STR(new)) < 0)
        err = errno ? errno : EIO;
    if (err != 0) {
        status = mbox_copy_fail(dsn, why, err, "error writing message to maildir file %s: %s",
                                STR(tmp));
        unlink(STR(tmp));
    }
done:
    mem_free(path);
    vstring_free(name);
    vstring_free(tmp);
    vstring_free(new);
    return status;
}
