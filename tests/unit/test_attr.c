/*
 * test_attr.c - unit tests for lib/attr.c (attr0 encoding, bounds, fds).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "msg.h"
#include "unit.h"

static void
pair(STREAM **a, STREAM **b)
{
    int     sv[2];

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        abort();
    *a = stream_fdopen(sv[0]);
    *b = stream_fdopen(sv[1]);
    stream_set_timeout(*a, 5);
    stream_set_timeout(*b, 5);
}

/* A reader stream over raw bytes (len given: may contain NULs). */
static STREAM *
raw_stream(const char *data, size_t len)
{
    int     p[2];
    pid_t   pid;

    if (pipe(p) < 0)
        abort();
    if ((pid = fork()) == 0) {
        close(p[0]);
        if (write(p[1], data, len) != (ssize_t) len)
            _exit(1);
        _exit(0);
    }
    close(p[1]);
    return stream_fdopen(p[0]);
}

UNIT_TEST(test_round_trip)
{
    STREAM *a, *b;
    ATTR_LIST *out = attr_list_alloc();
    ATTR_LIST *in = attr_list_alloc();
    long    v = 0;

    pair(&a, &b);
    attr_add(out, "request", "resolve");
    attr_add(out, "empty", NULL);
    attr_add_long(out, "size", -12345);
    attr_addf(out, "addr", "<%s@%s>", "u", "example.com");
    CHECK_INT(attr_write(a, out), 0);
    CHECK_INT(attr_write(a, out), 0);
    CHECK_INT(attr_read(b, in), 1);
    CHECK_INT(in->count, 4);
    CHECK_STR(attr_get(in, "request"), "resolve");
    CHECK_STR(attr_get(in, "empty"), "");
    CHECK_STR(attr_get(in, "addr"), "<u@example.com>");
    CHECK(attr_get(in, "nope") == NULL);
    CHECK_INT(attr_get_long(in, "size", &v), 0);
    CHECK_INT(v, -12345);
    CHECK_INT(attr_get_long(in, "addr", &v), -1);
    CHECK_INT(attr_get_long(in, "empty", &v), -1);
    CHECK(attr_require(in, "request", "size", (char *) 0) == NULL);
    CHECK_STR(attr_require(in, "request", "sender", "size", (char *) 0), "sender");
    CHECK_INT(attr_read(b, in), 1);     /* second list, after reset */
    CHECK_INT(in->count, 4);
    stream_close(a);
    CHECK_INT(attr_read(b, in), 0);     /* clean EOF */
    CHECK_INT(in->count, 0);
    stream_close(b);
    attr_list_free(out);
    attr_list_free(in);
}

UNIT_TEST(test_empty_list)
{
    STREAM *s = raw_stream("\0", 1);
    ATTR_LIST *in = attr_list_alloc();

    CHECK_INT(attr_read(s, in), 1);
    CHECK_INT(in->count, 0);
    stream_close(s);
    attr_list_free(in);
}

UNIT_TEST(test_oversize_value)
{
    size_t  len = ATTR_MAX_VALUE + 1;
    char   *data = malloc(len + 10);
    STREAM *s;
    ATTR_LIST *in = attr_list_alloc();

    memcpy(data, "n\0", 2);
    memset(data + 2, 'v', len);
    memcpy(data + 2 + len, "\0\0", 2);
    s = raw_stream(data, len + 4);
    CHECK_INT(attr_read(s, in), -1);
    CHECK_INT(in->count, 0);
    stream_close(s);

    /* Exactly the maximum is fine. */
    memset(data + 2, 'v', ATTR_MAX_VALUE);
    memcpy(data + 2 + ATTR_MAX_VALUE, "\0\0", 2);
    s = raw_stream(data, ATTR_MAX_VALUE + 4);
    CHECK_INT(attr_read(s, in), 1);
    CHECK_INT(strlen(attr_get(in, "n")), ATTR_MAX_VALUE);
    stream_close(s);
    free(data);
    attr_list_free(in);
}

UNIT_TEST(test_oversize_name)
{
    char    data[ATTR_MAX_NAME + 10];
    STREAM *s;
    ATTR_LIST *in = attr_list_alloc();

    memset(data, 'n', ATTR_MAX_NAME + 1);
    memcpy(data + ATTR_MAX_NAME + 1, "\0v\0\0", 4);
    s = raw_stream(data, ATTR_MAX_NAME + 5);
    CHECK_INT(attr_read(s, in), -1);
    stream_close(s);
    attr_list_free(in);
}

/* A list of n attributes "n", written by a child to a stream pair; the
 * reading end, for attr_read(). */
static STREAM *
written_by_child(int n)
{
    STREAM *a, *b;
    ATTR_LIST *out = attr_list_alloc();

    pair(&a, &b);
    for (int i = 0; i < n; i++)
        attr_addf(out, "n", "%d", i);
    if (fork() == 0) {
        stream_close(b);
        attr_write(a, out);
        _exit(0);
    }
    stream_close(a);
    attr_list_free(out);
    return b;
}

