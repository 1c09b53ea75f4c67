/*
 * test_stream.c - unit tests for lib/stream.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stream.h"
#include "unit.h"

/*
 * System calls the stream makes, counted: these definitions take the
 * place of libc's for the stream code linked into this test.
 */
static int n_poll, n_lseek, n_send;

int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
    n_poll++;
    return (int) syscall(SYS_poll, fds, nfds, timeout);
}

off_t
lseek(int fd, off_t offset, int whence)
{
    n_lseek++;
    return (off_t) syscall(SYS_lseek, fd, offset, whence);
}

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
    n_send++;
    return (ssize_t) syscall(SYS_sendto, fd, buf, len, flags, NULL, 0);
}

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* A stream reading the given bytes from a pipe (writer closed). */
static STREAM *
stream_from(const char *data)
{
    int     p[2];

    if (pipe(p) < 0)
        abort();
    if (write(p[1], data, strlen(data)) != (ssize_t) strlen(data))
        abort();
    close(p[1]);
    return stream_fdopen(p[0]);
}

/* stream_gets(s, buf, max) reads the line want (its length returned) */
#define CHECK_GETS(s, buf, max, want) do { \
        CHECK_INT(stream_gets((s), (buf), (max)), strlen(want)); \
        CHECK_STR(STR(buf), (want)); } while (0)

UNIT_TEST(test_gets_lines)
{
    STREAM *s = stream_from("one\ntwo\r\nlast");
    VSTRING *buf = vstring_alloc(100);

    CHECK_GETS(s, buf, 100, "one\n");
    CHECK_GETS(s, buf, 100, "two\r\n");
    CHECK_GETS(s, buf, 100, "last");       /* no newline at EOF */
    CHECK_INT(stream_gets(s, buf, 100), 0);
    CHECK_INT(LEN(buf), 0);
    CHECK(stream_eof(s));
    CHECK(!stream_error(s));
    CHECK_INT(stream_close(s), 0);
    vstring_free(buf);
}

UNIT_TEST(test_gets_max)
{
    STREAM *s = stream_from("abcdefghij\nxy\n");
    VSTRING *buf = vstring_alloc(100);

    CHECK_GETS(s, buf, 4, "abcd");
    CHECK_GETS(s, buf, 4, "efgh");
    CHECK_GETS(s, buf, 4, "ij\n");
    CHECK_GETS(s, buf, 3, "xy\n");
    CHECK_INT(stream_gets(s, buf, 3), 0);
    stream_close(s);
    vstring_free(buf);

    /* The VSTRING's own maximum also bounds the line. */
    s = stream_from("0123456789\n");
    buf = vstring_alloc(3);
    CHECK_GETS(s, buf, 1000, "012");
    CHECK_INT(buf->overflow, 0);
    stream_close(s);
    vstring_free(buf);
}

