/*
 * local_mbox.c - writing a message to a mailbox file or a Maildir.
 *
 * Interface (local.h):
 *   local_copy_message()  the message as delivered: optional
 *       "From sender date" line, Return-Path:, X-Original-To:,
 *       Delivered-To:, the content with ">From " quoting of lines that
 *       start with "From ", and an empty line at the end (mbox).
 *   local_mbox_deliver()  append to an mbox file: the spool mailbox
 *       (created by root with O_EXCL|O_NOFOLLOW, owned by the user),
 *       the home mailbox, or a /file from an alias or .forward; dot lock
 *       (<file>.lock, stale after stale_lock_time) and fcntl lock; on any
 *       write error the file is truncated back to its old size.
 *   local_maildir_deliver()  tmp/ file, fsync, rename into new/; the
 *       Maildir directories are made only when one turns out missing.
 *   local_maildir_name(), local_from_line()  the names and lines above;
 *   local_quote_sender() the sender in the From line and Return-Path:,
 *       quoted as RFC 5322 wants (a hostile sender "a b"@x cannot pass
 *       for a different From line or header).
 *
 * SECURITY: the writes happen in the delivery child, as the recipient
 * (local_child.c). Files are opened with O_NOFOLLOW and must be regular
 * files with a single link (/dev/null excepted); a spool mailbox must be
 * owned by the recipient. Only the spool mailbox creation and its dot
 * lock are done as root, in a directory root controls.
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
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "local.h"
#include "mem.h"
#include "msg.h"

/* ---- message copy ------------------------------------------------------- */

/*
 * The sender as it appears in the From line and Return-Path:: the local
 * part quoted when RFC 5322 needs it (address_quote, as Postfix's
 * quote_822_local), and any control character replaced by '?' so no
 * sender can end the line early (SMTP and sendmail refuse them anyway).
 */
