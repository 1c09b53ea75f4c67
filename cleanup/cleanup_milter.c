/*
 * cleanup_milter.c - milters at the end of the message: content events
 * from the queue file, then the milter's verdict and modifications.
 *
 * Interface (cleanup.h):
 *   cleanup_milter_receive(state, client)  smtpd's milters after END
 *                                          (CLEANUP_FLAG_SMTPD_MILTERS)
 *   cleanup_milter_run(state)              before END is written: for
 *       mail without smtpd milters and with CLEANUP_FLAG_MILTER, the
 *       non_smtpd_milters get connect ("localhost", 127.0.0.1), helo,
 *       mail, rcpt and data events first; then each milter in turn gets
 *       the headers, end of headers, body and end of message of the
 *       file as the milters before it left it.
 *
 * Verdicts: reject/tempfail set CLEANUP_STAT_CONT/_DEFER with the reply
 * as reason (smtpd passes it on); discard and quarantine set
 * CLEANUP_FLAG_DISCARD/_HOLD. Log lines as Postfix's:
 *   ID: milter-reject: END-OF-MESSAGE from host[addr]: 5.7.1 text; from=<s> to=<r> proto=P helo=<h>
 *   ID: milter-discard: END-OF-MESSAGE from host[addr]: milter triggers DISCARD action; ...
 *   ID: milter-hold: END-OF-MESSAGE from host[addr]: milter triggers HOLD action; ...
 * Modifications are applied by cleanup_milter_edit.c.
 *
 * SECURITY: the queue file is ours; what the milter sends back is
 * bounded in milter_proto.c (packets) and cleanup_milter_edit.c (the
 * replacement body by message_size_limit).
 */
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "mail_proto.h"
#include "mem.h"
#include "milter.h"
#include "msg.h"
#include "record.h"

static MILTER_CONF cleanup_milter_conf;
static int cleanup_milter_conf_done;

static const MILTER_CONF *
cleanup_milter_settings(void)
{
    if (!cleanup_milter_conf_done) {
        milter_conf_read(&cleanup_milter_conf);
        cleanup_milter_conf_done = 1;
    }
    return &cleanup_milter_conf;
}

void
cleanup_milter_init(void)
{
    (void) cleanup_milter_settings();
}

int
cleanup_milter_receive(CLEANUP_STATE *state, STREAM *client)
{
    state->milters = milters_receive(client, cleanup_milter_settings());
    state->milters_smtpd = 1;
    if (state->milters == NULL) {
        msg_warn("%s: no milters from the client", state->queue_id);
        state->errs |= CLEANUP_STAT_BAD;
        return -1;
    }
    return 0;
}

/* "ID: milter-ACTION: END-OF-MESSAGE from host[addr]: text; from=<> to=<> proto= helo=<>" */
static void
cleanup_milter_log(CLEANUP_STATE *state, const char *action, const char *text)
{
    VSTRING *line = vstring_alloc(2048);

    vstring_sprintf(line, "%s: milter-%s: END-OF-MESSAGE from ", state->queue_id, action);
    cleanup_log_client(state, line);
    vstring_sprintf_append(line, ": %.500s;", text);
    cleanup_log_envelope(state, line);
    msg_info("%s", STR(line));
    vstring_free(line);
}

/* Macros cleanup knows: the queue id, the client, the sender. */
static void
cleanup_milter_macros(CLEANUP_STATE *state)
{
    MILTERS *ms = state->milters;
    char   *u;

    milter_conf_macro_defaults(ms);
    milters_macro_set(ms, "i", state->queue_id);
    milters_macro_set(ms, "{mail_addr}", state->sender);
    milters_macro_set(ms, "{client_name}", state->client_name ? state->client_name : "localhost");
    milters_macro_set(ms, "{client_addr}", state->client_addr ? state->client_addr : "127.0.0.1");
    u = mem_printf("%s [%s]", state->client_name ? state->client_name : "localhost",
                   state->client_addr ? state->client_addr : "127.0.0.1");
    milters_macro_set(ms, "_", u);
    mem_free(u);
}

/* A verdict other than CONTINUE/ACCEPT: the message's fate; 1 = stop. */
static int
cleanup_milter_verdict(CLEANUP_STATE *state, int ret, VSTRING *reply)
{
    const char *text = STR(reply);

    switch (ret) {
    case MILTER_REJECT:
    case MILTER_TEMPFAIL:
    case MILTER_SHUTDOWN:
        state->errs |= ret == MILTER_REJECT ? CLEANUP_STAT_CONT : CLEANUP_STAT_DEFER;
        vstring_strcpy(state->reason, text);
        cleanup_milter_log(state, "reject", strlen(text) > 4 ? text + 4 : text);
        return 1;
    case MILTER_DISCARD:
        state->flags |= CLEANUP_FLAG_DISCARD;
        cleanup_milter_log(state, "discard", "milter triggers DISCARD action");
        return 1;
    default:
        return 0;
    }
}

