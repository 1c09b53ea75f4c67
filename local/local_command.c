/*
 * local_command.c - delivery to a command (|command in an alias or
 * .forward, or mailbox_command).
 *
 * Interface (local.h): local_command_deliver(st, addr, priv, command,
 * dsn, why) runs the command as local_priv_run(priv) (never root) from
 * the delivery child (local_child.c), writes the message to its standard
 * input with a "From " line (quoted sender), Return-Path:, X-Original-To:
 * and Delivered-To: (no >From quoting, no blank line), collects its
 * output for the reason text and
 * maps its exit status with command_status() (lib/global: sysexits.h
 * codes as Postfix, 75 EX_TEMPFAIL defers, 67 EX_NOUSER bounces "user
 * unknown", ...; other codes bounce "Command died with status N: "command""). A command that
 * outlives command_time_limit is killed (its whole process group).
 *
 * How it is run: with local_command_shell set, "shell-words command";
 * otherwise directly (argv split at white space, looked up in PATH) unless
 * the command has shell meta characters, then "/bin/sh -c command".
 *
 * SECURITY: the command text is the administrator's or the user's own
 * (alias, .forward, :include:, main.cf); message data reaches the command
 * only as environment variables and standard input. Commands never run
 * as root: priv uid 0 becomes default_privs (local_priv_run). The
 * grandchild starts a new session, closes every descriptor but 0-2
 * (closefrom_keep), then drops all ids to the user (the delivery child
 * itself keeps root as real uid, so the user can stop only the command,
 * which command_time_limit then ends), and dies with the delivery child
 * (PR_SET_PDEATHSIG).
 *
 * DIAGNOSTICS: none logged here; a command's failure becomes the
 * recipient's result (sysexits codes, signals, time limit, "queue file
 * read error"); the command process exits 71 or 75 (a deferral) when it
 * cannot be set up.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "closefrom.h"
#include "command_status.h"
#include "local.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"

#define LOCAL_CMD_OUTPUT_MAX  500
#define LOCAL_CMD_PATH        "/usr/bin:/bin"

typedef struct CMD_CTX {
    LOCAL_STATE *st;
    const LOCAL_ADDR *a;
    const LOCAL_PRIV *priv;
    const char *command;
    ARGV   *env;
    ARGV   *argv;
    VSTRING *output;
    int     out_fd;
} CMD_CTX;

static volatile sig_atomic_t local_cmd_timeout;

static void
local_cmd_alarm(int sig)
{
    local_cmd_timeout = 1;
}

/* Meta characters, or a first word that is a shell built-in. */
int
local_shell_meta(const char *command)
{
    static const char *builtins[] = {"exit", "exec", "cd", ".", ":", "export", "set",
        "umask", "ulimit", "eval", "read", "trap", "wait", "test", "[", "if", "for",
    "while", "case", "until", 0};
    size_t  n = strcspn(command + strspn(command, " \t"), " \t");
    const char *w = command + strspn(command, " \t");
    int     i;

    if (strpbrk(command, "\"'`\\$&|;()<>*?[]{}~#!=\n") != NULL)
        return 1;
    for (i = 0; builtins[i]; i++)
        if (strlen(builtins[i]) == n && strncmp(w, builtins[i], n) == 0)
            return 1;
    return 0;
}

/* Read what the command printed; 1 at EOF. Output beyond the limit is dropped. */
static int
local_cmd_drain(CMD_CTX *c)
{
    char    buf[4096];
    ssize_t n;

    for (;;) {
        n = read(c->out_fd, buf, sizeof(buf));
        if (n > 0) {
            size_t  room = LOCAL_CMD_OUTPUT_MAX - LEN(c->output);

            vstring_ncat(c->output, buf, (size_t) n < room ? (size_t) n : room);
            continue;
        }
        if (n == 0)
            return 1;
        return (errno == EAGAIN || errno == EINTR) ? 0 : 1;
    }
}

/* The stream's write function for the command's standard input: waits
 * until the pipe takes data, reading the command's output meanwhile (a
 * command that fills its output pipe before reading would block us). */
