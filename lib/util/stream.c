/*
 * stream.c - buffered I/O on a file descriptor with time limits.
 *
 * Interface: stream.h. One 8 KiB read buffer and one 8 KiB write buffer
 * per stream. Every wait goes through stream_poll() (or a socket read()
 * bounded by SO_RCVTIMEO, see below), bounded by the
 * per-operation timeout, the absolute deadline and a running request
 * deadline (the time waited is measured on the monotonic clock and taken
 * off it; reads credit bytes / min_rate seconds, up to its start value).
 * Fewer system calls per transfer: a socket write is sent at once with
 * MSG_DONTWAIT and waits only on EAGAIN; a socket read under a plain
 * timeout blocks in read() bounded by SO_RCVTIMEO (set once), so neither
 * needs a poll() first; the file offset is kept (stream_tell() asks the
 * kernel once, until a write), and a seekable or open()ed stream is known
 * not to be a socket. Errors, timeouts and
 * EOF are sticky flags; output after an error is discarded and reported
 * by stream_flush()/stream_close().
 *
 * SECURITY: stream_gets() stores at most the caller's maximum (and never
 * more than the VSTRING's own maximum); the rest of a long line stays
 * in the stream for the next call.
 *
 * DIAGNOSTICS: none; an I/O error, a timeout or EOF sets a sticky flag
 * (and stream_errno() keeps the first errno), which the caller sees in the
 * return value of the next call, stream_flush() or stream_close().
 * Allocation failures are fatal in mem.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "stream.h"

#define STREAM_BUFSIZE 8192

struct STREAM {
    int     fd;
    int     flags;
    int     timeout;            /* seconds per operation, 0 = none */
    time_t  deadline;           /* absolute, 0 = none */
    int     budget_on;          /* a request deadline is running */
    double  budget;             /* ... seconds of waiting left */
    double  budget_max;         /* ... its start value, the cap */
    long    min_rate;           /* ... bytes/s that earn more time, 0 = none */
    STREAM_IO_FN rd;            /* NULL: default read() */
    STREAM_IO_FN wr;            /* NULL: default write()/send() */
    void   *ctx;
    size_t  rpos;               /* next unread byte in rbuf */
    size_t  rlen;               /* bytes valid in rbuf */
    size_t  wlen;               /* bytes pending in wbuf */
    int     close_error;
    int     err;                /* errno of the first failure, 0 if none */
    int     not_socket;         /* send() said ENOTSOCK: use write() from now on */
    int     rcvtimeo;           /* SO_RCVTIMEO seconds this stream set, 0 = none */
    int     off_known;          /* off is the descriptor's file offset */
    off_t   off;                /* ... kept by reads, seeks; writes forget it */
    unsigned char rbuf[STREAM_BUFSIZE];
    unsigned char wbuf[STREAM_BUFSIZE];
};

/*
 * The memory of the last streams freed, kept for the next ones: a STREAM
 * is mostly its two buffers, and a fresh zeroed allocation of 16 kB for
 * each connection and queue file (calloc's memset, and the consolidation
 * of glibc's fast bins that a large request or free triggers) was a
 * visible share of a daemon's CPU. A process keeps as many as it had open
 * at once, up to STREAM_SPARES (smtpd: the client and cleanup; cleanup:
 * smtpd and the queue file). Only the fields before the buffers are
 * cleared; a buffer's old bytes are never read (rpos, rlen and wlen start
 * at 0). Not in an ASan build, which must see a stream used after
 * stream_close().
 */
#if defined(__SANITIZE_ADDRESS__)
#define STREAM_SPARES 0                 /* ASan sees every use after close */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STREAM_SPARES 0
#endif
#endif
#ifndef STREAM_SPARES
#define STREAM_SPARES 3
#endif

static STREAM *stream_spare[STREAM_SPARES + 1];
static int stream_spares;

