/*
 * msg.c - logging in Postfix's format.
 *
 * Interface: msg.h. A line is formatted once into a stack buffer (no heap
 * allocation, so mem_alloc() may call msg_fatal() safely), control
 * characters are replaced by '?', and the line goes to stderr (MSG_STDERR)
 * and to one of: syslog(3), the postlog datagram socket
 * (<queue_directory>/public/postlog), or the maillog file directly when
 * the socket cannot be reached and the file name starts with one of the
 * allowed prefixes, else stderr. The settings come from the caller
 * (msg_logging_setup(); msg_logging_init() in lib/global reads main.cf):
 * this layer knows nothing of main.cf.
 *
 * SECURITY: formatted text may contain peer data; it is cut at
 * MSG_LINE_MAX bytes and control characters become '?', so a peer can
 * neither forge extra log lines nor grow a line without bound. The maillog
 * file is only opened directly when it passes maillog_check() (an
 * absolute name under one of $maillog_file_prefixes: lib/util/maillog.c).
 *
 * DIAGNOSTICS: msg_fatal() exits with status 1 (msg_fatal_status() with
 * its own), msg_panic() aborts; a fatal error while logging a fatal error
 * exits at once. msg_logging_init() only warns: an unknown syslog_facility
 * (mail is used) and an unusable maillog_file (the reason from
 * maillog_check()).
 *
 * Per line: the pid comes from my_pid() (no getpid() call) and the
 * postlog socket is fstat()ed again only when the descriptor may have
 * been closed and reused since it was checked (in a forked child, after
 * closefrom_keep(), or when it is 0-2): see msg_postlog_valid(). When
 * postlogd's socket queue is full, a line waits up to a second for room
 * (a blocking send() bounded by SO_SNDTIMEO) before it goes to the
 * maillog file directly or stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "closefrom.h"
#include "maillog.h"
#include "mem.h"
#include "msg.h"
#include "mypid.h"
#include "vstring.h"

#define MSG_TIME_FORMAT "%b %d %H:%M:%S"
#define MSG_NAME_MAX    64
#define MSG_PATH_MAX    1024
#define MSG_FULL_MAX    (MSG_LINE_MAX + 256)
#define MSG_POSTLOG_WAIT_MS 1000        /* for room in postlogd's socket queue */
#define MSG_MAILLOG_PREFIXES "/var, /dev/stdout"    /* maillog_file_prefixes default */

int     msg_verbose;

static struct {
    int     flags;
    int     inited;             /* msg_logging_init() has run */
    int     in_fatal;
    char    program[MSG_NAME_MAX];
    char    syslog_name[MSG_NAME_MAX];
    char    tag[2 * MSG_NAME_MAX];      /* syslog ident, "postfix/smtpd" */
    int     tag_override;
    int     facility;
    int     syslog_open;
    char    hostname[256];
    char    maillog_file[MSG_PATH_MAX];
    int     maillog_ok;         /* maillog_file matches a prefix */
    int     maillog_mode;       /* when we create it (postlogd is not up yet) */
    char    postlog_path[MSG_PATH_MAX];
    int     postlog_fd;
    dev_t   postlog_dev;
    ino_t   postlog_ino;
    pid_t   postlog_pid;        /* the process that last checked postlog_fd */
    unsigned postlog_epoch;     /* ... and closefrom_epoch() then */
    int     postlog_sndtimeo;   /* SO_SNDTIMEO is set on postlog_fd */
} msg_state = {
    .program = "posthorn",
    .syslog_name = "postfix",
    .tag = "postfix/posthorn",
    .facility = LOG_MAIL,
    .postlog_fd = -1,
    .maillog_mode = 0644,               /* Postfix 3.7's */
};

static const char *const msg_levels[] = {
    "", "warning: ", "error: ", "fatal: ", "panic: ",
};

static const int msg_priorities[] = {
    LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT,
};

/* Bounded copy that always NUL-terminates. */
static void
msg_copy(char *dst, size_t dstlen, const char *src)
{
    size_t  n = strlen(src);

    if (dstlen == 0)
        return;
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

void
msg_printable(char *dst, size_t dstlen, const char *src)
{
    size_t  i;
    unsigned char ch;

    if (dstlen == 0)
        return;
    for (i = 0; i + 1 < dstlen && src[i]; i++) {
        ch = (unsigned char) src[i];
        dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char) ch;
    }
    dst[i] = 0;
}

