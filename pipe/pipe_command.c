/*
 * pipe_command.c - run a pipe service's command on one message.
 *
 * Interface (pipe.h): pipe_command_run() forks the command with the
 * expanded argv (no shell), writes the message to its standard input
 * with the lines flags= asks for (F "From sender date", R Return-Path:,
 * O X-Original-To:, D Delivered-To:, in that order; addresses quoted as
 * RFC 822; compared with Debian's Postfix 3.7), "." doubling a
 * leading dot, ">" quoting "From " lines, B a blank line at the end,
 * every line ended by eol=. The command's output (standard output and
 * error, at most PIPE_OUTPUT_MAX bytes kept) goes into the reason. The
 * time limit (<transport>_time_limit) covers the whole run; then the
 * command's process group is killed: "Command time limit exceeded".
 * The exit status is judged by command_status() (lib/global: sysexits
 * as Postfix). An exec failure exits 75 (EX_TEMPFAIL: deferred) with
 * Postfix's words as its output ("pipe: fatal: pipe_command: execvp
 * /path: No such file or directory").
 *
 * SECURITY: the child starts a new session, closes every descriptor but
 * 0-2, takes user='s groups (initgroups) and ids (setresgid, setresuid,
 * then a check that root cannot come back), dies with its parent
 * (PR_SET_PDEATHSIG), clears its environment but for $export_environment
 * and execs argv[0] directly. The parent stays root but only writes to
 * the pipe and reads from the other.
 *
 * DIAGNOSTICS: none logged; every failure is the recipients' result.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "closefrom.h"
#include "command_status.h"
#include "mem.h"
#include "pipe.h"

#define PIPE_OUTPUT_MAX 500

typedef struct PIPE_IO {
    const PIPE_RUN *run;
    STREAM *in;                 /* the command's standard input */
    int     out_fd;             /* its output, -1 at EOF */
    VSTRING *output;
    time_t  deadline;
    int     timed_out;
    int     bol;
} PIPE_IO;

static void
pipe_child(const PIPE_RUN *run, int in_fd, int out_fd, pid_t parent)
{
    const PIPE_ATTR *a = run->attr;

    signal(SIGPIPE, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
    alarm(0);
    setsid();
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0
        || closefrom_keep(3, NULL, 0, 0) < 0)
        _exit(75);
    if (initgroups(a->user_name, a->gid) < 0 || setresgid(a->gid, a->gid, a->gid) < 0
        || setresuid(a->uid, a->uid, a->uid) < 0 || setuid(0) == 0)
        _exit(75);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(75);
    if (a->directory && chdir(a->directory) < 0) {
        fprintf(stderr, "chdir %s: %s\n", a->directory, strerror(errno));
        _exit(75);
    }
    clearenv();
    for (size_t i = 0; i < run->env->argc; i++)
        putenv(run->env->argv[i]);
    execvp(run->argv->argv[0], run->argv->argv);
    fprintf(stderr, "pipe: fatal: pipe_command: execvp %s: %s\n", run->argv->argv[0],
            strerror(errno));
    _exit(75);
}

/* Read what the command printed; 1 at EOF or error. */
static int
pipe_drain(PIPE_IO *io)
{
    char    buf[4096];
    ssize_t n;

    for (;;) {
        if ((n = read(io->out_fd, buf, sizeof(buf))) > 0) {
            size_t  room = PIPE_OUTPUT_MAX - LEN(io->output);

            vstring_ncat(io->output, buf, (size_t) n < room ? (size_t) n : room);
            continue;
        }
        if (n == 0)
            return 1;
        return (errno == EAGAIN || errno == EINTR) ? 0 : 1;
    }
}

/* Wait up to the deadline for fd to take data (fd -1: for EOF on the
 * output); reads output meanwhile. 0 ready, -1 timed out or failed. */
static int
pipe_wait(PIPE_IO *io, int fd)
{
    for (;;) {
        struct pollfd p[2] = {{io->out_fd, POLLIN, 0}, {fd, POLLOUT, 0}};
        long    ms = (long) (io->deadline - time(NULL)) * 1000;
        int     n;

        if (ms <= 0) {
            io->timed_out = 1;
            return -1;
        }
        if (io->out_fd < 0 && fd < 0)
            return 0;
        n = poll(io->out_fd >= 0 ? p : p + 1, (io->out_fd >= 0) + (fd >= 0),
                 ms > 1000 ? 1000 : (int) ms);
        if (n < 0 && errno != EINTR)
            return -1;
        if (n <= 0)
            continue;
        if (io->out_fd >= 0 && p[0].revents && pipe_drain(io)) {
            close(io->out_fd);
            io->out_fd = -1;
        }
        if (fd >= 0 && p[1].revents)
            return 0;
    }
}