/* The envelope events of a local submission (non_smtpd_milters). */
static int
cleanup_milter_envelope(CLEANUP_STATE *state, VSTRING *reply)
{
    MILTERS *ms = state->milters;
    ARGV   *rcpts = argv_alloc();
    char   *addr;
    int     ret;

    if ((ret = milters_connect(ms, "localhost", "127.0.0.1", "0", reply)) == MILTER_CONTINUE
        && (ret = milters_helo(ms, "localhost", reply)) == MILTER_CONTINUE) {
        addr = mem_printf("<%s>", state->sender ? state->sender : "");
        const char *margv[] = {addr, NULL};
        ret = milters_mail(ms, margv, reply);
        mem_free(addr);
    }
    if (ret == MILTER_CONTINUE)
        cleanup_milter_rcpts(state, rcpts);
    for (size_t i = 0; ret == MILTER_CONTINUE && i < rcpts->argc; i++) {
        addr = mem_printf("<%s>", rcpts->argv[i]);
        const char *rargv[] = {addr, NULL};
        milters_macro_set(ms, "{rcpt_addr}", rcpts->argv[i]);
        ret = milters_rcpt(ms, rargv, reply);
        mem_free(addr);
    }
    if (ret == MILTER_CONTINUE)
        ret = milters_data(ms, reply);
    argv_free(rcpts);
    return ret;
}

/* Headers, end of headers, body, end of message to one milter. */
static int
cleanup_milter_content(CLEANUP_STATE *state, MILTER *m, MILTER_EDITS *edits, VSTRING *reply)
{
    MILTERS *ms = state->milters;
    CLEANUP_MILTER_MSG msg;
    int     ret = MILTER_CONTINUE;

    if (cleanup_milter_msg_open(state, &msg) < 0) {
        (void) cleanup_milter_msg_error(state, &msg);
        cleanup_milter_msg_close(&msg);
        state->errs |= CLEANUP_STAT_WRITE;
        return MILTER_ACCEPT;
    }
    for (size_t i = 0; ret == MILTER_CONTINUE && i < msg.headers->argc; i++)
        ret = milter_header(ms, m, msg.headers->argv[i], strlen(msg.headers->argv[i]), reply);
    if (ret == MILTER_CONTINUE)
        ret = milter_eoh(ms, m, reply);
    while (ret == MILTER_CONTINUE && m->state == MILTER_ST_READY && !m->skip_body
           && !(m->pflags & SMFIP_NOBODY) && cleanup_milter_msg_body(state, &msg) > 0)
        ret = milter_body(ms, m, STR(msg.chunk), LEN(msg.chunk), reply);
    if (ret == MILTER_CONTINUE)
        ret = milter_eom(ms, m, edits, reply);
    else if (ret == MILTER_ACCEPT && m->state == MILTER_ST_ACCEPT)
        m->state = MILTER_ST_READY;     /* the next message of this session */
    if (cleanup_milter_msg_error(state, &msg)) {
        state->errs |= CLEANUP_STAT_WRITE;
        ret = MILTER_ACCEPT;
    }
    cleanup_milter_msg_close(&msg);
    return ret;
}

void
cleanup_milter_run(CLEANUP_STATE *state)
{
    VSTRING *reply;
    MILTERS *ms = state->milters;
    int     ret = MILTER_CONTINUE;

    if (ms == NULL || state->errs)
        return;
    reply = vstring_alloc(1024);
    cleanup_milter_macros(state);
    if (!state->milters_smtpd)
        ret = cleanup_milter_envelope(state, reply);
    for (size_t i = 0; ret == MILTER_CONTINUE && state->errs == 0 && i < ms->count; i++) {
        MILTER_EDITS edits;

        milter_edits_init(&edits, state->size_limit > 0 ? (size_t) state->size_limit
                          : VSTRING_UNLIMITED);
        ret = cleanup_milter_content(state, ms->list[i], &edits, reply);
        if (ret == MILTER_CONTINUE || ret == MILTER_ACCEPT) {
            cleanup_milter_edit(state, ms->list[i], &edits);
            ret = MILTER_CONTINUE;
        }
        milter_edits_free(&edits);
    }
    if (ret != MILTER_CONTINUE)
        (void) cleanup_milter_verdict(state, ret, reply);
    if (milters_hold(ms) && state->errs == 0)
        cleanup_milter_quarantine(state, "milter default action");
    vstring_free(reply);
}

void
cleanup_milter_local(CLEANUP_STATE *state)
{
    if (*var_non_smtpd_milters)
        state->milters = milters_create(var_non_smtpd_milters, cleanup_milter_settings());
}

/* For smtpd: bit i set when its milter i failed here (-1: not smtpd's). */
long
cleanup_milter_failed(const CLEANUP_STATE *state)
{
    long    bits = 0;

    if (!state->milters_smtpd || state->milters == NULL)
        return -1;
    for (size_t i = 0; i < state->milters->count && i < 31; i++)
        if (state->milters->list[i]->state == MILTER_ST_ERROR)
            bits |= 1L << i;
    return bits;
}

void
cleanup_milter_free(CLEANUP_STATE *state)
{
    if (state->milters_smtpd)
        milters_free_keep(state->milters);
    else
        milters_free(state->milters);
    state->milters = NULL;
}


void
cleanup_milter_quarantine(CLEANUP_STATE *state, const char *reason)
{
    if (state->flags & CLEANUP_FLAG_HOLD)
        return;
    state->flags |= CLEANUP_FLAG_HOLD;
    cleanup_milter_log(state, "hold", "milter triggers HOLD action");
    if (reason && *reason)
        msg_info("%s: quarantine reason: %.200s", state->queue_id, reason);
}