static void
msg_make_tag(void)
{
    if (!msg_state.tag_override)
        snprintf(msg_state.tag, sizeof(msg_state.tag), "%s/%s",
                 msg_state.syslog_name, msg_state.program);
    if (msg_state.syslog_open) {
        closelog();
        msg_state.syslog_open = 0;
    }
}

void
msg_init(const char *program, int flags)
{
    const char *slash = strrchr(program, '/');

    msg_copy(msg_state.program, sizeof(msg_state.program),
             slash ? slash + 1 : program);
    msg_state.flags = flags;
    msg_make_tag();
}

void
msg_set_tag(const char *tag)
{
    msg_state.tag_override = (tag != NULL);
    if (tag)
        msg_copy(msg_state.tag, sizeof(msg_state.tag), tag);
    msg_make_tag();
}

void
msg_set_flags(int flags)
{
    msg_state.flags = flags;
}

int
msg_get_flags(void)
{
    return msg_state.flags;
}

const char *
msg_program(void)
{
    return msg_state.program;
}

static const struct {
    const char *name;
    int     facility;
} msg_facilities[] = {
    {"mail", LOG_MAIL}, {"daemon", LOG_DAEMON}, {"user", LOG_USER},
    {"auth", LOG_AUTH}, {"authpriv", LOG_AUTHPRIV}, {"syslog", LOG_SYSLOG},
    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
};

static int
msg_facility(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(msg_facilities) / sizeof(msg_facilities[0]); i++)
        if (strcasecmp(name, msg_facilities[i].name) == 0)
            return msg_facilities[i].facility;
    return -1;
}

void
msg_logging_setup(const MSG_LOG_SETTINGS *set)
{
    const char *name = set->syslog_name ? set->syslog_name : "";
    const char *fac = set->syslog_facility ? set->syslog_facility : "";
    const char *host = set->hostname ? set->hostname : "";
    const char *pfxs = set->maillog_file_prefixes && *set->maillog_file_prefixes ?
        set->maillog_file_prefixes : MSG_MAILLOG_PREFIXES;
    int     f = *fac ? msg_facility(fac) : LOG_MAIL;
    char   *why;

    msg_logging_close();
    msg_copy(msg_state.syslog_name, sizeof(msg_state.syslog_name),
             *name ? name : "postfix");
    if (f < 0)
        msg_warn("unknown syslog_facility \"%s\", using \"mail\"", fac);
    msg_state.facility = f >= 0 ? f : LOG_MAIL;
    if (*host)
        msg_copy(msg_state.hostname, sizeof(msg_state.hostname), host);
    else if (gethostname(msg_state.hostname, sizeof(msg_state.hostname) - 1) < 0)
        msg_copy(msg_state.hostname, sizeof(msg_state.hostname), "localhost");
    /* the first label only, as Postfix (and syslog) write it: "mail", not
     * "mail.example.com" */
    msg_state.hostname[strcspn(msg_state.hostname, ".")] = 0;
    msg_copy(msg_state.maillog_file, sizeof(msg_state.maillog_file),
             set->maillog_file ? set->maillog_file : "");
    if (set->maillog_file_permissions && maillog_mode(set->maillog_file_permissions) > 0)
        msg_state.maillog_mode = maillog_mode(set->maillog_file_permissions);
    why = maillog_check(msg_state.maillog_file, pfxs, NULL, NULL);
    msg_state.maillog_ok = *msg_state.maillog_file && why == NULL;
    snprintf(msg_state.postlog_path, sizeof(msg_state.postlog_path),
             "%s/public/postlog", set->queue_directory ? set->queue_directory : "");
    msg_state.inited = 1;
    msg_make_tag();
    if (why != NULL) {
        msg_warn("%s", why);
        mem_free(why);
    }
}

void
msg_logging_close(void)
{
    if (msg_state.postlog_fd >= 0) {
        close(msg_state.postlog_fd);
        msg_state.postlog_fd = -1;
    }
    if (msg_state.syslog_open) {
        closelog();
        msg_state.syslog_open = 0;
    }
}

/*
 * Before a chroot: load the time zone (log timestamps stay local time
 * without /etc/localtime in the jail) and connect to the log sink now,
 * while /dev/log and the absolute postlog path are still reachable.
 */
static int msg_postlog_connect(void);

