/*
 * smtpd_data.c - message content from the client: DATA and BDAT.
 *
 * Interface:
 *   smtpd_data_read()   reads DATA content up to end-of-data and hands
 *                       each line (NORM) or long-line piece (CONT) to a
 *                       callback, dot-unstuffed. Needs only a STREAM, so
 *                       tests drive it directly.
 *   smtpd_bdat_*()      the same line splitting for BDAT chunks (no dots,
 *                       no end marker; lines may span chunks).
 *   smtpd_data_cmd(), smtpd_data_bdat_cmd()  the commands.
 *
 * Bare newlines (smtpd_forbid_bare_newline):
 *   no         a line may end in LF or CRLF; "." ended by either ends DATA
 *              (the pre-2024 behaviour, smuggling-prone; also for clients
 *              in smtpd_forbid_bare_newline_exclusions).
 *   normalize  a bare LF still ends a line, but end-of-data is recognized
 *              only as <CR><LF>.<CR><LF>: the "." line must end in CRLF
 *              and so must the line before it. "\n.\n", "\r\n.\n" and
 *              "\n.\r\n" are content, never the end.
 *   reject     a bare LF anywhere in the content: reply
 *              smtpd_forbid_bare_newline_reject_code and disconnect.
 *
 * SECURITY: this is the smuggling boundary. Lines are read with
 * stream_gets() bounded by line_length_limit; a piece that does not end
 * in LF becomes a CONT record and the next piece continues the same line,
 * so no line start is ever invented inside a long line. A piece that ends
 * in CR is checked against the next byte, so a CRLF split across two
 * pieces is still one CRLF. Content beyond message_size_limit is read
 * and discarded, never stored.
 *
 * DIAGNOSTICS: none fatal; a message over message_size_limit is a warning
 * with the queue id and a 552 reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "record.h"
#include "smtpd_check.h"
#include "smtpd.h"

int
smtpd_data_read(STREAM *in, SMTPD_DATA_IN *din, SMTPD_LINE_FN fn, void *ctx)
{
    VSTRING *buf = vstring_alloc(din->line_limit + 1);
    int     prev_crlf = 1;      /* the line before ended in CRLF (DATA did) */
    int     line_start = 1;     /* the next piece starts a new line */
    int     status;

    for (;;) {
        ssize_t n = stream_gets(in, buf, din->line_limit);
        if (n <= 0) {
            status = n < 0 && stream_timeout(in) ? SMTPD_DATA_TIMEOUT : SMTPD_DATA_EOF;
            break;
        }
        din->bytes += n;
        const char *data = STR(buf);
        size_t  len = LEN(buf);
        int     ended = 0, crlf = 0;

        if (data[len - 1] == '\n') {
            ended = 1;
            len--;
            if (len > 0 && data[len - 1] == '\r') {
                crlf = 1;
                len--;
            }
        } else if (data[len - 1] == '\r') {
            int     ch = stream_getc(in);
            if (ch == '\n') {
                din->bytes++;
                ended = crlf = 1;
                len--;
            } else if (ch != STREAM_EOF) {
                stream_ungetc(in, ch);
            }
        }
        if (ended && !crlf && din->bare_lf_mode == SMTPD_BARE_LF_REJECT) {
            status = SMTPD_DATA_BARE_LF;
            break;
        }
        if (line_start && len > 0 && data[0] == '.') {
            if (ended && len == 1
                && (din->bare_lf_mode == SMTPD_BARE_LF_NO || (crlf && prev_crlf))) {
                status = SMTPD_DATA_END;
                break;
            }
            data++;             /* dot-unstuffing */
            len--;
        }
        fn(ctx, ended ? REC_TYPE_NORM : REC_TYPE_CONT, data, len);
        line_start = ended;
        if (ended)
            prev_crlf = crlf;
    }
    vstring_free(buf);
    return status;
}

void
smtpd_data_bdat_init(SMTPD_BDAT_IN *bin, int bare_lf_mode, size_t line_limit)
{
    bin->bare_lf_mode = bare_lf_mode;
    bin->line_limit = line_limit;
    bin->line = vstring_alloc(line_limit + 2);
    bin->bare_lf_seen = 0;
}

void
smtpd_data_bdat_free(SMTPD_BDAT_IN *bin)
{
    vstring_free(bin->line);
    bin->line = NULL;
}

/* BDAT content has no dot-stuffing and no end marker; CRLF ends a line. */
int
smtpd_data_bdat_feed(SMTPD_BDAT_IN *bin, const char *data, size_t len,
                     SMTPD_LINE_FN fn, void *ctx)
{
    VSTRING *line = bin->line;

    for (size_t i = 0; i < len; i++) {
        char    ch = data[i];
        if (ch == '\n') {
            size_t  l = LEN(line);
            if (l > 0 && STR(line)[l - 1] == '\r')
                l--;
            else
                bin->bare_lf_seen = 1;
            fn(ctx, REC_TYPE_NORM, STR(line), l);
            vstring_reset(line);
            continue;
        }
        if (LEN(line) >= bin->line_limit) {
            /* Keep a trailing CR: it may pair with the next LF. */
            size_t  l = LEN(line);
            int     cr = STR(line)[l - 1] == '\r';
            fn(ctx, REC_TYPE_CONT, STR(line), cr ? l - 1 : l);
            vstring_reset(line);
            if (cr)
                vstring_addch(line, '\r');
        }
        vstring_addch(line, ch);
    }
    return bin->bare_lf_seen && bin->bare_lf_mode == SMTPD_BARE_LF_REJECT ? -1 : 0;
}

