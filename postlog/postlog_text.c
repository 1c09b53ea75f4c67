/*
 * postlog_text.c - log text with a chosen tag and severity.
 *
 * Interface (postlog.h): postlog_level(), postlog_text(), postlog_stdin().
 *
 * The line goes where every posthorn program's lines go (msg.h: the
 * postlog socket when maillog_file is set, else syslog), as
 * "<tag>[<pid>]: [<severity>: ]text". Severities as Postfix: info,
 * warning, error, fatal, panic; "fatal" and "panic" only label the line,
 * postlog itself carries on. When standard error is a terminal the text
 * is also shown there as "<tag>: [<severity>: ]text".
 *
 * SECURITY: the text comes from the (possibly unprivileged) invoker. It
 * goes through msg_vlog(), which replaces control characters and cuts
 * the line at MSG_LINE_MAX; standard input is read in bounded lines.
 *
 * DIAGNOSTICS: none; text is logged at the level asked for, made printable
 * and cut.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "postlog.h"
#include "stream.h"
#include "vstring.h"

static const char *const postlog_levels[] = {
    "info", "warning", "error", "fatal", "panic", 0,
};

int
postlog_level(const char *name)
{
    for (int i = 0; postlog_levels[i]; i++)
        if (strcmp(name, postlog_levels[i]) == 0)
            return i;
    return -1;
}

static void
postlog_log(int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(level, fmt, ap);
    va_end(ap);
}

void
postlog_text(int level, const char *tag, const char *text, int to_stderr)
{
    char    clean[MSG_LINE_MAX + 1];

    postlog_log(level, "%s", text);
    if (to_stderr) {
        msg_printable(clean, sizeof(clean), text);
        fprintf(stderr, "%s: %s%s%s\n", tag, level == MSG_INFO ? "" : postlog_levels[level],
                level == MSG_INFO ? "" : ": ", clean);
        fflush(stderr);
    }
}

void
postlog_stdin(int level, const char *tag, int to_stderr)
{
    STREAM *in = stream_fdopen(STDIN_FILENO);
    VSTRING *line = vstring_alloc(POSTLOG_LINE_MAX + 1);
    ssize_t n;
    int     skipping = 0;

    while ((n = stream_gets(in, line, POSTLOG_LINE_MAX)) > 0) {
        int     complete = STR(line)[LEN(line) - 1] == '\n';

        while (LEN(line) > 0 && strchr("\r\n", STR(line)[LEN(line) - 1]))
            vstring_truncate(line, LEN(line) - 1);
        if (!skipping)                  /* the rest of an overlong line is dropped */
            postlog_text(level, tag, STR(line), to_stderr);
        skipping = !complete;
    }
    vstring_free(line);
    stream_free_keep_fd(in);
}
