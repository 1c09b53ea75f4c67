/*
 * file_limit.h - cap the size of the files this process writes.
 *
 *   file_limit_cap(limit)
 *       lower RLIMIT_FSIZE (soft and hard) to limit bytes when it is
 *       higher (limit <= 0: leave it), and ignore SIGXFSZ, so that a
 *       write past the limit fails with EFBIG ("File too large") instead
 *       of killing the process. sendmail and postdrop cap the maildrop
 *       file at $message_size_limit this way, as Postfix does: a
 *       run-away local process cannot fill the queue file system.
 *       0, or -1 when setrlimit() failed (errno set).
 *
 * Children inherit the cap (sendmail's postdrop does).
 *
 * DIAGNOSTICS: none (pure arithmetic on the limit).
 */
#ifndef POSTHORN_FILE_LIMIT_H
#define POSTHORN_FILE_LIMIT_H

int     file_limit_cap(long limit);

#endif