void
local_quote_sender(VSTRING *out, const char *sender)
{
    address_quote(out, sender);
    for (char *p = STR(out); *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            *p = '?';
}

void
local_from_line(VSTRING *out, const char *sender, time_t t)
{
    VSTRING *quoted = vstring_alloc(ADDRESS_MAX * 2 + 3);
    char    date[64];
    struct tm tm;

    localtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
    local_quote_sender(quoted, sender);
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
local_copy_line(const char *data, size_t len, int is_eol, void *ctx)
{
    COPY_CTX *c = ctx;

    if (c->bol && (c->flags & LOCAL_COPY_QUOTE) && len >= 5 && memcmp(data, "From ", 5) == 0)
        stream_putc(c->out, '>');
    stream_write(c->out, data, len);
    if (is_eol)
        stream_putc(c->out, '\n');
    c->bol = is_eol;
    return stream_error(c->out) ? 1 : 0;
}

int
local_copy_message(DELIVER_REQUEST *req, STREAM *out, int flags,
                   const char *orig_rcpt, const char *delivered)
{
    VSTRING *line = vstring_alloc(4096);
    COPY_CTX c = {out, flags, 1};

    if (flags & LOCAL_COPY_FROM) {
        local_from_line(line, req->sender, time(NULL));
        stream_puts(out, STR(line));
    }
    if (flags & LOCAL_COPY_RETURN_PATH) {
        local_quote_sender(line, req->sender);
        stream_printf(out, "Return-Path: <%s>\n", STR(line));
    }
    if ((flags & LOCAL_COPY_ORIG_RCPT) && orig_rcpt && *orig_rcpt)
        stream_printf(out, "X-Original-To: %s\n", orig_rcpt);
    if ((flags & LOCAL_COPY_DELIVERED) && delivered && *delivered)
        stream_printf(out, "Delivered-To: %s\n", delivered);
    vstring_free(line);
    if (deliver_read_content(req, local_copy_line, &c) < 0)
        return LOCAL_COPY_READ_ERROR;
    if (!c.bol)
        stream_putc(out, '\n');
    if (flags & LOCAL_COPY_BLANK)
        stream_putc(out, '\n');
    if (stream_flush(out) < 0 || stream_error(out))
        return stream_errno(out) ? stream_errno(out) : EIO;
    return 0;
}

/* ---- errors ------------------------------------------------------------- */

/* DSN and status for a write error: a full mailbox bounces, the rest waits. */
const char *
local_errno_dsn(int err, int *status)
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

/* ---- locking ------------------------------------------------------------ */

/* Create path.lock with O_EXCL; break it when older than stale_lock_time.
 * Returns the allocated lock path, or NULL with errno. */
static char *
local_dotlock(const char *path)
{
    char   *lock = mem_printf("%s.lock", path);
    long    attempts = var_deliver_lock_attempts;
    long    delay = var_deliver_lock_delay;
    long    stale = var_stale_lock_time;
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

static int
local_fcntl_lock(int fd)
{
    long    attempts = var_deliver_lock_attempts;
    long    delay = var_deliver_lock_delay;
    struct flock fl;
    long    i;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    for (i = 0; i < attempts; i++) {
        if (fcntl(fd, F_SETLK, &fl) == 0)
            return 0;
        if (errno != EACCES && errno != EAGAIN)
            return -1;
        if (i + 1 < attempts)
            sleep((unsigned) delay);
    }
    errno = EAGAIN;
    return -1;
}

/* ---- mbox --------------------------------------------------------------- */

typedef struct MBOX_CTX {
    LOCAL_STATE *st;
    const char *path;
    const char *delivered;
    uid_t   owner;              /* required owner (spool), or -1 */
    int     kind;               /* 0 file, 1 spool mailbox, 2 home mailbox */
    int     flags;
} MBOX_CTX;

static int
local_mbox_fail(VSTRING *dsn, VSTRING *why, int err, const char *fmt, const char *arg)
{
    int     status;

    vstring_strcpy(dsn, local_errno_dsn(err, &status));
    vstring_sprintf(why, fmt, arg, strerror(err));
    return status;
}

/* The message into fd, through a stream that leaves fd open; 0 or as
 * local_copy_message(). */
static int
local_copy_fd(LOCAL_STATE *st, int fd, int flags, const char *delivered)
{
    STREAM *out = stream_fdopen(fd);
    int     err = local_copy_message(st->req, out, flags, local_orig_rcpt(st), delivered);

    stream_free_keep_fd(out);
    return err;
}

/* A failed copy: a queue file read error defers, a write error as errno. */
static int
local_copy_fail(VSTRING *dsn, VSTRING *why, int err, const char *fmt, const char *arg)
{
    if (err == LOCAL_COPY_READ_ERROR) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_strcpy(why, "queue file read error");
        return DELIVER_DEFER;
    }
    return local_mbox_fail(dsn, why, err, fmt, arg);
}

/* Open and check the file; -1 with errno (EPERM: not a safe target). */
static int
local_mbox_open(const MBOX_CTX *m, struct stat *st)
{
    int     fd, oflags = O_WRONLY | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;

    fd = open(m->path, oflags);
    if (fd < 0 && errno == ENOENT && m->kind != 1)
        fd = open(m->path, oflags | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0)
        goto bad;
    if (S_ISCHR(st->st_mode) && strcmp(m->path, "/dev/null") == 0)
        return fd;
    if (!S_ISREG(st->st_mode) || st->st_nlink != 1
        || (m->owner != (uid_t) -1 && st->st_uid != m->owner)) {
        errno = EPERM;
        goto bad;
    }
    return fd;
bad:
    close(fd);
    return -1;
}

static int
local_mbox_child(void *ctx, VSTRING *dsn, VSTRING *why)
{
    MBOX_CTX *m = ctx;
    struct stat st;
    char   *lock = NULL;
    int     fd, status, err;
    off_t   size;

    if (m->kind == 2 && (lock = local_dotlock(m->path)) == NULL)
        return local_mbox_fail(dsn, why, errno, "unable to create lock file %s.lock: %s", m->path);
    if ((fd = local_mbox_open(m, &st)) < 0) {
        status = local_mbox_fail(dsn, why, errno, errno == EPERM ?
                 "file %s is not a regular file with one link owned by the recipient (%s)"
                                 : "cannot open file %s: %s", m->path);
        goto done;
    }
    if (S_ISREG(st.st_mode) && local_fcntl_lock(fd) < 0) {
        status = local_mbox_fail(dsn, why, errno, "unable to lock %s: %s", m->path);
        close(fd);
        goto done;
    }
    size = lseek(fd, 0, SEEK_END);
    err = local_copy_fd(m->st, fd, m->flags, m->delivered);
    if (err == 0 && S_ISREG(st.st_mode) && fsync(fd) < 0)
        err = errno;
    if (err != 0) {
        if (S_ISREG(st.st_mode) && ftruncate(fd, size) < 0)
            msg_warn("cannot truncate %s back to %ld bytes", m->path, (long) size);
        status = local_copy_fail(dsn, why, err, "%.0serror writing message: %s", m->path);
    } else {
        status = DELIVER_SENT;
    }
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
        return local_mbox_fail(dsn, why, errno, "cannot access mailbox %s: %s", path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY, 0600);
    if (fd < 0 && errno != EEXIST)
        return local_mbox_fail(dsn, why, errno, "cannot create mailbox %s: %s", path);
    if (fd >= 0) {
        if (fchown(fd, priv->uid, priv->gid) < 0) {
            int     err = errno;

            close(fd);
            unlink(path);
            return local_mbox_fail(dsn, why, err, "cannot set owner of mailbox %s: %s", path);
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
        if ((lock = local_dotlock(path)) == NULL) {
            status = local_mbox_fail(dsn, why, errno, "unable to create lock file %s.lock: %s",
                                     path);
            goto prefix;
        }
    }
    status = local_child_run(st, priv, local_mbox_child, &m, dsn, why);
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

void
local_maildir_name(VSTRING *out, long sec, long usec, long pid, unsigned count,
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

typedef struct MAILDIR_CTX {
    LOCAL_STATE *st;
    const char *dir;
    const char *delivered;
    const char *host;
    int     flags;
    unsigned count;
} MAILDIR_CTX;

/* Create dir and its tmp, new and cur; 0, or -1 with errno and the failing
 * directory in path. Called only when a file operation found one missing. */
static int
local_maildir_mkdirs(const char *dir, VSTRING *path)
{
    const char *sub[] = {"", "tmp", "new", "cur"};
    int     i;

    for (i = 0; i < 4; i++) {
        vstring_sprintf(path, "%s/%s", dir, sub[i]);
        if (mkdir(STR(path), 0700) < 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

/* rename() into new/, creating the Maildir directories when missing. */
static int
local_maildir_rename(const char *dir, const char *from, const char *to)
{
    VSTRING *path;
    int     ret;

    if ((ret = rename(from, to)) == 0 || errno != ENOENT)
        return ret;
    path = vstring_alloc(256);
    if ((ret = local_maildir_mkdirs(dir, path)) == 0)
        ret = rename(from, to);
    vstring_free(path);
    return ret;
}

static int
local_maildir_child(void *ctx, VSTRING *dsn, VSTRING *why)
{
    MAILDIR_CTX *m = ctx;
    struct timeval tv;
    VSTRING *name = vstring_alloc(1024), *tmp = vstring_alloc(4096), *new = vstring_alloc(4096);
    int     fd, err, status = DELIVER_SENT;

    gettimeofday(&tv, NULL);
    local_maildir_name(name, (long) tv.tv_sec, (long) tv.tv_usec, (long) getpid(), m->count,
                       m->host);
    vstring_sprintf(tmp, "%s/tmp/%s", m->dir, STR(name));
    vstring_sprintf(new, "%s/new/%s", m->dir, STR(name));
    fd = open(STR(tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT) {            /* first delivery: no Maildir yet */
        if (local_maildir_mkdirs(m->dir, new) < 0) {
            status = local_mbox_fail(dsn, why, errno, "create maildir directory %s: %s",
                                     STR(new));
            goto done;
        }
        vstring_sprintf(new, "%s/new/%s", m->dir, STR(name));
        fd = open(STR(tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    }
    if (fd < 0) {
        status = local_mbox_fail(dsn, why, errno, "create maildir file %s: %s", STR(tmp));
        goto done;
    }
    err = local_copy_fd(m->st, fd, m->flags, m->delivered);
    if (err == 0 && fsync(fd) < 0)
        err = errno;
    if (close(fd) < 0 && err == 0)
        err = errno;
    if (err == 0 && local_maildir_rename(m->dir, STR(tmp), STR(new)) < 0)
        err = errno ? errno : EIO;
    if (err != 0) {
        status = local_copy_fail(dsn, why, err, "error writing message to maildir file %s: %s",
                                 STR(tmp));
        unlink(STR(tmp));
    }
done:
    vstring_free(name);
    vstring_free(tmp);
    vstring_free(new);
    return status;
}

int
local_maildir_deliver(LOCAL_STATE *st, const LOCAL_PRIV *priv, const char *dir,
                      const char *delivered, int flags, VSTRING *dsn, VSTRING *why)
{
    static unsigned count;
    static char host[256];
    char   *path = mem_strdup(dir);
    size_t  n = strlen(path);
    MAILDIR_CTX m;
    int     status;

    if (st->req->trace_flags & DELIVER_TRACE_VERIFY) {
        mem_free(path);
        return DELIVER_SENT;            /* sendmail -bv: report only */
    }
    while (n > 1 && path[n - 1] == '/')
        path[--n] = 0;
    m.st = st;
    m.dir = path;
    m.delivered = delivered;
    if (*host == 0 && (gethostname(host, sizeof(host)) < 0 || *host == 0))
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    m.host = host;
    m.flags = flags;
    m.count = ++count;
    status = local_child_run(st, priv, local_maildir_child, &m, dsn, why);
    if (status != DELIVER_SENT) {
        char   *text = mem_strdup(STR(why));

        vstring_sprintf(why, "maildir delivery failed: %s", text);
        mem_free(text);
    }
    mem_free(path);
    return status;
}