static ssize_t
local_cmd_write(void *ctx, int fd, void *buf, size_t len)
{
    CMD_CTX *c = ctx;
    ssize_t n;

    for (;;) {
        struct pollfd p[2] = {{fd, POLLOUT, 0}, {c->out_fd, POLLIN, 0}};

        if (local_cmd_timeout) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (poll(p, c->out_fd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (c->out_fd >= 0 && p[1].revents && local_cmd_drain(c)) {
            close(c->out_fd);
            c->out_fd = -1;
        }
        if (p[0].revents == 0)
            continue;
        n = write(fd, buf, len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        return n;                       /* EPIPE: the command stopped reading */
    }
}

/* The command process: descriptors, then all ids to the user, then exec.
 * Failures exit with EX_OSERR (71) or EX_TEMPFAIL (75): a deferral. */
static void
local_cmd_exec(CMD_CTX *c, int in_fd, int out_fd, pid_t parent)
{
    signal(SIGPIPE, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
    setsid();
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0
        || closefrom_keep(3, NULL, 0, 0) < 0)
        _exit(71);
    if (priv_drop_try(c->priv->uid, c->priv->gid) < 0)
        _exit(75);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(75);
    if (chdir(c->priv->home) < 0 && chdir("/") < 0)
        _exit(71);
    setenv("PATH", LOCAL_CMD_PATH, 1);
    execvpe(c->argv->argv[0], c->argv->argv, c->env->argv);
    fprintf(stderr, "execvp %s: %s\n", c->argv->argv[0], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
}

static int
local_cmd_status(CMD_CTX *c, int status, VSTRING *dsn, VSTRING *why)
{
    return command_status(status, c->command, c->output, dsn, why);
}

static int
local_command_child(void *ctx, VSTRING *dsn, VSTRING *why)
{
    CMD_CTX *c = ctx;
    struct sigaction sa;
    int     in[2], out[2], status = 0, flags = MBOX_COPY_FROM | MBOX_COPY_RETURN_PATH
        | MBOX_COPY_ORIG_RCPT | MBOX_COPY_DELIVERED;
    int     err;
    STREAM *o;
    pid_t   pid, self = getpid();

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = local_cmd_alarm;
    sigaction(SIGALRM, &sa, NULL);              /* no SA_RESTART: poll/wait see EINTR */
    if (pipe(in) < 0 || pipe(out) < 0 || (pid = fork()) < 0) {
        vstring_strcpy(dsn, "4.3.0");
        vstring_sprintf(why, "cannot run command: %s", strerror(errno));
        return DELIVER_DEFER;
    }
    if (pid == 0)
        local_cmd_exec(c, in[0], out[1], self);
    close(in[0]);
    close(out[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    c->out_fd = out[0];
    o = stream_fdopen(in[1]);
    stream_set_io(o, NULL, local_cmd_write, c);
    if (!local_header_wanted("command"))
        flags &= ~MBOX_COPY_DELIVERED;
    err = mbox_copy_message(c->st->req, o, flags, local_orig_rcpt(c->st), c->a->address);
    (void) stream_close(o);
    while (c->out_fd >= 0 && !local_cmd_timeout) {
        struct pollfd p = {c->out_fd, POLLIN, 0};

        if (poll(&p, 1, -1) > 0 && local_cmd_drain(c)) {
            close(c->out_fd);
            c->out_fd = -1;
        }
    }
    while (!local_cmd_timeout && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (local_cmd_timeout || err == MBOX_COPY_READ_ERROR) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        vstring_strcpy(dsn, local_cmd_timeout ? "5.3.0" : "4.3.0");
        vstring_sprintf(why, local_cmd_timeout ? "Command time limit exceeded: \"%s\""
                        : "queue file read error while delivering to \"%s\"", c->command);
        return local_cmd_timeout ? DELIVER_BOUNCE : DELIVER_DEFER;
    }
    return local_cmd_status(c, status, dsn, why);
}

static void
local_cmd_setenv(ARGV *env, const char *name, const char *value)
{
    char   *s = mem_printf("%s=%s", name, value ? value : "");

    argv_add(env, s);
    mem_free(s);
}

/* The command's environment, built before the child clears its own. */
static ARGV *
local_cmd_env(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_PRIV *priv)
{
    DELIVER_REQUEST *req = st->req;
    ARGV   *env = argv_alloc();
    ARGV   *export = argv_split_list(var_export_environment);
    const char *vars[][2] = {
        {"PATH", LOCAL_CMD_PATH}, {"HOME", priv->home}, {"USER", priv->name},
        {"LOGNAME", priv->name}, {"SHELL", priv->shell}, {"SENDER", req->sender},
        {"RECIPIENT", a->address}, {"ORIGINAL_RECIPIENT", local_orig_rcpt(st)},
        {"LOCAL", a->local}, {"USER_PART", a->user}, {"EXTENSION", a->extension},
        {"DOMAIN", a->domain}, {"CLIENT_ADDRESS", req->client_addr},
        {"CLIENT_HOSTNAME", req->client_name},
    };
    size_t  i;

    for (i = 0; i < export->argc; i++)
        if (getenv(export->argv[i]))
            local_cmd_setenv(env, export->argv[i], getenv(export->argv[i]));
    argv_free(export);
    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        local_cmd_setenv(env, vars[i][0], vars[i][1]);
    if (req->dsn_envid && *req->dsn_envid)
        local_cmd_setenv(env, "ENVID", req->dsn_envid);
    return env;
}

static ARGV *
local_cmd_argv(const char *command)
{
    const char *shell = var_local_command_shell;
    ARGV   *argv;

    if (*shell) {
        argv = argv_split(shell, " \t");
        argv_add(argv, command);
    } else if (local_shell_meta(command)) {
        argv = argv_alloc();
        argv_add(argv, "/bin/sh");
        argv_add(argv, "-c");
        argv_add(argv, command);
    } else {
        argv = argv_split(command, " \t");
    }
    return argv;
}

int
local_command_deliver(LOCAL_STATE *st, const LOCAL_ADDR *a, const LOCAL_PRIV *priv,
                      const char *command, VSTRING *dsn, VSTRING *why)
{
    CMD_CTX c;
    LOCAL_PRIV *run;
    int     status;

    if (st->req->trace_flags & DELIVER_TRACE_VERIFY)
        return DELIVER_SENT;            /* sendmail -bv: report only */
    if ((run = local_priv_run(priv)) == NULL) {
        vstring_strcpy(dsn, "4.3.5");
        vstring_strcpy(why, "mail system configuration error: default_privs user unknown");
        return DELIVER_DEFER;
    }
    memset(&c, 0, sizeof(c));
    c.st = st;
    c.a = a;
    c.priv = run;
    c.command = command;
    c.argv = local_cmd_argv(command);
    if (c.argv->argc == 0) {
        argv_free(c.argv);
        local_priv_free(run);
        vstring_strcpy(dsn, "5.3.5");
        vstring_strcpy(why, "mail system configuration error: empty command");
        return DELIVER_BOUNCE;
    }
    c.env = local_cmd_env(st, a, run);
    c.output = vstring_alloc(LOCAL_CMD_OUTPUT_MAX);
    c.out_fd = -1;
    status = local_child_run(st, run, local_command_child, &c, dsn, why);
    argv_free(c.argv);
    argv_free(c.env);
    vstring_free(c.output);
    local_priv_free(run);
    return status;
}