UNIT_TEST(test_too_many)
{
    ATTR_LIST *in = attr_list_alloc();
    STREAM *b = written_by_child(ATTR_MAX_COUNT + 1);

    CHECK_INT(attr_read(b, in), -1);
    stream_close(b);

    /* ATTR_MAX_COUNT exactly is accepted. */
    b = written_by_child(ATTR_MAX_COUNT);
    CHECK_INT(attr_read(b, in), 1);
    CHECK_INT(in->count, ATTR_MAX_COUNT);
    stream_close(b);
    attr_list_free(in);
}

UNIT_TEST(test_truncated)
{
    static const struct {
        const char *data;
        size_t  len;
    }       cases[] = {
        {"name", 4},                    /* EOF inside a name */
        {"name\0", 5},                  /* EOF before the value */
        {"name\0val", 8},               /* EOF inside the value */
        {"name\0value\0", 11},          /* EOF before the end marker */
        {"bad\001name\0v\0\0", 13},     /* control character in a name */
    };
    ATTR_LIST *in = attr_list_alloc();
    STREAM *s;
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        s = raw_stream(cases[i].data, cases[i].len);
        CHECK_INT(attr_read(s, in), -1);
        stream_close(s);
    }
    s = raw_stream("", 0);
    CHECK_INT(attr_read(s, in), 0);
    stream_close(s);
    attr_list_free(in);
}

UNIT_TEST(test_timeout)
{
    int     p[2];
    STREAM *s;
    ATTR_LIST *in = attr_list_alloc();

    if (pipe(p) < 0)
        abort();
    CHECK_INT(write(p[1], "a\0", 2), 2);
    s = stream_fdopen(p[0]);
    stream_set_timeout(s, 1);
    CHECK_INT(attr_read(s, in), -1);
    CHECK(stream_timeout(s));
    stream_close(s);
    close(p[1]);
    attr_list_free(in);
}

UNIT_TEST(test_protocol)
{
    STREAM *a, *b;

    msg_init("test_attr", MSG_NOSYSLOG);
    pair(&a, &b);
    CHECK_INT(attr_send_protocol(a, "trivial-rewrite"), 0);
    CHECK_INT(attr_expect_protocol(b, "trivial-rewrite"), 0);
    CHECK_INT(attr_send_protocol(a, "cleanup"), 0);
    CHECK_INT(attr_expect_protocol(b, "trivial-rewrite"), -1);
    stream_close(a);
    CHECK_INT(attr_expect_protocol(b, "trivial-rewrite"), -1);
    stream_close(b);
}

UNIT_TEST(test_fd_passing)
{
    int     sv[2];
    int     p[2];
    int     fd;
    char    c = 0;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || pipe(p) < 0)
        abort();
    CHECK_INT(attr_send_fd(sv[0], p[1]), 0);
    close(p[1]);
    fd = attr_recv_fd(sv[1]);
    CHECK(fd >= 0);
    CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    CHECK_INT(write(fd, "k", 1), 1);
    CHECK_INT(read(p[0], &c, 1), 1);
    CHECK(c == 'k');
    close(fd);
    /* No descriptor attached: -1. */
    CHECK_INT(write(sv[0], "x", 1), 1);
    CHECK_INT(attr_recv_fd(sv[1]), -1);
    close(sv[0]);
    CHECK_INT(attr_recv_fd(sv[1]), -1);
    close(sv[1]);
}

/*
 * The strings live in blocks the list owns: a value stays where it is
 * while more are added (several blocks, one larger than a block), and a
 * reset list stores the next ones correctly; long attr_addf() values are
 * kept whole.
 */
UNIT_TEST(test_storage)
{
    ATTR_LIST *list = attr_list_alloc();
    char   *big = malloc(5000);
    char    name[32];
    const char *first;

    memset(big, 'x', 4999);
    big[4999] = 0;
    attr_add(list, "first", "one");
    first = attr_get(list, "first");
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        attr_add_long(list, name, i);
    }
    attr_add(list, "big", big);
    attr_addf(list, "long", "%s-%d", big, 7);
    CHECK(attr_get(list, "first") == first);
    CHECK_STR(first, "one");
    CHECK_STR(attr_get(list, "n299"), "299");
    CHECK_STR(attr_get(list, "big"), big);
    CHECK_INT((long) strlen(attr_get(list, "long")), 5001);
    CHECK_INT(list->count, 303);
    attr_list_reset(list);
    CHECK(attr_get(list, "first") == NULL);
    attr_add(list, "again", "two");
    attr_add(list, "big", big);
    CHECK_STR(attr_get(list, "again"), "two");
    CHECK_STR(attr_get(list, "big"), big);
    CHECK_INT(list->count, 2);
    attr_list_free(list);
    free(big);
}

UNIT_TESTS {
    {"round_trip", test_round_trip},
    {"storage", test_storage},
    {"empty_list", test_empty_list},
    {"oversize_value", test_oversize_value},
    {"oversize_name", test_oversize_name},
    {"too_many", test_too_many},
    {"truncated", test_truncated},
    {"timeout", test_timeout},
    {"protocol", test_protocol},
    {"fd_passing", test_fd_passing},
    UNIT_END
};