STREAM *
stream_fdopen(int fd)
{
    STREAM *s;

    if (stream_spares > 0) {
        s = stream_spare[--stream_spares];
        memset(s, 0, offsetof(STREAM, rbuf));
    } else {
        s = mem_alloc(sizeof(*s));
    }
    s->fd = fd;
    return s;
}

static void
stream_release(STREAM *s)
{
    if (stream_spares < STREAM_SPARES)
        stream_spare[stream_spares++] = s;
    else
        mem_free(s);
}

/* A file, a pipe or a device: no send() tried first on each write. */
STREAM *
stream_fdopen_file(int fd)
{
    STREAM *s = stream_fdopen(fd);

    s->not_socket = 1;
    return s;
}

STREAM *
stream_open(const char *path, int flags, int mode)
{
    int     fd = open(path, flags, mode);

    if (fd < 0)
        return NULL;
    return stream_fdopen_file(fd);      /* open() opens no socket */
}

int
stream_close(STREAM *s)
{
    int     ret = stream_flush(s);

    if (close(s->fd) < 0)
        ret = -1;
    if (s->flags & (STREAM_FLAG_ERR | STREAM_FLAG_TIMEOUT))
        ret = -1;
    stream_release(s);
    return ret;
}

void
stream_free_keep_fd(STREAM *s)
{
    stream_release(s);
}

int
stream_fd(const STREAM *s)
{
    return s->fd;
}

void
stream_set_timeout(STREAM *s, int seconds)
{
    s->timeout = seconds > 0 ? seconds : 0;
}

void
stream_set_deadline(STREAM *s, time_t when)
{
    s->deadline = when;
}

void
stream_deadline_start(STREAM *s, int seconds, long min_rate)
{
    s->budget_on = seconds > 0;
    s->budget = s->budget_max = seconds;
    s->min_rate = min_rate > 0 ? min_rate : 0;
}

void
stream_deadline_stop(STREAM *s)
{
    s->budget_on = 0;
}