UNIT_TEST(test_long_line_across_buffers)
{
    int     p[2];
    char   *data = malloc(20001);
    STREAM *s;
    VSTRING *buf = vstring_alloc(30000);
    pid_t   pid;

    memset(data, 'x', 20000);
    data[19999] = '\n';
    data[20000] = 0;
    if (pipe(p) < 0)
        abort();
    if ((pid = fork()) == 0) {
        close(p[0]);
        if (write(p[1], data, 20000) != 20000)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    s = stream_fdopen(p[0]);
    stream_set_timeout(s, 5);
    CHECK_INT(stream_gets(s, buf, 30000), 20000);
    CHECK(STR(buf)[19999] == '\n');
    CHECK_INT(stream_gets(s, buf, 30000), 0);
    stream_close(s);
    vstring_free(buf);
    free(data);
}

UNIT_TEST(test_getc_ungetc_read)
{
    STREAM *s = stream_from("hello world");
    char    buf[32];

    CHECK_INT(stream_getc(s), 'h');
    CHECK_INT(stream_ungetc(s, 'H'), 'H');
    CHECK_INT(stream_buffered(s), 11);
    CHECK_INT(stream_read(s, buf, 5), 5);
    CHECK(memcmp(buf, "Hello", 5) == 0);
    CHECK_INT(stream_read(s, buf, 20), 6);        /* short at EOF */
    CHECK(memcmp(buf, " world", 6) == 0);
    CHECK_INT(stream_getc(s), STREAM_EOF);
    stream_close(s);
}

UNIT_TEST(test_timeout_pipe)
{
    int     p[2];
    STREAM *s;
    VSTRING *buf = vstring_alloc(100);
    time_t  start = time(NULL);

    if (pipe(p) < 0)
        abort();
    s = stream_fdopen(p[0]);
    stream_set_timeout(s, 1);
    CHECK_INT(stream_gets(s, buf, 100), -1);
    CHECK(stream_timeout(s));
    CHECK(stream_error(s));
    CHECK(time(NULL) - start <= 3);
    /* Sticky: data arriving later is not read until clearerr. */
    CHECK_INT(write(p[1], "x\n", 2), 2);
    CHECK_INT(stream_getc(s), STREAM_EOF);
    stream_clearerr(s);
    CHECK_INT(stream_getc(s), 'x');
    CHECK_INT(stream_close(s), 0);
    close(p[1]);
    vstring_free(buf);
}

UNIT_TEST(test_deadline)
{
    int     p[2];
    STREAM *s;

    if (pipe(p) < 0)
        abort();
    s = stream_fdopen(p[0]);
    stream_set_timeout(s, 100);
    stream_set_deadline(s, time(NULL) - 1);       /* already over */
    CHECK_INT(stream_getc(s), STREAM_EOF);
    CHECK(stream_timeout(s));
    CHECK_INT(stream_close(s), -1);
    close(p[1]);
}

/* A child that writes one byte every 200 ms, count times, into a pipe. */
static STREAM *
stream_trickle(int count, pid_t *pid)
{
    struct timespec ts = {0, 200 * 1000000L};
    int     p[2];

    if (pipe(p) < 0 || (*pid = fork()) < 0)
        abort();
    if (*pid == 0) {
        close(p[0]);
        for (int i = 0; i < count; i++) {
            nanosleep(&ts, NULL);
            if (write(p[1], "x", 1) != 1)
                _exit(1);
        }
        _exit(0);
    }
    close(p[1]);
    return stream_fdopen(p[0]);
}

/* Read until EOF or error; the number of bytes read. */
static int
stream_drain_count(STREAM *s)
{
    int     n = 0;

    while (stream_getc(s) != STREAM_EOF)
        n++;
    return n;
}

/* A request deadline ends a trickle that no per-read timeout would. */
UNIT_TEST(test_request_deadline)
{
    pid_t   pid;
    STREAM *s = stream_trickle(30, &pid);     /* 6 seconds of bytes */
    int     n;

    stream_set_timeout(s, 100);
    stream_deadline_start(s, 1, 0);
    n = stream_drain_count(s);
    CHECK(stream_timeout(s));
    CHECK(n < 30);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    (void) stream_close(s);
}

/* ... unless the bytes come at least at min_rate: each one earns time. */
UNIT_TEST(test_request_deadline_min_rate)
{
    pid_t   pid;
    STREAM *s = stream_trickle(15, &pid);     /* 3 seconds of bytes */
    int     n;

    stream_set_timeout(s, 100);
    stream_deadline_start(s, 1, 1);             /* 1 byte/s: 1 s per byte */
    n = stream_drain_count(s);
    CHECK(!stream_timeout(s));
    CHECK_INT(n, 15);
    stream_deadline_stop(s);
    waitpid(pid, NULL, 0);
    (void) stream_close(s);
}

UNIT_TEST(test_write_error_sticky)
{
    int     p[2];
    STREAM *s;
    char    big[20000];

    signal(SIGPIPE, SIG_IGN);
    if (pipe(p) < 0)
        abort();
    close(p[0]);
    s = stream_fdopen(p[1]);
    CHECK_INT(stream_puts(s, "hello\n"), 0);      /* buffered: no error yet */
    CHECK(!stream_error(s));
    CHECK_INT(stream_flush(s), -1);
    CHECK(stream_error(s));
    memset(big, 'a', sizeof(big));
    CHECK_INT(stream_write(s, big, sizeof(big)), -1);
    CHECK_INT(stream_printf(s, "%d", 1), -1);
    CHECK_INT(stream_flush(s), -1);
    CHECK_INT(stream_close(s), -1);
}

UNIT_TEST(test_write_big_and_printf)
{
    char    path[] = "/tmp/test_stream.XXXXXX";
    int     fd = mkstemp(path);
    STREAM *s = stream_fdopen(fd);
    char    big[20000];
    VSTRING *buf = vstring_alloc(30000);

    memset(big, 'q', sizeof(big));
    CHECK_INT(stream_printf(s, "%s %d\n", "num", 12), 0);
    CHECK_INT(stream_tell(s), 7);
    CHECK_INT(stream_write(s, big, sizeof(big)), 0);
    CHECK_INT(stream_tell(s), 20007);
    CHECK_INT(stream_putc(s, '\n'), 0);
    CHECK_INT(stream_seek(s, 0), 0);
    CHECK_GETS(s, buf, 30000, "num 12\n");
    CHECK_INT(stream_tell(s), 7);
    CHECK_INT(stream_gets(s, buf, 30000), 20001);
    CHECK_INT(stream_tell(s), 20008);
    CHECK_INT(stream_seek(s, 4), 0);
    CHECK_INT(stream_getc(s), '1');
    CHECK_INT(stream_close(s), 0);
    unlink(path);
    vstring_free(buf);
}

UNIT_TEST(test_flush_before_read)
{
    int     sv[2];
    STREAM *a, *b;
    VSTRING *buf = vstring_alloc(100);

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    a = stream_fdopen(sv[0]);
    b = stream_fdopen(sv[1]);
    stream_set_timeout(a, 2);
    stream_set_timeout(b, 2);
    stream_puts(b, "ping\n");
    stream_flush(b);
    CHECK_INT(stream_gets(a, buf, 100), 5);
    stream_puts(a, "pong\n");           /* not flushed explicitly */
    stream_puts(b, "more\n");
    stream_flush(b);
    CHECK_INT(stream_gets(a, buf, 100), 5);   /* must flush "pong" first */
    CHECK_INT(stream_gets(b, buf, 100), 5);
    CHECK_STR(STR(buf), "pong\n");
    stream_close(a);
    stream_close(b);
    vstring_free(buf);
}

static ssize_t
upper_read(void *ctx, int fd, void *buf, size_t len)
{
    ssize_t n = read(fd, buf, len);
    ssize_t i;

    (*(int *) ctx)++;
    for (i = 0; i < n; i++)
        if (((char *) buf)[i] >= 'a' && ((char *) buf)[i] <= 'z')
            ((char *) buf)[i] -= 32;
    return n;
}

UNIT_TEST(test_set_io)
{
    STREAM *s = stream_from("abc\n");
    VSTRING *buf = vstring_alloc(100);
    int     calls = 0;

    stream_set_io(s, upper_read, NULL, &calls);
    CHECK_GETS(s, buf, 100, "ABC\n");
    CHECK(calls >= 1);
    stream_close(s);
    vstring_free(buf);
}

/* A closed stream's memory serves the next one, which starts clean: no
 * error, no EOF, no I/O hooks, nothing buffered from the one before. */
UNIT_TEST(test_reused_memory_starts_clean)
{
    STREAM *s = stream_from("abc\nrest of it");
    STREAM *t;
    VSTRING *buf = vstring_alloc(100);
    int     calls = 0;

    stream_set_io(s, upper_read, NULL, &calls);
    stream_set_timeout(s, 5);
    CHECK_GETS(s, buf, 100, "ABC\n");  /* "REST OF IT" stays buffered */
    CHECK_GETS(s, buf, 100, "REST OF IT");
    CHECK(stream_getc(s) == STREAM_EOF);
    CHECK(stream_eof(s));
    stream_close(s);
    t = stream_from("xyz\n");
    CHECK(!stream_eof(t) && !stream_error(t));
    CHECK_GETS(t, buf, 100, "xyz\n");  /* read(), not upper_read() */
    CHECK(stream_getc(t) == STREAM_EOF);
    stream_close(t);
    vstring_free(buf);
}

UNIT_TEST(test_wait_readable)
{
    int     p[2];
    STREAM *s;

    if (pipe(p) < 0)
        abort();
    s = stream_fdopen(p[0]);
    CHECK_INT(stream_wait_readable(s, 0), 0);
    CHECK_INT(write(p[1], "z", 1), 1);
    CHECK_INT(stream_wait_readable(s, 1), 1);
    stream_close(s);
    close(p[1]);
}

/*
 * A socket with a timeout: data that is there is read and written
 * without a poll() first; with nothing to read, the timeout still ends
 * the read, once (not twice).
 */
/* A stream on one end of a socket pair (its timeout set); *peer the other. */
static STREAM *
stream_socketpair(int *peer, int timeout, int nonblocking)
{
    int     sv[2];
    STREAM *s;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    if (nonblocking)
        fcntl(sv[0], F_SETFL, O_NONBLOCK);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, timeout);
    *peer = sv[1];
    return s;
}