void
msg_logging_prepare_chroot(void)
{
    tzset();
    if (msg_state.flags & MSG_NOSYSLOG)
        return;
    if (msg_state.inited && msg_state.maillog_file[0]) {
        if (msg_state.postlog_fd < 0 && !(msg_state.flags & MSG_DIRECT))
            (void) msg_postlog_connect();
    } else if (!msg_state.syslog_open) {
        openlog(msg_state.tag, LOG_PID | LOG_NDELAY, msg_state.facility);
        msg_state.syslog_open = 1;
    }
}

/* Connect to path as a unix-dgram client; fd or -1. */
static int
msg_postlog_connect_path(const char *path)
{
    struct sockaddr_un sun;
    int     fd;

    if (strlen(path) >= sizeof(sun.sun_path))
        return -1;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path));
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int
msg_postlog_connect(void)
{
    struct stat st;
    int     fd;

    /* A chrooted daemon runs in queue_directory: try the relative name. */
    fd = msg_postlog_connect_path(msg_state.postlog_path);
    if (fd < 0)
        fd = msg_postlog_connect_path("public/postlog");
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    msg_state.postlog_fd = fd;
    msg_state.postlog_sndtimeo = 0;
    msg_state.postlog_dev = st.st_dev;
    msg_state.postlog_ino = st.st_ino;
    msg_state.postlog_pid = my_pid();
    msg_state.postlog_epoch = closefrom_epoch();
    return 0;
}

/*
 * Is our postlog fd still the socket we opened (not closed and reused)?
 * Only fstat() when it may have changed: first in a forked child, after
 * closefrom_keep(), and always for a descriptor 0-2 (dup2() targets).
 */
static int
msg_postlog_valid(void)
{
    struct stat st;

    if (msg_state.postlog_fd < 0)
        return 0;
    if (msg_state.postlog_fd > 2 && msg_state.postlog_pid == my_pid()
        && msg_state.postlog_epoch == closefrom_epoch())
        return 1;
    if (fstat(msg_state.postlog_fd, &st) < 0 || !S_ISSOCK(st.st_mode)
        || st.st_dev != msg_state.postlog_dev
        || st.st_ino != msg_state.postlog_ino) {
        msg_state.postlog_fd = -1;      /* not ours any more: do not close */
        return 0;
    }
    msg_state.postlog_pid = my_pid();
    msg_state.postlog_epoch = closefrom_epoch();
    return 1;
}