int
smtpd_data_bdat_finish(SMTPD_BDAT_IN *bin, SMTPD_LINE_FN fn, void *ctx)
{
    if (LEN(bin->line) > 0) {
        fn(ctx, REC_TYPE_NORM, STR(bin->line), LEN(bin->line));
        vstring_reset(bin->line);
    }
    return 0;
}

/* Line callback: size accounting, then to cleanup. */
static int
smtpd_data_line(void *ctx, int rec_type, const char *data, size_t len)
{
    SMTPD_STATE *state = ctx;

    if (state->err != 0)
        return 0;
    if (var_message_limit > 0
        && state->act_size + (long) len + 2 > var_message_limit) {
        state->err |= CLEANUP_STAT_SIZE;
        msg_warn("%s: queue file size limit exceeded", smtpd_chat_queue_label(state));
        return 0;
    }
    state->act_size += (long) len + (rec_type == REC_TYPE_NORM ? 2 : 0);
    if (smtpd_cleanup_line(state, rec_type, data, len) != 0)
        state->err |= CLEANUP_STAT_WRITE;
    return 0;
}

/* Common checks of DATA and the first BDAT: a transaction with recipients. */
static int
smtpd_data_ready(SMTPD_STATE *state)
{
    if (state->rcpt_count == 0) {
        if (state->sender == NULL)
            smtpd_chat_reply(state, "503 5.5.1 Error: need RCPT command");
        else
            smtpd_chat_reply(state, "554 5.5.1 Error: no valid recipients");
        return -1;
    }
    return 0;
}

/* The end of a message: get cleanup's verdict and reply. */
static int
smtpd_data_done(SMTPD_STATE *state, const char *prefix)
{
    VSTRING *reply = vstring_alloc(1024);
    int     ok, eod;

    state->where = "END-OF-MESSAGE";
    eod = smtpd_check_eod_stage(state, reply);  /* restrictions: reject, or 1: DISCARD */
    if (eod != 0)
        smtpd_cleanup_abort(state);
    ok = eod > 0 || (eod == 0 && smtpd_cleanup_finish(state, reply) == 0);
    if (ok) {
        smtpd_chat_reply(state, "250 2.0.0 Ok: %squeued as %s", prefix, state->queue_id);
        state->error_count = 0;
        state->junk_count = 0;                  /* as Postfix: after a delivery */
    } else {
        smtpd_chat_reply(state, "%s", STR(reply));
        if (STR(reply)[0] == '5' || STR(reply)[0] == '4')
            smtpd_chat_log_reject(state, STR(reply));
    }
    vstring_free(reply);
    smtpd_state_mail_reset(state);
    return ok ? 0 : -1;
}

static void
smtpd_data_bare_lf(SMTPD_STATE *state)
{
    VSTRING *reply = vstring_alloc(1024);

    vstring_sprintf(reply, "%ld 5.5.2 %s Error: bare <LF> received",
                    var_smtpd_bare_lf_code, var_myhostname);
    smtpd_chat_log_reject(state, STR(reply));
    smtpd_chat_reply(state, "%s", STR(reply));
    vstring_free(reply);
    smtpd_cleanup_abort(state);
    smtpd_state_mail_reset(state);
    state->quit = 1;
}

int
smtpd_data_cmd(SMTPD_STATE *state, int argc, char **argv)
{
    SMTPD_DATA_IN din;
    int     status;

    if (argc != 1) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: DATA");
        return -1;
    }
    if (smtpd_data_ready(state) != 0)
        return -1;
    if (state->bdat_active) {
        smtpd_chat_reply(state, "503 5.5.1 Error: DATA after BDAT");
        return -1;
    }
    VSTRING *reply = vstring_alloc(1024);
    status = smtpd_check_data_stage(state, reply);      /* restrictions */
    if (status == 0)
        status = smtpd_milter_data(state, reply);       /* smtpd_milters */
    if (status != 0)
        smtpd_chat_reply(state, "%s", STR(reply));
    vstring_free(reply);
    if (status != 0)
        return -1;
    if (smtpd_cleanup_begin_content(state) != 0)
        state->err |= CLEANUP_STAT_WRITE;
    smtpd_chat_reply(state, "354 End data with <CR><LF>.<CR><LF>");
    smtpd_chat_flush(state);
    memset(&din, 0, sizeof(din));
    din.bare_lf_mode = state->bare_lf_mode;
    din.line_limit = (size_t) var_line_limit;
    smtpd_chat_deadline(state, 1);
    status = smtpd_data_read(state->client, &din, smtpd_data_line, state);
    stream_deadline_stop(state->client);
    switch (status) {
    case SMTPD_DATA_END:
        return smtpd_data_done(state, "");
    case SMTPD_DATA_BARE_LF:
        smtpd_data_bare_lf(state);
        return -1;
    case SMTPD_DATA_TIMEOUT:
        smtpd_chat_reply_timeout(state);
        msg_info("timeout after DATA (%ld bytes) from %s", din.bytes, state->namaddr);
        break;
    default:
        msg_info("lost connection after DATA (%ld bytes) from %s", din.bytes, state->namaddr);
        break;
    }
    smtpd_cleanup_abort(state);
    smtpd_state_mail_reset(state);
    state->quit = 2;            /* already logged */
    return -1;
}