static ssize_t
pipe_write_fn(void *ctx, int fd, void *buf, size_t len)
{
    PIPE_IO *io = ctx;
    ssize_t n;

    for (;;) {
        if (pipe_wait(io, fd) < 0) {
            errno = io->timed_out ? ETIMEDOUT : errno;
            return -1;
        }
        n = write(fd, buf, len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        return n;
    }
}

static int
pipe_copy_line(const char *data, size_t len, int is_eol, void *ctx)
{
    PIPE_IO *io = ctx;
    int     flags = io->run->attr->flags;

    if (io->bol && (flags & PIPE_FLAG_DOT) && len > 0 && data[0] == '.')
        stream_putc(io->in, '.');
    if (io->bol && (flags & PIPE_FLAG_QUOTE_FROM) && len >= 5 && memcmp(data, "From ", 5) == 0)
        stream_putc(io->in, '>');
    stream_write(io->in, data, len);
    if (is_eol)
        stream_puts(io->in, io->run->attr->eol);
    io->bol = is_eol;
    return stream_error(io->in) ? 1 : 0;
}

/* The sender for From_ and Return-Path: quoted, null_sender= for <>. */
static void
pipe_sender(VSTRING *out, const PIPE_RUN *run)
{
    if (*run->req->sender == 0) {
        vstring_strcpy(out, run->attr->null_sender);
        return;
    }
    address_quote(out, run->req->sender);
    for (char *p = STR(out); *p; p++)
        if ((unsigned char) *p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* The message: 0, or -1 when the queue file could not be read. */
static int
pipe_copy(PIPE_IO *io)
{
    const PIPE_RUN *run = io->run;
    int     flags = run->attr->flags;
    const char *eol = run->attr->eol;
    VSTRING *s = vstring_alloc(ADDRESS_MAX * 2 + 3);
    char    date[64];
    time_t  now = time(NULL);
    struct tm tm;
    int     ret;

    pipe_sender(s, run);
    if (flags & PIPE_FLAG_FROM) {
        localtime_r(&now, &tm);
        strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
        stream_printf(io->in, "From %s  %s%s", STR(s), date, eol);
    }
    if (flags & PIPE_FLAG_RETURN)
        stream_printf(io->in, "Return-Path: <%s>%s", STR(s), eol);
    if ((flags & PIPE_FLAG_ORIG_RCPT) && run->orig_rcpt) {
        address_quote(s, run->orig_rcpt);
        stream_printf(io->in, "X-Original-To: %s%s", STR(s), eol);
    }
    if ((flags & PIPE_FLAG_DELIVERED) && run->delivered) {
        address_quote(s, run->delivered);
        stream_printf(io->in, "Delivered-To: %s%s", STR(s), eol);
    }
    vstring_free(s);
    ret = deliver_read_content((DELIVER_REQUEST *) run->req, pipe_copy_line, io);
    if (!io->bol)
        stream_puts(io->in, eol);
    if (flags & PIPE_FLAG_BLANK)
        stream_puts(io->in, eol);
    (void) stream_flush(io->in);
    return ret < 0 ? -1 : 0;
}

/* Wait for the command until the deadline; 0 exited, -1 time is up. */
static int
pipe_reap(PIPE_IO *io, pid_t pid, int *status)
{
    while (!io->timed_out && io->out_fd >= 0)
        (void) pipe_wait(io, -1);
    while (!io->timed_out) {
        pid_t   r = waitpid(pid, status, WNOHANG);

        if (r == pid || (r < 0 && errno != EINTR))
            return 0;
        if (time(NULL) >= io->deadline)
            io->timed_out = 1;
        else
            (void) poll(NULL, 0, 50);
    }
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return -1;
}

int
pipe_command_run(const PIPE_RUN *run, VSTRING *dsn, VSTRING *why)
{
    PIPE_IO io;
    int     in[2], out[2], status = 0, read_err, result;
    pid_t   pid, self = getpid();
    void    (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);

    memset(&io, 0, sizeof(io));
    io.run = run;
    io.deadline = time(NULL) + run->time_limit;
    io.bol = 1;
    if (pipe(in) < 0 || pipe(out) < 0 || (pid = fork()) < 0) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "cannot run command: %s", strerror(errno));
        signal(SIGPIPE, old_pipe);
        return DELIVER_DEFER;
    }
    if (pid == 0)
        pipe_child(run, in[0], out[1], self);
    close(in[0]);
    close(out[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    io.out_fd = out[0];
    io.output = vstring_alloc(PIPE_OUTPUT_MAX);
    io.in = stream_fdopen(in[1]);
    stream_set_io(io.in, NULL, pipe_write_fn, &io);
    read_err = pipe_copy(&io);
    (void) stream_close(io.in);
    if (pipe_reap(&io, pid, &status) < 0 || read_err) {
        vstring_strcpy(dsn, io.timed_out ? "5.3.0" : "4.3.0");
        vstring_sprintf(why, io.timed_out ? "Command time limit exceeded: \"%s\""
                        : "queue file read error while delivering to \"%s\"",
                        run->argv->argv[0]);
        result = io.timed_out ? DELIVER_BOUNCE : DELIVER_DEFER;
    } else {
        result = command_status(status, run->argv->argv[0], io.output, dsn, why);
    }
    if (io.out_fd >= 0)
        close(io.out_fd);
    vstring_free(io.output);
    signal(SIGPIPE, old_pipe);
    return result;
}