/* The monotonic clock in milliseconds. */
static long
msg_now_ms(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * postlogd's socket queue is full (net.unix.max_dgram_qlen is only 10):
 * a blocking send() bounded by SO_SNDTIMEO (set on the first wait per
 * connection) waits for room, up to MSG_POSTLOG_WAIT_MS. The kernel
 * sleeps until room appears and tries again when another process took it
 * first; poll() + send(MSG_DONTWAIT) lost the line (or, retried, spun:
 * poll() can report room that send() does not find).
 */
static int
msg_postlog_wait_send(const char *line, size_t len)
{
    struct timeval tv = {.tv_sec = MSG_POSTLOG_WAIT_MS / 1000,
    .tv_usec = (MSG_POSTLOG_WAIT_MS % 1000) * 1000};
    long    end = msg_now_ms() + MSG_POSTLOG_WAIT_MS;

    if (!msg_state.postlog_sndtimeo) {
        if (setsockopt(msg_state.postlog_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
            return -1;
        msg_state.postlog_sndtimeo = 1;
    }
    do {
        if (send(msg_state.postlog_fd, line, len, MSG_NOSIGNAL) >= 0)
            return 0;
    } while (errno == EINTR && msg_now_ms() < end);
    return -1;
}

static int
msg_postlog_send(const char *line, size_t len)
{
    int     attempt;

    for (attempt = 0; attempt < 2; attempt++) {
        if (!msg_postlog_valid() && msg_postlog_connect() < 0)
            return -1;
        if (send(msg_state.postlog_fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
            return 0;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return msg_postlog_wait_send(line, len);
        /* postlogd restarted or gone: reconnect once. */
        close(msg_state.postlog_fd);
        msg_state.postlog_fd = -1;
    }
    return -1;
}

static void
msg_write_all(int fd, const char *buf, size_t len)
{
    ssize_t n;

    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t) n;
    }
}

static void
msg_stderr(int level, const char *text)
{
    char    line[MSG_FULL_MAX];
    int     n;

    n = snprintf(line, sizeof(line) - 1, "%s: %s%s",
                 msg_state.program, msg_levels[level], text);
    if (n < 0)
        return;
    if ((size_t) n > sizeof(line) - 2)
        n = (int) sizeof(line) - 2;
    line[n++] = '\n';
    msg_write_all(STDERR_FILENO, line, (size_t) n);
}

/* Build "<time> <host> <tag_pid_text>" into buf; returns length. */
static size_t
msg_logline(char *buf, size_t buflen, const char *tag_pid_text)
{
    char    ts[64];
    time_t  now = time(NULL);
    struct tm tm;
    size_t  n;

    if (localtime_r(&now, &tm) == NULL
        || strftime(ts, sizeof(ts), MSG_TIME_FORMAT, &tm) == 0)
        msg_copy(ts, sizeof(ts), "Jan 01 00:00:00");
    if (msg_state.hostname[0] == 0
        && gethostname(msg_state.hostname, sizeof(msg_state.hostname) - 1) < 0)
        msg_copy(msg_state.hostname, sizeof(msg_state.hostname), "localhost");
    snprintf(buf, buflen, "%s %s ", ts, msg_state.hostname);
    n = strlen(buf);
    msg_printable(buf + n, buflen - n, tag_pid_text);
    return strlen(buf);
}

void
msg_format_logline(struct VSTRING *out, const char *tag_pid_text)
{
    char    line[MSG_LINE_MAX + 128 + 1];

    msg_logline(line, sizeof(line), tag_pid_text);
    vstring_strcpy(out, line);
}

static void
msg_maillog(int level, const char *text)
{
    char    body[MSG_FULL_MAX];
    char    line[MSG_FULL_MAX + 300];
    size_t  len;
    int     fd;

    snprintf(body, sizeof(body), "%s[%ld]: %s%s", msg_state.tag,
             (long) my_pid(), msg_levels[level], text);
    len = msg_logline(line, sizeof(line) - 1, body);
    if (!(msg_state.flags & MSG_DIRECT) && msg_postlog_send(line, len) == 0)
        return;
    line[len++] = '\n';
    if (msg_state.maillog_ok
        && (fd = open(msg_state.maillog_file,
                      O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC,
                      (mode_t) msg_state.maillog_mode)) >= 0) {
        msg_write_all(fd, line, len);
        close(fd);
    } else if (!(msg_state.flags & MSG_STDERR)) {
        msg_write_all(STDERR_FILENO, line, len);
    }
}

static void
msg_syslog(int level, const char *text)
{
    if (!msg_state.syslog_open) {
        openlog(msg_state.tag, LOG_PID | LOG_NDELAY, msg_state.facility);
        msg_state.syslog_open = 1;
    }
    syslog(msg_priorities[level], "%s%s", msg_levels[level], text);
}

void
msg_vlog(int level, const char *fmt, va_list ap)
{
    char    raw[MSG_LINE_MAX + 1];
    char    text[MSG_LINE_MAX + 1];
    int     saved_errno = errno;

    if (level < MSG_INFO || level > MSG_PANIC)
        level = MSG_PANIC;
    errno = saved_errno;                /* for %m */
    vsnprintf(raw, sizeof(raw), fmt, ap);
    msg_printable(text, sizeof(text), raw);
    if (msg_state.flags & MSG_STDERR)
        msg_stderr(level, text);
    if (!(msg_state.flags & MSG_NOSYSLOG)) {
        if (msg_state.inited && msg_state.maillog_file[0])
            msg_maillog(level, text);
        else
            msg_syslog(level, text);
    }
    errno = saved_errno;
}

void
msg_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_INFO, fmt, ap);
    va_end(ap);
}

void
msg_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_WARN, fmt, ap);
    va_end(ap);
}

void
msg_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_ERROR, fmt, ap);
    va_end(ap);
}

void
msg_fatal(const char *fmt, ...)
{
    va_list ap;

    if (msg_state.in_fatal++)           /* fatal while logging a fatal */
        _exit(1);
    va_start(ap, fmt);
    msg_vlog(MSG_FATAL, fmt, ap);
    va_end(ap);
    exit(1);
}

void
msg_fatal_status(int status, const char *fmt, ...)
{
    va_list ap;

    if (msg_state.in_fatal++)
        _exit(status);
    va_start(ap, fmt);
    msg_vlog(MSG_FATAL, fmt, ap);
    va_end(ap);
    exit(status);
}

void
msg_panic(const char *fmt, ...)
{
    va_list ap;

    if (msg_state.in_fatal++ == 0) {
        va_start(ap, fmt);
        msg_vlog(MSG_PANIC, fmt, ap);
        va_end(ap);
    }
    abort();
}
