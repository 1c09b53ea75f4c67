/*
 * postqueue_list.c - postqueue -p and -j: read the showq listing and
 * print it sendmail-style or as JSON lines.
 *
 * Interface (postqueue.h): postqueue_format(), postqueue_list().
 *
 * Text format (as Postfix's postqueue):
 *   -Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
 *   ID[*!#]     size Www Mmm dd hh:mm:ss  sender
 *                                       (reason, right-aligned to column 78)
 *                                            recipient   (41 spaces in)
 *   <blank line>
 *   -- N Kbytes in M Requests.          ("Mail queue is empty" if none)
 * '*' active, '!' hold, '#' forced to expire. A reason is printed above
 * the first recipient it applies to, and again only when it changes.
 *
 * JSON: one object per message and line, members queue_name, queue_id,
 * arrival_time, message_size, forced_expire, sender, recipients
 * [{address, delay_reason (only when there is one)}].
 *
 * When public/showq cannot be reached, root runs the showq program
 * itself on a socket pair ("Mail system is down -- accessing queue
 * directly"); anyone else gets a fatal error.
 *
 * SECURITY: the listing is read incrementally with every name and value
 * bounded (POSTQUEUE_NAME_MAX, POSTQUEUE_VALUE_MAX), so a message with
 * many recipients needs no attribute-count limit; JSON strings are
 * escaped; control characters never reach the terminal.
 *
 * DIAGNOSTICS: fatal (exit 69): socketpair/fork failures, showq
 * unreachable in the fallback path, a malformed showq reply. A showq that
 * is down is a warning ("Mail system is down -- accessing queue
 * directly"); an exec failure of the fallback is a warning and exit 69.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "argv.h"
#include "attr.h"
#include "config.h"
#include "connect.h"
#include "mem.h"
#include "msg.h"
#include "vstring.h"
#include "postqueue.h"

#define SHOWQ_SOCKET    "public/showq"
#define SHOWQ_PROTOCOL  "mail_queue_list_protocol"

typedef struct PQ_MSG {
    VSTRING *queue;
    VSTRING *id;
    long    time;
    long    size;
    int     forced;
    VSTRING *sender;
    ARGV   *rcpts;
    ARGV   *reasons;
} PQ_MSG;

/* One NUL-terminated string; 1 = got it, -1 = EOF, error or too long. */
static int
pq_get(STREAM *in, VSTRING *buf, size_t max)
{
    int     ch;

    vstring_reset(buf);
    while ((ch = stream_getc(in)) != STREAM_EOF) {
        if (ch == 0)
            return 1;
        if (LEN(buf) >= max)
            return -1;
        vstring_addch(buf, ch);
    }
    return -1;
}

/* Read one message; 1 = got one, 0 = end of the listing, -1 = error. */
static int
pq_read_msg(STREAM *in, PQ_MSG *m, VSTRING *name, VSTRING *value)
{
    int     n;

    for (n = 0;; n++) {
        if (pq_get(in, name, POSTQUEUE_NAME_MAX) < 0)
            return -1;
        if (LEN(name) == 0)
            return n == 0 ? 0 : 1;
        if (pq_get(in, value, POSTQUEUE_VALUE_MAX) < 0)
            return -1;
        if (strcmp(STR(name), "queue_name") == 0)
            vstring_strcpy(m->queue, STR(value));
        else if (strcmp(STR(name), "queue_id") == 0)
            vstring_strcpy(m->id, STR(value));
        else if (strcmp(STR(name), "time") == 0)
            m->time = strtol(STR(value), NULL, 10);
        else if (strcmp(STR(name), "size") == 0)
            m->size = strtol(STR(value), NULL, 10);
        else if (strcmp(STR(name), "forced_expire") == 0)
            m->forced = atoi(STR(value)) != 0;
        else if (strcmp(STR(name), "sender") == 0)
            vstring_strcpy(m->sender, STR(value));
        else if (strcmp(STR(name), "recipient") == 0) {
            argv_add(m->rcpts, STR(value));
            argv_add(m->reasons, "");
        } else if (strcmp(STR(name), "reason") == 0 && m->reasons->argc > 0) {
            size_t  last = m->reasons->argc - 1;

            argv_truncate(m->reasons, last);
            argv_add(m->reasons, STR(value));
        }
    }
}