UNIT_TEST(test_socket_no_poll)
{
    int     sv[2];
    STREAM *a = stream_socketpair(&sv[1], 1, 0);
    VSTRING *buf = vstring_alloc(100);
    double  t0;

    CHECK_INT(write(sv[1], "HELO x\r\n", 8), 8);
    n_poll = 0;
    CHECK_GETS(a, buf, 100, "HELO x\r\n");
    stream_puts(a, "250 ok\r\n");
    CHECK_INT(stream_flush(a), 0);
    CHECK_INT(n_poll, 0);
    CHECK_INT(read(sv[1], STR(buf), 100), 8);
    t0 = now_s();
    CHECK_INT(stream_gets(a, buf, 100), -1);
    CHECK(stream_timeout(a));
    CHECK(now_s() - t0 > 0.9 && now_s() - t0 < 1.8);
    stream_close(a);
    close(sv[1]);
    vstring_free(buf);
}

/* A non-blocking socket still waits for its input (up to the timeout). */
UNIT_TEST(test_socket_nonblocking)
{
    int     sv[2];
    STREAM *a = stream_socketpair(&sv[1], 5, 1);
    VSTRING *buf = vstring_alloc(100);
    pid_t   pid;

    if ((pid = fork()) == 0) {
        usleep(200000);
        if (write(sv[1], "late\n", 5) != 5)
            _exit(1);
        _exit(0);
    }
    CHECK_GETS(a, buf, 100, "late\n");
    CHECK(!stream_error(a));
    waitpid(pid, NULL, 0);
    stream_close(a);
    close(sv[1]);
    vstring_free(buf);
}

