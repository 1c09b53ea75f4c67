/*
 * attr.c - attribute-list IPC between posthorn processes (attr0 format).
 *
 * Interface: attr.h. A list is "name\0value\0"... terminated by an empty
 * name "\0". attr_read() decodes one list with strict bounds;
 * attr_write() encodes and flushes. File descriptors travel separately
 * with attr_send_fd()/attr_recv_fd() (SCM_RIGHTS).
 *
 * SECURITY: the peer is not trusted. A list with more than ATTR_MAX_COUNT
 * attributes, a name longer than ATTR_MAX_NAME, a value longer than
 * ATTR_MAX_VALUE, a name with control characters, or EOF inside a list is
 * a protocol error (-1): the caller drops the peer. Received ancillary
 * data is checked for level, type and size, and extra descriptors are
 * closed.
 *
 * DIAGNOSTICS: nothing is fatal but running out of memory (or a format
 * that vsnprintf() refuses) in attr_addf().
 * A bad or oversized list, a timeout or EOF is a -1 return for the caller
 * to drop the peer; a greeting that names another protocol is also a
 * warning ("unexpected protocol greeting").
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "mem.h"
#include "msg.h"
#include "vstring.h"

/*
 * The strings of a list live in blocks that the list owns: an attribute
 * added or read costs no allocation of its own, and a reset keeps the
 * first block for the next use (a delivery request, a resolve reply: a
 * few hundred bytes). Strings never move once stored, so a pointer from
 * attr_get() stays valid until the list is reset or freed.
 */
#define ATTR_BLOCK_ALLOC 1000    /* < 1008: glibc's small bins; a larger
                                 * request first consolidates the fast bins */

typedef struct ATTR_BLOCK {
    struct ATTR_BLOCK *next;
    size_t  used;
    size_t  size;
    char    data[];
} ATTR_BLOCK;

ATTR_LIST *
attr_list_alloc(void)
{
    ATTR_LIST *list = mem_alloc(sizeof(*list));

    list->cap = 8;
    list->names = mem_array((size_t) list->cap, sizeof(char *));
    list->values = mem_array((size_t) list->cap, sizeof(char *));
    return list;
}

/* Forget every attribute; keep the first block (the newest) for reuse. */
void
attr_list_reset(ATTR_LIST *list)
{
    ATTR_BLOCK *b, *next;

    if ((b = list->blocks) != NULL) {
        for (next = b->next; next != NULL; next = b->next) {
            b->next = next->next;
            mem_free(next);
        }
        b->used = 0;
    }
    list->count = 0;
}

void
attr_list_free(ATTR_LIST *list)
{
    if (list == NULL)
        return;
    attr_list_reset(list);
    mem_free(list->blocks);
    mem_free(list->names);
    mem_free(list->values);
    mem_free(list);
}

/* A copy of the len bytes at str, NUL-terminated, in the list's blocks. */
static char *
attr_store(ATTR_LIST *list, const char *str, size_t len)
{
    ATTR_BLOCK *b = list->blocks;
    char   *copy;

    if (b == NULL || b->size - b->used < len + 1) {
        size_t  size = ATTR_BLOCK_ALLOC - sizeof(*b);

        if (len + 1 > size)
            size = len + 1;

        b = mem_alloc(sizeof(*b) + size);
        b->size = size;
        b->next = list->blocks;
        list->blocks = b;
    }
    copy = b->data + b->used;
    memcpy(copy, str, len);
    copy[len] = 0;
    b->used += len + 1;
    return copy;
}

/* Append name and value (copied into the list's blocks). */
static void
attr_push(ATTR_LIST *list, const char *name, size_t name_len, const char *value,
          size_t value_len)
{
    if (list->count >= list->cap) {
        list->names = mem_realloc_array(list->names, (size_t) list->cap * 2,
                                        sizeof(char *));
        list->values = mem_realloc_array(list->values, (size_t) list->cap * 2,
                                         sizeof(char *));
        list->cap *= 2;
    }
    list->names[list->count] = attr_store(list, name, name_len);
    list->values[list->count] = attr_store(list, value, value_len);
    list->count++;
}

void
attr_add(ATTR_LIST *list, const char *name, const char *value)
{
    if (value == NULL)
        value = "";
    attr_push(list, name, strlen(name), value, strlen(value));
}

void
attr_addf(ATTR_LIST *list, const char *name, const char *fmt, ...)
{
    char    small[256];
    char   *value = small;
    va_list ap;
    int     n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        msg_fatal("attr_addf: bad format");
    if ((size_t) n >= sizeof(small)) {
        va_start(ap, fmt);
        if (vasprintf(&value, fmt, ap) < 0 || value == NULL)
            msg_fatal("out of memory");
        va_end(ap);
    }
    attr_push(list, name, strlen(name), value, (size_t) n);
    if (value != small)
        free(value);
}

void
attr_add_long(ATTR_LIST *list, const char *name, long value)
{
    attr_addf(list, name, "%ld", value);
}

const char *
attr_get(const ATTR_LIST *list, const char *name)
{
    int     i;

    for (i = 0; i < list->count; i++)
        if (strcmp(list->names[i], name) == 0)
            return list->values[i];
    return NULL;
}

int
attr_get_long(const ATTR_LIST *list, const char *name, long *value)
{
    const char *str = attr_get(list, name);
    char   *end;
    long    v;

    if (str == NULL || *str == 0)
        return -1;
    errno = 0;
    v = strtol(str, &end, 10);
    if (*end != 0 || errno == ERANGE || end == str)
        return -1;
    *value = v;
    return 0;
}