/* Read (and feed, unless skipping) one chunk of count bytes. 0 / -1 lost. */
static int
smtpd_data_bdat_read(SMTPD_STATE *state, long count, int skip)
{
    char    buf[8192];

    smtpd_chat_deadline(state, 1);
    while (count > 0) {
        size_t  want = count > (long) sizeof(buf) ? sizeof(buf) : (size_t) count;
        ssize_t got = stream_read(state->client, buf, want);
        if (got > 0 && !skip)
            smtpd_data_bdat_feed(&state->bdat_in, buf, (size_t) got, smtpd_data_line, state);
        if (got < (ssize_t) want) {
            stream_deadline_stop(state->client);
            if (stream_timeout(state->client)) {
                smtpd_chat_reply_timeout(state);
                msg_info("timeout after BDAT from %s", state->namaddr);
            } else {
                msg_info("lost connection after BDAT from %s", state->namaddr);
            }
            return -1;
        }
        count -= (long) got;
        state->bdat_total += (long) got;
    }
    stream_deadline_stop(state->client);
    return 0;
}

/* smtpd_milters' DATA event at the first BDAT; -1: the chunk is skipped and refused. */
static int
smtpd_data_bdat_milter(SMTPD_STATE *state, long count)
{
    VSTRING *reply = vstring_alloc(1024);
    int     ret = 0;

    if (smtpd_milter_data(state, reply) != 0) {
        if (smtpd_data_bdat_read(state, count, 1) != 0) {
            vstring_free(reply);
            smtpd_cleanup_abort(state);
            smtpd_state_mail_reset(state);
            state->quit = 2;
            return -1;
        }
        smtpd_chat_reply(state, "%s", STR(reply));
        smtpd_state_mail_reset(state);
        ret = -1;
    }
    vstring_free(reply);
    return ret;
}

static int
smtpd_data_bdat_lost(SMTPD_STATE *state)
{
    smtpd_cleanup_abort(state);
    smtpd_state_mail_reset(state);
    state->quit = 2;
    return -1;
}

int
smtpd_data_bdat_cmd(SMTPD_STATE *state, int argc, char **argv)
{
    char   *end;
    long    count;
    int     last;

    if (argc < 2 || argc > 3 || strspn(argv[1], "0123456789") != strlen(argv[1])
        || strlen(argv[1]) > 18 || (argc == 3 && strcasecmp(argv[2], "LAST") != 0)) {
        msg_info("%s: malformed BDAT command syntax from %s: %.100s",
                 smtpd_chat_queue_label(state), state->namaddr, STR(state->buffer));
        smtpd_chat_reply(state, "521 5.5.4 Syntax: BDAT count [LAST]");
        /* the chunk size is unknown: the stream cannot be resynchronized */
        state->quit = 1;
        return -1;
    }
    count = strtol(argv[1], &end, 10);
    last = argc == 3;
    if (count == 0 && !last) {
        msg_info("%s: null BDAT request from %s", smtpd_chat_queue_label(state), state->namaddr);
        smtpd_chat_reply(state, "551 5.7.1 Null BDAT request");
        return -1;
    }
    if (state->rcpt_count == 0) {
        if (smtpd_data_bdat_read(state, count, 1) != 0)
            return smtpd_data_bdat_lost(state);
        smtpd_data_ready(state);
        return -1;
    }
    if (!state->bdat_active && smtpd_data_bdat_milter(state, count) != 0)
        return -1;
    if (!state->bdat_active) {
        state->bdat_active = 1;
        state->bdat_total = 0;
        smtpd_data_bdat_init(&state->bdat_in, state->bare_lf_mode, (size_t) var_line_limit);
        if (smtpd_cleanup_begin_content(state) != 0)
            state->err |= CLEANUP_STAT_WRITE;
    }
    if (smtpd_data_bdat_read(state, count, 0) != 0)
        return smtpd_data_bdat_lost(state);
    if (state->bdat_in.bare_lf_seen && state->bare_lf_mode == SMTPD_BARE_LF_REJECT) {
        smtpd_data_bare_lf(state);
        return -1;
    }
    if (!last) {
        smtpd_chat_reply(state, "250 2.0.0 Ok: %ld bytes", count);
        return 0;
    }
    smtpd_data_bdat_finish(&state->bdat_in, smtpd_data_line, state);
    char    prefix[64];
    snprintf(prefix, sizeof(prefix), "%ld bytes ", state->bdat_total);
    return smtpd_data_done(state, prefix);
}