static double
stream_now(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* A read of n bytes under a request deadline with a minimum data rate. */
static void
stream_deadline_credit(STREAM *s, size_t n)
{
    if (!s->budget_on || s->min_rate == 0)
        return;
    s->budget += (double) n / (double) s->min_rate;
    if (s->budget > s->budget_max)
        s->budget = s->budget_max;
}

void
stream_set_io(STREAM *s, STREAM_IO_FN rd, STREAM_IO_FN wr, void *ctx)
{
    s->rd = rd;
    s->wr = wr;
    s->ctx = ctx;
}

int
stream_flags(const STREAM *s)
{
    return s->flags;
}

void
stream_clearerr(STREAM *s)
{
    s->flags = 0;
    s->err = 0;
}

int
stream_errno(const STREAM *s)
{
    return s->err;
}

/* Set a sticky flag, remembering the first failure's errno. */
static void
stream_fail(STREAM *s, int flag, int err)
{
    s->flags |= flag;
    if (s->err == 0)
        s->err = err ? err : EIO;
}

size_t
stream_buffered(const STREAM *s)
{
    return s->rlen - s->rpos;
}

/* Milliseconds this wait may take: -1 = forever, 0 = already expired. */
static int
stream_wait_ms(const STREAM *s)
{
    long    ms = -1;
    time_t  now;

    if (s->timeout > 0)
        ms = (long) s->timeout * 1000;
    if (s->deadline > 0) {
        now = time(NULL);
        if (now >= s->deadline)
            return 0;
        if (ms < 0 || (long) (s->deadline - now) * 1000 < ms)
            ms = (long) (s->deadline - now) * 1000;
    }
    if (s->budget_on) {
        if (s->budget <= 0.0005)
            return 0;
        if (ms < 0 || s->budget * 1000 < (double) ms)
            ms = (long) (s->budget * 1000 + 0.5);
    }
    if (ms > INT_MAX)
        ms = INT_MAX;
    return (int) ms;
}

/* Time spent waiting comes off a running request deadline. */
static int
stream_poll_once(STREAM *s, struct pollfd *pfd, int ms)
{
    double  start = s->budget_on ? stream_now() : 0;
    int     n;

    n = poll(pfd, 1, ms);
    if (s->budget_on)
        s->budget -= stream_now() - start;
    return n;
}

static int
stream_expired(STREAM *s)
{
    stream_fail(s, STREAM_FLAG_TIMEOUT, ETIMEDOUT);
    errno = ETIMEDOUT;
    return 0;
}

static int
stream_poll_ms(STREAM *s, int events, int ms)
{
    struct pollfd pfd;
    int     n;

    pfd.fd = s->fd;
    pfd.events = (short) events;
    for (;;) {
        pfd.revents = 0;
        n = stream_poll_once(s, &pfd, ms);
        if (n > 0)
            return 1;
        if (n == 0)
            return stream_expired(s);
        if (errno != EINTR) {
            stream_fail(s, STREAM_FLAG_ERR, errno);
            return -1;
        }
        /* EINTR: recompute the remaining time from the deadlines only. */
        if ((s->deadline > 0 || s->budget_on) && (ms = stream_wait_ms(s)) == 0)
            return stream_expired(s);
    }
}

int
stream_poll(STREAM *s, int events)
{
    int     ms = stream_wait_ms(s);

    if (ms == 0 && ((s->deadline > 0 && time(NULL) >= s->deadline) || s->budget_on))
        return stream_expired(s);
    return stream_poll_ms(s, events, ms);
}

int
stream_wait_readable(STREAM *s, int timeout)
{
    struct pollfd pfd;
    int     n;

    if (stream_buffered(s) > 0)
        return 1;
    pfd.fd = s->fd;
    pfd.events = POLLIN;
    do {
        n = poll(&pfd, 1, timeout < 0 ? -1 : timeout * 1000);
    } while (n < 0 && errno == EINTR);
    return n > 0 ? 1 : n;
}

/* Keep the file offset: a read moves it by n, a write makes it unknown. */
static void
stream_moved(STREAM *s, int writing, ssize_t n)
{
    if (writing)
        s->off_known = 0;
    else
        s->off += n;
}

/* The per-operation timeout alone limits a wait (no deadline to watch). */
static int
stream_plain_timeout(const STREAM *s)
{
    return s->timeout > 0 && s->deadline == 0 && !s->budget_on;
}

/*
 * A blocking read on a socket that the kernel bounds by the timeout
 * (SO_RCVTIMEO, set once per stream): one system call where poll() +
 * read() took two. EAGAIN comes either from that timeout or from a
 * non-blocking descriptor; the time already waited tells which, and a
 * poll() waits out the rest. 1 = go on reading, 0 = use poll() first.
 */
static int
stream_rcvtimeo(STREAM *s)
{
    struct timeval tv;

    if (s->not_socket || !stream_plain_timeout(s))
        return 0;
    if (s->rcvtimeo != s->timeout) {
        tv.tv_sec = s->timeout;
        tv.tv_usec = 0;
        if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
            if (errno == ENOTSOCK)
                s->not_socket = 1;
            return 0;
        }
        s->rcvtimeo = s->timeout;
    }
    return 1;
}

/* After EAGAIN from a bounded read: wait the rest of the timeout. */
static int
stream_rcvtimeo_wait(STREAM *s, double start)
{
    double  left = (double) s->timeout - (stream_now() - start);

    if (left * 1000 < 1)
        return stream_expired(s);
    return stream_poll_ms(s, POLLIN, (int) (left * 1000));
}

/* One default read() or write()/send(); a socket write never blocks. */
static ssize_t
stream_sys(STREAM *s, int writing, void *buf, size_t len)
{
    ssize_t n;

    if (!writing)
        return read(s->fd, buf, len);
    if (s->not_socket)
        return write(s->fd, buf, len);
    n = send(s->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == ENOTSOCK) {
        s->not_socket = 1;
        if (s->timeout > 0 || s->deadline > 0 || s->budget_on) {
            errno = EAGAIN;             /* a pipe: wait, then write() */
            return -1;
        }
        n = write(s->fd, buf, len);
    }
    return n;
}

