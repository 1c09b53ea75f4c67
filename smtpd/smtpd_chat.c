/*
 * smtpd_chat.c - talking to the client: replies, command lines, and the
 * session log lines.
 *
 * Interface: smtpd_chat_reply() queues one reply line; replies are written to
 * the client only by smtpd_chat_flush(), which smtpd_chat_read_command() calls when
 * no more pipelined input is waiting (stream_buffered() == 0), so a
 * pipelining client gets its replies in one write, as RFC 2920 intends.
 * Every 4xx/5xx reply counts as an error; after smtpd_soft_error_limit
 * errors each reply is delayed by smtpd_error_sleep_time.
 *
 * Time limits: smtpd_timeout bounds each read and write; with
 * smtpd_per_request_deadline (on by default under stress) it bounds a
 * whole command line, a whole batch of replies, and (smtpd_data.c) the
 * DATA content or a BDAT chunk, where smtpd_min_data_rate bytes/s earn
 * more time (smtpd_chat_deadline()). A client that runs out gets
 * "421 4.4.2 host Error: timeout exceeded".
 *
 * Log lines use Postfix's wording: "connect from", "disconnect from ...
 * ehlo=1 mail=1 ... commands=N", "lost connection after X from",
 * "NOQUEUE: reject: RCPT from ...".
 *
 * SECURITY: command lines are read with a bound of line_length_limit;
 * the rest of a longer line is read and thrown away, so a client cannot
 * make smtpd buffer more. Logged client text is escaped by msg_*.
 *
 * DIAGNOSTICS: none fatal; an illegal address in MAIL or RCPT is a warning
 * naming the client (as Postfix), besides the 501 reply.
 */
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "smtpd.h"
#include "vstring.h"

static const char *smtpd_stat_names[SMTPD_STAT_MAX] = {
    "helo", "ehlo", "starttls", "xforward", "auth", "mail", "rcpt", "data", "bdat",
    "rset", "noop", "vrfy", "etrn", "quit", "unknown",
};

void
smtpd_chat_reply(SMTPD_STATE *state, const char *fmt, ...)
{
    VSTRING *line = vstring_alloc(4096);
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf_append(line, fmt, ap);
    va_end(ap);
    for (char *cp = STR(line); *cp; cp++)       /* no CR/LF from reason texts */
        if ((unsigned char) *cp < 0x20)
            *cp = ' ';
    if (STR(line)[0] == '4' || STR(line)[0] == '5') {
        state->error_count++;
        if (state->error_count > var_smtpd_soft_erlim
            && var_smtpd_err_sleep > 0) {
            smtpd_chat_flush(state);
            sleep((unsigned) var_smtpd_err_sleep);
        }
    }
    if (msg_verbose)
        msg_info("> %s: %s", state->namaddr, STR(line));
    stream_write(state->client, STR(line), LEN(line));
    stream_write(state->client, "\r\n", 2);
    vstring_free(line);
}

/*
 * After a read timeout the client stream refuses output (sticky flag);
 * the 421 still goes out, with a fresh timeout, so the client learns why.
 */
void
smtpd_chat_reply_timeout(SMTPD_STATE *state)
{
    stream_deadline_stop(state->client);
    stream_clearerr(state->client);
    smtpd_chat_reply(state, "421 4.4.2 %s Error: timeout exceeded", var_myhostname);
    smtpd_chat_flush(state);
}

void
smtpd_chat_reply_multi(SMTPD_STATE *state, ARGV *lines)
{
    for (size_t i = 0; i < lines->argc; i++) {
        const char *text = lines->argv[i];
        /* "250 text": the separator after the code becomes '-' on all but the last */
        stream_write(state->client, text, 3);
        stream_putc(state->client, i + 1 < lines->argc ? '-' : ' ');
        stream_puts(state->client, text[3] ? text + 4 : "");
        stream_write(state->client, "\r\n", 2);
        if (msg_verbose)
            msg_info("> %s: %s", state->namaddr, text);
    }
}

int
smtpd_chat_flush(SMTPD_STATE *state)
{
    int     ret;

    smtpd_chat_deadline(state, 0);
    ret = stream_flush(state->client);
    stream_deadline_stop(state->client);
    return ret;
}

/*
 * smtpd_per_request_deadline: smtpd_timeout bounds the whole of one
 * request (a command line; in_data: DATA content or a BDAT chunk, where
 * every smtpd_min_data_rate bytes earn one more second) or one response,
 * not each read or write. The caller ends it with stream_deadline_stop().
 */