/* Copy with control characters as '?' (showq already does; be sure). */
static const char *
pq_safe(VSTRING *out, const char *in)
{
    vstring_reset(out);
    for (const unsigned char *cp = (const unsigned char *) in; *cp; cp++)
        vstring_addch(out, (*cp < 0x20 || *cp == 0x7f) ? '?' : *cp);
    return STR(out);
}

static void
pq_print_text(STREAM *out, const PQ_MSG *m)
{
    VSTRING *idstat = vstring_alloc(POSTQUEUE_VALUE_MAX);
    VSTRING *tmp = vstring_alloc(POSTQUEUE_VALUE_MAX + 2);
    VSTRING *why = vstring_alloc(POSTQUEUE_VALUE_MAX + 2);
    const char *last = "";
    time_t  t = (time_t) m->time;
    char    date[32];
    char   *ct = ctime(&t);

    snprintf(date, sizeof(date), "%s", ct ? ct : "");
    vstring_strcpy(idstat, pq_safe(tmp, STR(m->id)));
    if (strcmp(STR(m->queue), "active") == 0)
        vstring_addch(idstat, '*');
    else if (strcmp(STR(m->queue), "hold") == 0)
        vstring_addch(idstat, '!');
    else if (m->forced)
        vstring_addch(idstat, '#');
    stream_printf(out, "%-11s%8ld %20.20s %s\n", STR(idstat), m->size, date,
                  pq_safe(tmp, STR(m->sender)));
    for (size_t i = 0; i < m->rcpts->argc; i++) {
        const char *reason = m->reasons->argv[i];

        if (*reason && strcmp(reason, last) != 0) {
            vstring_sprintf(why, "(%s)", pq_safe(tmp, reason));
            stream_printf(out, "%78s\n", STR(why));
            last = reason;
        }
        stream_printf(out, "%41s%s\n", "", pq_safe(tmp, m->rcpts->argv[i]));
    }
    stream_puts(out, "\n");
    vstring_free(idstat);
    vstring_free(tmp);
    vstring_free(why);
}

/* A JSON string literal. */
static void
pq_json_str(STREAM *out, const char *s)
{
    stream_putc(out, '"');
    for (const unsigned char *cp = (const unsigned char *) s; *cp; cp++) {
        switch (*cp) {
        case '"':  stream_puts(out, "\\\""); break;
        case '\\': stream_puts(out, "\\\\"); break;
        case '\b': stream_puts(out, "\\b"); break;
        case '\f': stream_puts(out, "\\f"); break;
        case '\n': stream_puts(out, "\\n"); break;
        case '\r': stream_puts(out, "\\r"); break;
        case '\t': stream_puts(out, "\\t"); break;
        default:
            if (*cp < 0x20 || *cp == 0x7f)
                stream_printf(out, "\\u%04X", *cp);
            else
                stream_putc(out, *cp);
        }
    }
    stream_putc(out, '"');
}

static void
pq_print_json(STREAM *out, const PQ_MSG *m)
{
    stream_puts(out, "{\"queue_name\": ");
    pq_json_str(out, STR(m->queue));
    stream_puts(out, ", \"queue_id\": ");
    pq_json_str(out, STR(m->id));
    stream_printf(out, ", \"arrival_time\": %ld, \"message_size\": %ld, \"forced_expire\": %s"
                  ", \"sender\": ", m->time, m->size, m->forced ? "true" : "false");
    pq_json_str(out, STR(m->sender));
    stream_puts(out, ", \"recipients\": [");
    for (size_t i = 0; i < m->rcpts->argc; i++) {
        stream_puts(out, i ? ", {\"address\": " : "{\"address\": ");
        pq_json_str(out, m->rcpts->argv[i]);
        if (*m->reasons->argv[i]) {
            stream_puts(out, ", \"delay_reason\": ");
            pq_json_str(out, m->reasons->argv[i]);
        }
        stream_putc(out, '}');
    }
    stream_puts(out, "]}\n");
}