/*
 * stream_tell() asks the kernel once, then keeps the offset through reads
 * and seeks; a write (O_APPEND too) makes it ask again. A file stream
 * does not try send() first.
 */
UNIT_TEST(test_tell_kept)
{
    char    path[] = "/tmp/test_stream.XXXXXX";
    int     fd = mkstemp(path);
    STREAM *s;
    VSTRING *buf = vstring_alloc(100);
    int     i;

    CHECK_INT(write(fd, "one\ntwo\nthree\n", 14), 14);
    close(fd);
    s = stream_open(path, O_RDONLY, 0);
    n_lseek = 0;
    for (i = 0; i < 3; i++) {
        CHECK(stream_gets(s, buf, 100) > 0);
        CHECK_INT(stream_tell(s), i == 0 ? 4 : i == 1 ? 8 : 14);
    }
    CHECK_INT(n_lseek, 1);
    CHECK_INT(stream_seek(s, 4), 0);
    CHECK_INT(stream_tell(s), 4);
    CHECK_GETS(s, buf, 100, "two\n");
    CHECK_INT(stream_tell(s), 8);
    CHECK_INT(n_lseek, 2);
    stream_close(s);

    s = stream_open(path, O_WRONLY | O_APPEND, 0);
    n_send = 0;
    CHECK_INT(stream_tell(s), 0);
    stream_puts(s, "four\n");
    CHECK_INT(stream_flush(s), 0);
    CHECK_INT(stream_tell(s), 19);      /* appended: where the kernel says */
    CHECK_INT(n_send, 0);
    stream_close(s);
    unlink(path);
    vstring_free(buf);
}

UNIT_TESTS {
    {"gets_lines", test_gets_lines},
    {"gets_max", test_gets_max},
    {"long_line_across_buffers", test_long_line_across_buffers},
    {"getc_ungetc_read", test_getc_ungetc_read},
    {"timeout_pipe", test_timeout_pipe},
    {"deadline", test_deadline},
    {"request_deadline", test_request_deadline},
    {"request_deadline_min_rate", test_request_deadline_min_rate},
    {"write_error_sticky", test_write_error_sticky},
    {"write_big_and_printf", test_write_big_and_printf},
    {"flush_before_read", test_flush_before_read},
    {"set_io", test_set_io},
    {"reused_memory_starts_clean", test_reused_memory_starts_clean},
    {"wait_readable", test_wait_readable},
    {"socket_no_poll", test_socket_no_poll},
    {"socket_nonblocking", test_socket_nonblocking},
    {"tell_kept", test_tell_kept},
    UNIT_END
};