/*
 * Must this transfer wait for the descriptor first? Not when the stream
 * has no time limits, not for a socket write (send() does not block and
 * EAGAIN makes it wait), not for a socket read the kernel bounds.
 */
static int
stream_wait_first(STREAM *s, int writing, int *bounded)
{
    *bounded = 0;
    if (s->timeout == 0 && s->deadline == 0 && !s->budget_on)
        return 0;
    if (stream_wait_ms(s) == 0)
        return 1;                       /* expired: stream_poll() says so */
    if (writing)
        return s->not_socket;
    return !(*bounded = stream_rcvtimeo(s));
}

/* One low-level transfer with waiting; returns bytes, 0 = EOF, -1 = error. */
static ssize_t
stream_io(STREAM *s, int writing, void *buf, size_t len)
{
    STREAM_IO_FN fn = writing ? s->wr : s->rd;
    int     events = writing ? POLLOUT : POLLIN;
    int     bounded = 0;
    double  start = 0;
    ssize_t n;

    if (fn == NULL && stream_wait_first(s, writing, &bounded) && stream_poll(s, events) <= 0)
        return -1;
    if (bounded)
        start = stream_now();
    for (;;) {
        n = fn != NULL ? fn(s->ctx, s->fd, buf, len) : stream_sys(s, writing, buf, len);
        if (n >= 0) {
            if (!writing)
                stream_deadline_credit(s, (size_t) n);
            if (fn == NULL)
                stream_moved(s, writing, n);
            return n;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            stream_fail(s, STREAM_FLAG_ERR, errno);
            return -1;
        }
        if ((bounded ? stream_rcvtimeo_wait(s, start) : stream_poll(s, events)) <= 0)
            return -1;
    }
}

/* Refill the read buffer; 1 = data, 0 = EOF, -1 = error/timeout. */
static int
stream_fill(STREAM *s)
{
    ssize_t n;

    if (s->rpos < s->rlen)
        return 1;
    if (s->flags & (STREAM_FLAG_ERR | STREAM_FLAG_TIMEOUT))
        return -1;
    if (s->flags & STREAM_FLAG_EOF)
        return 0;
    if (s->wlen > 0 && stream_flush(s) < 0)
        return -1;
    s->rpos = s->rlen = 0;
    n = stream_io(s, 0, s->rbuf, sizeof(s->rbuf));
    if (n < 0)
        return -1;
    if (n == 0) {
        s->flags |= STREAM_FLAG_EOF;
        return 0;
    }
    s->rlen = (size_t) n;
    return 1;
}

int
stream_getc(STREAM *s)
{
    if (stream_fill(s) <= 0)
        return STREAM_EOF;
    return s->rbuf[s->rpos++];
}

int
stream_ungetc(STREAM *s, int ch)
{
    if (ch == STREAM_EOF)
        return STREAM_EOF;
    if (s->rpos == 0) {
        if (s->rlen >= sizeof(s->rbuf))
            return STREAM_EOF;
        memmove(s->rbuf + 1, s->rbuf, s->rlen);
        s->rlen++;
        s->rpos = 1;
    }
    s->rbuf[--s->rpos] = (unsigned char) ch;
    return ch & 0xff;
}

ssize_t
stream_read(STREAM *s, void *buf, size_t len)
{
    size_t  done = 0;
    size_t  n;
    int     r = 1;

    while (done < len && (r = stream_fill(s)) > 0) {
        n = s->rlen - s->rpos;
        if (n > len - done)
            n = len - done;
        memcpy((char *) buf + done, s->rbuf + s->rpos, n);
        s->rpos += n;
        done += n;
    }
    if (done == 0 && len > 0 && r < 0)
        return -1;
    return (ssize_t) done;
}

ssize_t
stream_gets(STREAM *s, VSTRING *buf, size_t max)
{
    return stream_get_until(s, buf, '\n', max);
}

