/*
 * mbox.h - writing one message into an mbox file or a Maildir, shared
 * by the local(8) and virtual(8) delivery agents.
 *
 * mbox_copy_message(req, out, flags, orig_rcpt, delivered): the message
 *     as delivered: optional "From sender date" line, Return-Path:,
 *     X-Original-To:, Delivered-To:, the content with ">From " quoting
 *     of lines that start with "From ", an empty line at the end (mbox).
 * mbox_append_fd(): that copy appended to an open, locked mbox file,
 *     fsync'ed; on any failure the file is truncated back to its old size.
 * mbox_dotlock(), mbox_fcntl_lock(), mbox_flock(): the three lock styles
 *     of Postfix's mailbox_delivery_lock / virtual_mailbox_lock.
 * maildir_deliver(): an unnamed file in tmp/ (O_TMPFILE), one fsync, then
 *     linked into new/; where the file system or kernel cannot (no
 *     O_TMPFILE, no way to link an open file: fd_link.h), a named tmp/
 *     file, one fsync, rename into new/. The Maildir directories are made
 *     only when one turns out missing.
 * mbox_errno_dsn(): the status of a write error (a full mailbox bounces).
 *
 * SECURITY: the caller runs these with the recipient's ids (local: in a
 * child; virtual: with the mapped effective uid/gid). Files are opened
 * with O_NOFOLLOW; lock files with O_EXCL; a Maildir file is new (unnamed,
 * or O_EXCL), and its name in new/ is made by link, which never replaces.
 *
 * DIAGNOSTICS: none fatal; a stale lock file is a warning and removed; a
 * mailbox that cannot be truncated back is a warning. Other failures are
 * the recipient's result (dsn and why), deferred or bounced by errno.
 */
#ifndef POSTHORN_MBOX_H
#define POSTHORN_MBOX_H

#include <time.h>

#include "deliver.h"
#include "stream.h"
#include "vstring.h"

#define MBOX_COPY_FROM          (1 << 0)    /* "From sender date" line */
#define MBOX_COPY_QUOTE         (1 << 1)    /* ">From " quoting */
#define MBOX_COPY_BLANK         (1 << 2)    /* empty line at the end */
#define MBOX_COPY_RETURN_PATH   (1 << 3)
#define MBOX_COPY_ORIG_RCPT     (1 << 4)
#define MBOX_COPY_DELIVERED     (1 << 5)
#define MBOX_COPY_MBOX  (MBOX_COPY_FROM | MBOX_COPY_QUOTE | MBOX_COPY_BLANK \
                         | MBOX_COPY_RETURN_PATH | MBOX_COPY_ORIG_RCPT | MBOX_COPY_DELIVERED)
#define MBOX_COPY_MAILDIR (MBOX_COPY_RETURN_PATH | MBOX_COPY_ORIG_RCPT | MBOX_COPY_DELIVERED)

/* Returns 0, the errno of the first write failure, or
 * MBOX_COPY_READ_ERROR when the queue file cannot be read. */
#define MBOX_COPY_READ_ERROR    (-1)
int     mbox_copy_message(DELIVER_REQUEST *req, STREAM *out, int flags,
                          const char *orig_rcpt, const char *delivered);
/* The sender for the From line and Return-Path: (quoted, no control chars). */
void    mbox_quote_sender(VSTRING *out, const char *sender);
/* mbox "From " line for sender at time t into out. */
void    mbox_from_line(VSTRING *out, const char *sender, time_t t);
const char *mbox_errno_dsn(int err, int *status);
/* dsn/why for errno err; fmt has two %s: arg and strerror(err). */
int     mbox_fail(VSTRING *dsn, VSTRING *why, int err, const char *fmt, const char *arg);
/* Same, but a queue file read error (MBOX_COPY_READ_ERROR) defers. */
int     mbox_copy_fail(VSTRING *dsn, VSTRING *why, int err, const char *fmt, const char *arg);

/* Append to fd (regular file, or /dev/null when !regular): DELIVER_*. */
int     mbox_append_fd(DELIVER_REQUEST *req, int fd, int regular, int flags,
                       const char *orig_rcpt, const char *delivered,
                       VSTRING *dsn, VSTRING *why);

/* Create path.lock (O_EXCL), breaking one older than stale seconds;
 * the allocated lock path, or NULL with errno (EAGAIN: still locked). */
char   *mbox_dotlock(const char *path, long attempts, long delay, long stale);
/* Exclusive lock: 0, or -1 with errno (EAGAIN after the attempts). */
int     mbox_fcntl_lock(int fd, long attempts, long delay);
int     mbox_flock(int fd, long attempts, long delay);

/* Maildir file name "sec.MusecPpidQn.host" (host with '/' and ':' escaped). */
void    maildir_name(VSTRING *out, long sec, long usec, long pid, unsigned count,
                     const char *host);
/* Deliver into Maildir dir (trailing slashes ignored): DELIVER_*. */
int     maildir_deliver(DELIVER_REQUEST *req, const char *dir, int flags,
                        const char *orig_rcpt, const char *delivered,
                        VSTRING *dsn, VSTRING *why);

#endif