static void
pq_msg_reset(PQ_MSG *m)
{
    vstring_reset(m->queue);
    vstring_reset(m->id);
    vstring_reset(m->sender);
    m->time = m->size = 0;
    m->forced = 0;
    argv_truncate(m->rcpts, 0);
    argv_truncate(m->reasons, 0);
}

int
postqueue_format(STREAM *in, STREAM *out, int format)
{
    VSTRING *name = vstring_alloc(POSTQUEUE_NAME_MAX);
    VSTRING *value = vstring_alloc(POSTQUEUE_VALUE_MAX);
    PQ_MSG  m;
    long    total = 0, count = 0;
    int     rc;

    m.queue = vstring_alloc(POSTQUEUE_NAME_MAX);
    m.id = vstring_alloc(POSTQUEUE_VALUE_MAX);
    m.sender = vstring_alloc(POSTQUEUE_VALUE_MAX);
    m.rcpts = argv_alloc();
    m.reasons = argv_alloc();
    pq_msg_reset(&m);
    if (attr_expect_protocol(in, SHOWQ_PROTOCOL) < 0) {
        rc = -1;
    } else {
        while ((rc = pq_read_msg(in, &m, name, value)) > 0) {
            if (format == POSTQUEUE_FMT_JSON) {
                pq_print_json(out, &m);
            } else {
                if (count == 0)
                    stream_puts(out, "-Queue ID-  --Size-- ----Arrival Time---- "
                                "-Sender/Recipient-------\n");
                pq_print_text(out, &m);
            }
            total += m.size;
            count++;
            pq_msg_reset(&m);
        }
    }
    if (rc == 0 && format == POSTQUEUE_FMT_TEXT) {
        if (count == 0)
            stream_puts(out, "Mail queue is empty\n");
        else
            stream_printf(out, "-- %ld Kbytes in %ld Request%s.\n", total / 1024, count,
                          count == 1 ? "" : "s");
    }
    vstring_free(name);
    vstring_free(value);
    vstring_free(m.queue);
    vstring_free(m.id);
    vstring_free(m.sender);
    argv_free(m.rcpts);
    argv_free(m.reasons);
    if (stream_flush(out) < 0)
        rc = -1;
    return rc < 0 ? -1 : 0;
}

/* Root only: run $daemon_directory/showq on one end of a socket pair. */
static int
pq_run_showq(const char *config_dir, pid_t *pid)
{
    int     sv[2];
    char   *path;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        postqueue_fatal("socketpair: %m");
    path = mem_printf("%s/showq", var_daemon_dir);
    if ((*pid = fork()) < 0)
        postqueue_fatal("fork: %m");
    if (*pid == 0) {
        if (dup2(sv[1], STDIN_FILENO) < 0 || dup2(sv[1], STDOUT_FILENO) < 0)
            _exit(POSTQUEUE_EX_FATAL);
        execl(path, "showq", "-c", config_dir, "-d", "-u", (char *) 0);
        msg_warn("exec %s: %m", path);
        _exit(POSTQUEUE_EX_FATAL);
    }
    mem_free(path);
    close(sv[1]);
    return sv[0];
}

void
postqueue_list(int format, const char *config_dir)
{
    STREAM *in, *out;
    pid_t   pid = 0;
    int     fd, status;

    if ((fd = unix_connect(SHOWQ_SOCKET, 10)) < 0) {
        if (getuid() != 0)
            postqueue_fatal("Connect to the Postfix showq service: %m");
        msg_warn("Mail system is down -- accessing queue directly"
                 " (Connect to the Postfix showq service: %m)");
        fd = pq_run_showq(config_dir, &pid);
    }
    in = stream_fdopen(fd);
    stream_set_timeout(in, (int) var_ipc_timeout);
    out = stream_fdopen(STDOUT_FILENO);
    if (postqueue_format(in, out, format) < 0)
        postqueue_fatal("malformed showq server reply");
    stream_free_keep_fd(out);
    (void) stream_close(in);
    if (pid > 0)
        (void) waitpid(pid, &status, 0);
}
