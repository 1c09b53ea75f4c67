/*
 * stream.h - buffered I/O on a file descriptor with time limits.
 *
 * Every read and write that must wait is bounded by the per-operation
 * timeout (poll) and by an optional absolute deadline. A timeout, an I/O
 * error or EOF sets a sticky flag; writes after an error are discarded and
 * stream_flush()/stream_close() report it, so callers may write a whole
 * reply and check once.
 *
 * The I/O functions can be replaced (stream_set_io) so that TLS slots in
 * under the protocol code later without changing it.
 *
 * SECURITY: stream_gets() never stores more than the caller's maximum; a
 * line longer than that is returned in pieces, and the caller sees that a
 * piece did not end in '\n'.
 *
 * DIAGNOSTICS: none; errors and timeouts are sticky flags the caller
 * checks (stream_error(), stream_timeout(), stream_errno()); nothing here
 * logs.
 */
#ifndef POSTHORN_STREAM_H
#define POSTHORN_STREAM_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>
#include "vstring.h"

typedef struct STREAM STREAM;

typedef ssize_t (*STREAM_IO_FN)(void *ctx, int fd, void *buf, size_t len);

#define STREAM_EOF       (-1)

#define STREAM_FLAG_EOF      (1 << 0)
#define STREAM_FLAG_ERR      (1 << 1)
#define STREAM_FLAG_TIMEOUT  (1 << 2)

STREAM *stream_fdopen(int fd);          /* takes ownership of fd */
STREAM *stream_fdopen_file(int fd);     /* the same, fd no socket: write() at once */
STREAM *stream_open(const char *path, int flags, int mode); /* NULL + errno */
int     stream_close(STREAM *s);        /* flush, close fd, free; -1 if any error happened */
void    stream_free_keep_fd(STREAM *s); /* free without closing the fd */
int     stream_fd(const STREAM *s);

void    stream_set_timeout(STREAM *s, int seconds);   /* 0 = wait forever */
void    stream_set_deadline(STREAM *s, time_t when);  /* 0 = none */
void    stream_set_io(STREAM *s, STREAM_IO_FN rd, STREAM_IO_FN wr, void *ctx);
/*
 * A request deadline (Postfix's smtpd_per_request_deadline): from start
 * to stop, all the waiting for this stream's reads and writes together
 * may take at most seconds (time spent elsewhere does not count); then
 * the stream times out. With min_rate > 0 (bytes per second) every read
 * of N bytes adds N/min_rate seconds, never beyond seconds. The
 * per-operation timeout still applies to each wait.
 */
void    stream_deadline_start(STREAM *s, int seconds, long min_rate);
void    stream_deadline_stop(STREAM *s);

/*
 * Wait for the descriptor (POLLIN and/or POLLOUT in events), bounded by the
 * per-operation timeout and the deadline: 1 = ready, 0 = timed out (the
 * TIMEOUT flag is set), -1 = error (ERR flag set). For custom I/O
 * functions (TLS): the stream calls rd/wr directly, without waiting; a
 * function that returns -1 with errno EAGAIN makes the stream wait (POLLIN
 * for reads, POLLOUT for writes) and call it again; a function that needs
 * the other direction may call stream_poll() itself.
 * With the default I/O a socket write is tried first (send() with
 * MSG_DONTWAIT) and waits only on EAGAIN; a socket read with only the
 * per-operation timeout blocks in read() bounded by SO_RCVTIMEO (set on
 * the socket once per stream); other reads and writes wait first when a
 * timeout or deadline is set.
 */
int     stream_poll(STREAM *s, int events);

int     stream_flags(const STREAM *s);
#define stream_error(s)   (stream_flags(s) & (STREAM_FLAG_ERR | STREAM_FLAG_TIMEOUT))
#define stream_timeout(s) (stream_flags(s) & STREAM_FLAG_TIMEOUT)
#define stream_eof(s)     (stream_flags(s) & STREAM_FLAG_EOF)
void    stream_clearerr(STREAM *s);
/* The errno of the first read/write failure (ETIMEDOUT for a timeout, EIO
 * for a write that wrote nothing); 0 while no failure happened. */
int     stream_errno(const STREAM *s);

/* Reading. */
int     stream_getc(STREAM *s);                     /* byte or STREAM_EOF */
int     stream_ungetc(STREAM *s, int ch);
/* Exactly len bytes unless EOF/error; returns the count (short at EOF),
 * or -1 when an error/timeout happened before any byte was read. */
ssize_t stream_read(STREAM *s, void *buf, size_t len);
/*
 * Reset buf and read bytes up to and including '\n', or until max bytes
 * were stored. Returns the number of bytes stored (the '\n' included when
 * it was read), 0 at EOF with nothing read, -1 on error or timeout.
 */
ssize_t stream_gets(STREAM *s, VSTRING *buf, size_t max);
/* The same up to and including the byte delim (attr.c: NUL). */
ssize_t stream_get_until(STREAM *s, VSTRING *buf, int delim, size_t max);
size_t  stream_buffered(const STREAM *s);  /* unread bytes already in the buffer */
/* Wait up to timeout seconds for input; 1 = readable, 0 = timeout, -1 error. */
int     stream_wait_readable(STREAM *s, int timeout);

/*
 * Writing: buffered (8 KiB); flush to send. Before a read must wait for
 * new input, pending output is flushed first, so a reply is never stuck
 * behind a read (and pipelined SMTP input gets its replies in one batch).
 * Writes return 0, or -1 once the stream has an error (output discarded).
 */
int     stream_write(STREAM *s, const void *buf, size_t len);
int     stream_puts(STREAM *s, const char *str);
int     stream_putc(STREAM *s, int ch);
int     stream_printf(STREAM *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int     stream_flush(STREAM *s);    /* 0 or -1 */
/* Position in a file stream (read or write side), with buffering accounted;
 * the kernel is asked once, then reads and seeks keep it (a write makes it
 * ask again). Another reader of the same open file moving the offset is
 * not seen: seek first. */
off_t   stream_tell(STREAM *s);
int     stream_seek(STREAM *s, off_t offset);  /* flushes, discards read buffer */

#endif