void
smtpd_chat_deadline(SMTPD_STATE *state, int in_data)
{
    if (var_smtpd_req_deadline)
        stream_deadline_start(state->client, (int) var_smtpd_tmout,
                              in_data ? var_smtpd_min_data_rate : 0);
}

int
smtpd_chat_read_command(SMTPD_STATE *state, int *bare_lf)
{
    size_t  limit = (size_t) var_line_limit;
    ssize_t n;
    int     ch;

    *bare_lf = 0;
    if (stream_buffered(state->client) == 0 && smtpd_chat_flush(state) != 0)
        return stream_timeout(state->client) ? -1 : 0;
    smtpd_chat_deadline(state, 0);
    n = stream_gets(state->client, state->buffer, limit);
    if (n > 0 && STR(state->buffer)[LEN(state->buffer) - 1] != '\n') {
        /* Over-long line: keep the first part, discard the rest. */
        while ((ch = stream_getc(state->client)) != STREAM_EOF && ch != '\n')
             /* void */ ;
        if (ch == STREAM_EOF)
            n = -1;
    }
    stream_deadline_stop(state->client);
    if (n < 0)
        return stream_timeout(state->client) ? -1 : 0;
    if (n == 0)
        return 0;
    if (STR(state->buffer)[LEN(state->buffer) - 1] == '\n') {
        vstring_truncate(state->buffer, LEN(state->buffer) - 1);
        if (LEN(state->buffer) > 0 && STR(state->buffer)[LEN(state->buffer) - 1] == '\r')
            vstring_truncate(state->buffer, LEN(state->buffer) - 1);
        else
            *bare_lf = 1;
    }
    if (msg_verbose)
        msg_info("< %s: %s", state->namaddr, STR(state->buffer));
    return 1;
}

const char *
smtpd_chat_queue_label(const SMTPD_STATE *state)
{
    return state->queue_id ? state->queue_id : "NOQUEUE";
}

void
smtpd_chat_log_lost(SMTPD_STATE *state, const char *what)
{
    msg_info("%s after %s from %s", what, state->where, state->namaddr);
}

/* "warning: Illegal address syntax from host[addr] in MAIL command: <text>" */
void
smtpd_chat_log_bad_address(SMTPD_STATE *state, const char *command, const char *text)
{
    msg_warn("Illegal address syntax from %s in %s command: %s",
             state->namaddr, command, text);
}

/*
 * "NOQUEUE: reject: RCPT from host[addr]: 554 ...; from=<a> to=<b> proto=ESMTP helo=<h>",
 * with "reject" or another action (warn, reject_warning, hold, ...).
 */
void
smtpd_chat_log_reject(SMTPD_STATE *state, const char *reply)
{
    smtpd_chat_log_action(state, "reject", reply);
}

void
smtpd_chat_log_action(SMTPD_STATE *state, const char *action, const char *text)
{
    VSTRING *line = vstring_alloc(MSG_LINE_MAX);

    vstring_sprintf(line, "%s: %s: %s from %s: %s;", smtpd_chat_queue_label(state), action,
                    state->where, state->namaddr, text);
    if (state->sender)
        vstring_sprintf_append(line, " from=<%s>", state->sender);
    if (state->cur_rcpt)
        vstring_sprintf_append(line, " to=<%s>", state->cur_rcpt);
    vstring_sprintf_append(line, " proto=%s", state->protocol);
    if (state->helo_name)
        vstring_sprintf_append(line, " helo=<%s>", state->helo_name);
    msg_info("%s", STR(line));
    vstring_free(line);
}

void
smtpd_chat_log_disconnect(SMTPD_STATE *state)
{
    VSTRING *line = vstring_alloc(MSG_LINE_MAX);
    int     total = 0, ok = 0;

    vstring_sprintf(line, "disconnect from %s", state->namaddr);
    for (int i = 0; i < SMTPD_STAT_MAX; i++) {
        if (state->stat_total[i] == 0)
            continue;
        total += state->stat_total[i];
        ok += state->stat_ok[i];
        if (state->stat_ok[i] == state->stat_total[i])
            vstring_sprintf_append(line, " %s=%d", smtpd_stat_names[i], state->stat_total[i]);
        else
            vstring_sprintf_append(line, " %s=%d/%d", smtpd_stat_names[i],
                                   state->stat_ok[i], state->stat_total[i]);
    }
    /* An empty session is "commands=0/0", as with Postfix. */
    if (ok == total && total > 0)
        vstring_sprintf_append(line, " commands=%d", total);
    else
        vstring_sprintf_append(line, " commands=%d/%d", ok, total);
    msg_info("%s", STR(line));
    vstring_free(line);
}
