/*
 * sendmail_post.c - handing the message to postdrop.
 *
 * Interface (sendmail.h):
 *   sendmail_post_open()      start $command_directory/postdrop -r [-c dir]
 *                             with a pipe on its stdin
 *   sendmail_post_envelope()  TIME [DSN_ENVID] [DSN_RET] [FULL] ATTR... FROM
 *                             {[DSN_NOTIFY] ORCP RCPT} MESG (Postfix's order)
 *   sendmail_post_close()     XTRA END, close the pipe, wait for postdrop,
 *                             and turn its exit status into ours (69, the
 *                             file reached $message_size_limit: "message
 *                             file too big", as Postfix's sendmail says)
 *
 * The unprivileged user never writes the queue: postdrop (set-gid) does,
 * after checking every record again.
 *
 * SECURITY: postdrop gets a minimal environment (MAIL_CONFIG, TZ) and an
 * argv built here, never from the message.
 *
 * DIAGNOSTICS: fatal: a failed pipe(), fork() or wait for postdrop; a
 * postdrop killed by a signal is a warning (and sendmail fails with its
 * status).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "argv.h"
#include "config.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "record.h"
#include "sendmail.h"

void
sendmail_post_open(SM_POST *post, const SM_STATE *sm)
{
    char   *path = mem_printf("%s/postdrop", var_command_dir);
    ARGV   *args = argv_alloc();
    ARGV   *env = argv_alloc();
    const char *tz = getenv("TZ");
    int     fds[2];

    argv_add(args, "postdrop");
    argv_add(args, "-r");
    if (sm->config_dir) {
        argv_add(args, "-c");
        argv_add(args, sm->config_dir);
        char   *e = mem_printf("MAIL_CONFIG=%s", sm->config_dir);
        argv_add(env, e);
        mem_free(e);
    }
    if (tz) {
        char   *e = mem_printf("TZ=%s", tz);
        argv_add(env, e);
        mem_free(e);
    }
    signal(SIGPIPE, SIG_IGN);
    if (pipe(fds) < 0)
        msg_fatal_status(SM_EX_OSERR, "pipe: %m");
    switch (post->pid = fork()) {
    case -1:
        msg_fatal_status(SM_EX_OSERR, "fork: %m");
    case 0:
        signal(SIGPIPE, SIG_DFL);
        if (dup2(fds[0], STDIN_FILENO) < 0)
            _exit(SM_EX_OSERR);
        close(fds[0]);
        close(fds[1]);
        execve(path, args->argv, env->argv);
        sendmail_report(MSG_FATAL, "execute %s: %m", path);
        _exit(SM_EX_EXEC);
    default:
        close(fds[0]);
        post->out = stream_fdopen(fds[1]);
    }
    mem_free(path);
    argv_free(args);
    argv_free(env);
}

void
sendmail_post_envelope(SM_POST *post, const SM_STATE *sm, const char *sender,
                       const char *fullname, const ARGV *rcpts)
{
    STREAM *out = post->out;
    struct timeval tv;

    gettimeofday(&tv, NULL);
    rec_printf(out, REC_TYPE_TIME, "%ld %ld", (long) tv.tv_sec, (long) tv.tv_usec);
    if (sm->dsn_envid)                  /* Postfix's sendmail's order */
        rec_puts(out, REC_TYPE_DSN_ENVID, sm->dsn_envid);
    if (sm->dsn_ret)
        rec_printf(out, REC_TYPE_DSN_RET, "%d", sm->dsn_ret);
    if (fullname && *fullname)
        rec_puts(out, REC_TYPE_FULL, fullname);
    rec_printf(out, REC_TYPE_ATTR, "%s=%s", ATTR_RWR_CONTEXT, "local");
    if (sm->mode == SM_MODE_VERIFY)
        rec_printf(out, REC_TYPE_ATTR, "%s=%s", ATTR_TRACE_FLAGS, TRACE_FLAGS_VERIFY);
    if (sm->encoding)
        rec_printf(out, REC_TYPE_ATTR, "%s=%s", ATTR_ENCODING, sm->encoding);
    rec_puts(out, REC_TYPE_FROM, sender);
    for (size_t i = 0; i < rcpts->argc; i++) {
        if (sm->dsn_notify)
            rec_printf(out, REC_TYPE_DSN_NOTIFY, "%d", sm->dsn_notify);
        rec_puts(out, REC_TYPE_ORCP, rcpts->argv[i]);
        rec_puts(out, REC_TYPE_RCPT, rcpts->argv[i]);
    }
    rec_put(out, REC_TYPE_MESG, "", 0);
}

int
sendmail_post_close(SM_POST *post, const char *who)
{
    int     status, write_err;
    pid_t   pid;

    rec_put(post->out, REC_TYPE_XTRA, "", 0);
    rec_put(post->out, REC_TYPE_END, "", 0);
    write_err = (stream_close(post->out) != 0);
    post->out = NULL;
    while ((pid = waitpid(post->pid, &status, 0)) < 0 && errno == EINTR)
        /* retry */ ;
    if (pid < 0)
        msg_fatal_status(SM_EX_OSERR, "%s: wait for postdrop: %m", who);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !write_err)
        return SM_EX_OK;
    if (WIFEXITED(status)) {
        switch (WEXITSTATUS(status)) {
        case 0:
        case SM_EX_TEMPFAIL:
            break;
        case SM_EX_NOPERM:
        case SM_EX_DATAERR:
        case SM_EX_USAGE:
            return WEXITSTATUS(status);
        case SM_EX_EXEC:                /* reported by the child */
            return SM_EX_UNAVAILABLE;
        case SM_EX_UNAVAILABLE:         /* postdrop: message_size_limit */
            sendmail_report(MSG_FATAL, "%s: message file too big", who);
            return SM_EX_UNAVAILABLE;
        default:
            break;
        }
    } else if (WIFSIGNALED(status)) {
        msg_warn("%s: postdrop killed by signal %d", who, WTERMSIG(status));
    }
    sendmail_report(MSG_FATAL, "%s: queue file write error", who);
    return SM_EX_TEMPFAIL;
}