const char *
attr_require(const ATTR_LIST *list, ...)
{
    va_list ap;
    const char *name;

    va_start(ap, list);
    while ((name = va_arg(ap, const char *)) != NULL) {
        if (attr_get(list, name) == NULL)
            break;
    }
    va_end(ap);
    return name;
}

void
attr_put(STREAM *s, const ATTR_LIST *list)
{
    int     i;

    for (i = 0; i < list->count; i++) {
        stream_write(s, list->names[i], strlen(list->names[i]) + 1);
        stream_write(s, list->values[i], strlen(list->values[i]) + 1);
    }
    stream_putc(s, 0);
}

int
attr_write(STREAM *s, const ATTR_LIST *list)
{
    attr_put(s, list);
    return stream_flush(s);
}

/*
 * Read one NUL-terminated string of at most max bytes into buf (from the
 * stream's buffer a run at a time, not byte by byte: a delivery request
 * is a kilobyte of these). Returns 1 = got it, 0 = EOF before any byte,
 * -1 = error/EOF/too long.
 */
static int
attr_read_string(STREAM *s, VSTRING *buf, size_t max)
{
    ssize_t n = stream_get_until(s, buf, 0, max + 1);

    if (n > 0 && STR(buf)[n - 1] == 0) {
        vstring_truncate(buf, (size_t) n - 1);
        return 1;
    }
    return n == 0 ? 0 : -1;
}

static int
attr_name_ok(const VSTRING *name)
{
    size_t  i;

    for (i = 0; i < LEN(name); i++)
        if ((unsigned char) STR(name)[i] < 0x20 || STR(name)[i] == 0x7f)
            return 0;
    return 1;
}

int
attr_read(STREAM *s, ATTR_LIST *list)
{
    static VSTRING *name, *value;       /* scratch, kept for the next list */
    int     ret;
    int     first = 1;

    if (name == NULL) {
        name = vstring_alloc(ATTR_MAX_NAME + 1);      /* + 1: the NUL is read in too */
        value = vstring_alloc(ATTR_MAX_VALUE + 1);
    }

    attr_list_reset(list);
    for (;;) {
        ret = attr_read_string(s, name, ATTR_MAX_NAME);
        if (ret == 0 && !first)
            ret = -1;                   /* EOF inside a list */
        if (ret <= 0)
            break;
        first = 0;
        if (LEN(name) == 0) {           /* end of list */
            ret = 1;
            break;
        }
        if (list->count >= ATTR_MAX_COUNT || !attr_name_ok(name)
            || attr_read_string(s, value, ATTR_MAX_VALUE) <= 0) {
            ret = -1;
            break;
        }
        attr_push(list, STR(name), LEN(name), STR(value), LEN(value));
    }
    if (ret < 0)
        attr_list_reset(list);
    return ret;
}

int
attr_send_protocol(STREAM *s, const char *protocol)
{
    ATTR_LIST *list = attr_list_alloc();
    int     ret;

    attr_add(list, "protocol", protocol);
    ret = attr_write(s, list);
    attr_list_free(list);
    return ret;
}

int
attr_expect_protocol(STREAM *s, const char *protocol)
{
    ATTR_LIST *list = attr_list_alloc();
    const char *got;
    int     ret = -1;

    if (attr_read(s, list) > 0) {
        got = attr_get(list, "protocol");
        if (got != NULL && strcmp(got, protocol) == 0 && list->count == 1)
            ret = 0;
        else
            msg_warn("unexpected protocol greeting: \"%.100s\", expected \"%s\"",
                     got ? got : "(none)", protocol);
    }
    attr_list_free(list);
    return ret;
}

/* A message of one data byte, with room for control data. */
static void
attr_msg_init(struct msghdr *msg, struct iovec *iov, char *byte, void *control, size_t len)
{
    memset(msg, 0, sizeof(*msg));
    iov->iov_base = byte;
    iov->iov_len = 1;
    msg->msg_iov = iov;
    msg->msg_iovlen = 1;
    msg->msg_control = control;
    msg->msg_controllen = len;
}

int
attr_send_fd(int sock, int fd)
{
    struct msghdr msg;
    struct iovec iov;
    struct cmsghdr *cmsg;
    union {
        char    buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    }       control;
    char    byte = 0;
    ssize_t n;

    memset(&control, 0, sizeof(control));
    attr_msg_init(&msg, &iov, &byte, control.buf, sizeof(control.buf));
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    do {
        n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == 1 ? 0 : -1;
}

/* Close every descriptor carried in msg; return the first (or -1). */
static int
attr_take_fds(struct msghdr *msg)
{
    struct cmsghdr *cmsg;
    int     result = -1;
    int     fd;
    size_t  i, count;

    for (cmsg = CMSG_FIRSTHDR(msg); cmsg; cmsg = CMSG_NXTHDR(msg, cmsg)) {
        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS
            || cmsg->cmsg_len < CMSG_LEN(0))
            continue;
        count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < count; i++) {
            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            if (result < 0)
                result = fd;
            else
                close(fd);
        }
    }
    return result;
}

int
attr_recv_fd(int sock)
{
    return attr_recv_fd_wait(sock, ATTR_FD_TIMEOUT);
}

int
attr_recv_fd_wait(int sock, int timeout)
{
    struct msghdr msg;
    struct iovec iov;
    struct pollfd pfd;
    union {
        char    buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    }       control;
    char    byte;
    ssize_t n;
    int     fd;

    pfd.fd = sock;
    pfd.events = POLLIN;
    do {
        n = poll(&pfd, 1, timeout * 1000);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        if (n == 0)
            errno = ETIMEDOUT;
        return -1;
    }
    attr_msg_init(&msg, &iov, &byte, control.buf, sizeof(control.buf));
    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    fd = attr_take_fds(&msg);
    if (msg.msg_flags & MSG_CTRUNC) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}