ssize_t
stream_get_until(STREAM *s, VSTRING *buf, int delim, size_t max)
{
    unsigned char *nl;
    size_t  n;
    int     r;

    vstring_reset(buf);
    if (max > buf->max)
        max = buf->max;
    while (LEN(buf) < max) {
        if ((r = stream_fill(s)) < 0)
            return -1;
        if (r == 0)
            break;
        n = s->rlen - s->rpos;
        if (n > max - LEN(buf))
            n = max - LEN(buf);
        nl = memchr(s->rbuf + s->rpos, delim, n);
        if (nl != NULL)
            n = (size_t) (nl - (s->rbuf + s->rpos)) + 1;
        vstring_ncat(buf, (char *) s->rbuf + s->rpos, n);
        s->rpos += n;
        if (nl != NULL)
            break;
    }
    return (ssize_t) LEN(buf);
}

int
stream_flush(STREAM *s)
{
    size_t  done = 0;
    ssize_t n;

    if (s->flags & (STREAM_FLAG_ERR | STREAM_FLAG_TIMEOUT)) {
        s->wlen = 0;
        return -1;
    }
    while (done < s->wlen) {
        n = stream_io(s, 1, s->wbuf + done, s->wlen - done);
        if (n <= 0) {
            if (n == 0)
                stream_fail(s, STREAM_FLAG_ERR, EIO);
            s->wlen = 0;
            return -1;
        }
        done += (size_t) n;
    }
    s->wlen = 0;
    return 0;
}

int
stream_write(STREAM *s, const void *buf, size_t len)
{
    const char *p = buf;
    size_t  n;

    if (s->flags & (STREAM_FLAG_ERR | STREAM_FLAG_TIMEOUT))
        return -1;
    while (len > 0) {
        if (s->wlen == sizeof(s->wbuf) && stream_flush(s) < 0)
            return -1;
        n = sizeof(s->wbuf) - s->wlen;
        if (n > len)
            n = len;
        memcpy(s->wbuf + s->wlen, p, n);
        s->wlen += n;
        p += n;
        len -= n;
    }
    return 0;
}

int
stream_puts(STREAM *s, const char *str)
{
    return stream_write(s, str, strlen(str));
}

int
stream_putc(STREAM *s, int ch)
{
    unsigned char c = (unsigned char) ch;

    return stream_write(s, &c, 1);
}

int
stream_printf(STREAM *s, const char *fmt, ...)
{
    va_list ap;
    char    small[1024];
    char   *text;
    size_t  len;
    int     ret;

    va_start(ap, fmt);
    text = mem_vformat(small, sizeof(small), &len, fmt, ap);
    va_end(ap);
    if (text == NULL)
        return -1;
    ret = stream_write(s, text, len);
    if (text != small)
        mem_free(text);
    return ret;
}

/*
 * The descriptor's offset, asked of the kernel once and then kept: reads
 * and seeks move it by known amounts; a write forgets it (O_APPEND puts
 * the data elsewhere), so the next stream_tell() asks again.
 */
off_t
stream_tell(STREAM *s)
{
    off_t   pos;

    if (!s->off_known) {
        if ((pos = lseek(s->fd, 0, SEEK_CUR)) < 0)
            return -1;
        s->off = pos;
        s->off_known = 1;
        s->not_socket = 1;              /* seekable: a file */
    }
    return s->off - (off_t) (s->rlen - s->rpos) + (off_t) s->wlen;
}

int
stream_seek(STREAM *s, off_t offset)
{
    off_t   pos;

    if (stream_flush(s) < 0)
        return -1;
    s->rpos = s->rlen = 0;
    s->flags &= ~STREAM_FLAG_EOF;
    if ((pos = lseek(s->fd, offset, SEEK_SET)) < 0) {
        s->off_known = 0;
        return -1;
    }
    s->off = pos;
    s->off_known = 1;
    s->not_socket = 1;
    return 0;
}
