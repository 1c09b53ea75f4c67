/*
 * smtpd_cleanup.c - handing one message to the cleanup service.
 *
 * Interface (see mail_proto.h for the protocol):
 * The connection and the final status use the cleanup client
 * (lib/cleanup_clnt.h); this file adds smtpd's records and replies.
 *
 *   smtpd_cleanup_open()      connect to public/cleanup at the first
 *                             accepted recipient, get the queue id, log
 *                             "ID: client=host[addr]" (with orig_queue_id=
 *                             and orig_client= after XFORWARD), send flags
 *                             and the envelope head (TIME, ATTR..., FROM;
 *                             the ATTRs with Postfix's names: log_* for
 *                             the client that logging and XFORWARD use,
 *                             sasl_method/sasl_username/sasl_sender after
 *                             AUTH and MAIL FROM AUTH=)
 *   smtpd_cleanup_rcpt()      [DSN_ORCPT] [DSN_NOTIFY] ORCP RCPT
 *   smtpd_cleanup_begin_content()  [DSN_ENVID] [DSN_RET] MESG, Received:
 *   smtpd_cleanup_line()      one NORM/CONT content record
 *   smtpd_cleanup_finish()    XTRA END, the smtpd_milters (cleanup runs
 *                             their content events), then cleanup's status
 *                             -> the reply
 *   smtpd_cleanup_abort()     drop the connection (cleanup removes the file)
 *
 * Addresses go to cleanup as the client sent them (internal form, maybe
 * unqualified); cleanup rewrites them.
 *
 * SECURITY: cleanup is another process and its reply is checked: a
 * missing or non-numeric status, or a protocol mismatch, is an error and
 * the client gets a 4xx, never a false "queued". The 250 is sent only
 * after cleanup reported status 0 (file fsynced and ready).
 *
 * DIAGNOSTICS: none logged here; a cleanup that cannot be reached or fails
 * gives the client a 451 reply (the caller's).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "cleanup_clnt.h"
#include "mail_date.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "receive_opts.h"
#include "record.h"
#include "netmatch.h"
#include "rewrite_clnt.h"
#include <arpa/inet.h>
#include <strings.h>
#include "smtpd.h"
#include "smtpd_check.h"
#include "smtpd_sasl.h"

static void
smtpd_cleanup_attr(SMTPD_STATE *state, const char *name, const char *value)
{
    rec_printf(state->cleanup, REC_TYPE_ATTR, "%s=%s", name, value);
}

/*
 * local_header_rewrite_clients decides whether cleanup treats the message
 * as local (adds missing Message-Id/Date/From, rewrites header addresses
 * with the local rule) or remote.
 */
static const char *
smtpd_cleanup_rewrite_context(SMTPD_STATE *state)
{
    ARGV   *list = smtpd_conf.rewrite_clients;
    const char *context = "remote";
    char    literal[INET6_ADDRSTRLEN + 8];

    snprintf(literal, sizeof(literal), strchr(state->addr, ':') ? "[IPv6:%s]" : "[%s]",
             state->addr);
    for (size_t i = 0; i < list->argc && strcmp(context, "remote") == 0; i++) {
        const char *rule = list->argv[i];

        if (strcasecmp(rule, "permit_inet_interfaces") == 0) {
            if (resolve_local(literal))
                context = "local";
        } else if (strcasecmp(rule, "permit_mynetworks") == 0) {
            if (netmatch_match(smtpd_conf.mynetworks, state->name, state->addr) > 0)
                context = "local";
        } else if (strcasecmp(rule, "static:all") == 0) {
            context = "local";
        }
    }
    return context;
}

/* "ID: client=name[addr]", with what XFORWARD gave, as Postfix logs it. */
static void
smtpd_cleanup_log_client(SMTPD_STATE *state)
{
    const SMTPD_XFORWARD *xf = &state->xforward;

    VSTRING *sasl = vstring_alloc(VSTRING_UNLIMITED);

    smtpd_sasl_log_suffix(state, sasl);
    msg_info("%s: client=%s%s%s%s%s%s", state->queue_id, state->namaddr, STR(sasl),
             xf->ident ? ", orig_queue_id=" : "", xf->ident ? xf->ident : "",
             xf->client ? ", orig_client=" : "", xf->client ? xf->namaddr : "");
    vstring_free(sasl);
}

/*
 * The client for logging and for the smtp client's XFORWARD (Postfix's
 * log_* attributes): the up-stream client when XFORWARD named one, else
 * the real client; the real client's own attributes follow.
 */
static void
smtpd_cleanup_log_attrs(SMTPD_STATE *state)
{
    const SMTPD_XFORWARD *xf = &state->xforward;

    smtpd_cleanup_attr(state, ATTR_LOG_IDENT, xf->ident ? xf->ident : state->queue_id);
    smtpd_cleanup_attr(state, ATTR_RWR_CONTEXT,
                       xf->domain ? xf->domain : smtpd_cleanup_rewrite_context(state));
    smtpd_cleanup_attr(state, ATTR_LOG_CLIENT_NAME, SMTPD_FWD_NAME(state));
    smtpd_cleanup_attr(state, ATTR_LOG_CLIENT_ADDR, SMTPD_FWD_ADDR(state));
    smtpd_cleanup_attr(state, ATTR_LOG_CLIENT_PORT, SMTPD_FWD_PORT(state));
    smtpd_cleanup_attr(state, ATTR_LOG_ORIGIN, SMTPD_FWD_NAMADDR(state));
    if (SMTPD_FWD_HELO(state))
        smtpd_cleanup_attr(state, ATTR_LOG_HELO_NAME, SMTPD_FWD_HELO(state));
    smtpd_cleanup_attr(state, ATTR_LOG_PROTO_NAME, SMTPD_FWD_PROTO(state));
}

/* Envelope head, sent right after the queue file exists. */
static void
smtpd_cleanup_head(SMTPD_STATE *state)
{
    STREAM *c = state->cleanup;

    rec_printf(c, REC_TYPE_TIME, "%ld %ld", (long) state->arrival.tv_sec,
               (long) state->arrival.tv_usec);
    smtpd_cleanup_log_attrs(state);
    smtpd_cleanup_attr(state, ATTR_CLIENT_NAME, state->name);
    smtpd_cleanup_attr(state, ATTR_CLIENT_ADDR, state->addr);
    smtpd_cleanup_attr(state, ATTR_CLIENT_PORT, state->port);
    if (state->helo_name)
        smtpd_cleanup_attr(state, ATTR_HELO_NAME, state->helo_name);
    smtpd_cleanup_attr(state, ATTR_PROTO_NAME, state->protocol);
    if (state->encoding)
        smtpd_cleanup_attr(state, ATTR_ENCODING, state->encoding);
    if (*var_filter_xport)                      /* -o content_filter= turns it off */
        smtpd_cleanup_attr(state, ATTR_CONTENT_FILTER, var_filter_xport);
    smtpd_sasl_cleanup_attrs(state, c);
    rec_puts(c, REC_TYPE_FROM, state->sender);
}

int
smtpd_cleanup_open(SMTPD_STATE *state)
{
    VSTRING *id = vstring_alloc(QUEUE_ID_MAX);
    int     flags = receive_opts_cleanup(CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK
                                         | (state->milters ? CLEANUP_FLAG_SMTPD_MILTERS : 0));

    if ((state->cleanup = cleanup_clnt_open(flags, id)) == NULL) {
        vstring_free(id);
        return -1;
    }
    state->queue_id = vstring_export(id);
    smtpd_cleanup_log_client(state);
    smtpd_cleanup_head(state);
    return stream_error(state->cleanup) ? -1 : 0;
}

int
smtpd_cleanup_rcpt(SMTPD_STATE *state, const char *rcpt, const SMTPD_RCPT_ARGS *args)
{
    STREAM *c = state->cleanup;

    if (c == NULL)
        return -1;
    if (args && args->orcpt)
        rec_puts(c, REC_TYPE_DSN_ORCPT, args->orcpt);
    if (args && args->notify)
        rec_printf(c, REC_TYPE_DSN_NOTIFY, "%d", args->notify);
    rec_puts(c, REC_TYPE_ORCP, rcpt);
    rec_puts(c, REC_TYPE_RCPT, rcpt);
    return stream_error(c) ? -1 : 0;
}

void
smtpd_cleanup_received(const SMTPD_STATE *state, const char *myhostname,
                       const char *mail_name, ARGV *lines)
{
    VSTRING *datebuf = vstring_alloc(256);
    const char *date;
    char   *line;

    mail_date(datebuf, state->arrival.tv_sec);
    date = STR(datebuf);
    line = mem_printf("Received: from %s (%s [%s])",
                      state->helo_name ? state->helo_name : state->name,
                      state->name, state->rfc_addr);
    argv_add(lines, line);
    mem_free(line);
    smtpd_tls_received(state, lines);   /* smtpd_tls_received_header */
    smtpd_sasl_received(state, lines);  /* smtpd_sasl_authenticated_header */
    if (state->rcpt_count == 1 && state->recipient) {
        VSTRING *q = vstring_alloc(ADDRESS_MAX * 2 + 2);
        address_quote(q, state->recipient);
        line = mem_printf("\tby %s (%s) with %s%s%s id %s", myhostname, mail_name,
                          state->protocol, state->tls ? "S" : "",
                          state->sasl_username ? "A" : "", state->queue_id);
        argv_add(lines, line);
        mem_free(line);
        line = mem_printf("\tfor <%s>; %s", STR(q), date);
        vstring_free(q);
    } else {
        line = mem_printf("\tby %s (%s) with %s%s%s id %s;", myhostname, mail_name,
                          state->protocol, state->tls ? "S" : "",
                          state->sasl_username ? "A" : "", state->queue_id);
        argv_add(lines, line);
        mem_free(line);
        line = mem_printf("\t%s", date);
    }
    argv_add(lines, line);
    mem_free(line);
    vstring_free(datebuf);
}

int
smtpd_cleanup_begin_content(SMTPD_STATE *state)
{
    STREAM *c = state->cleanup;
    ARGV   *lines;

    if (c == NULL)
        return -1;
    if (state->dsn_envid)
        rec_puts(c, REC_TYPE_DSN_ENVID, state->dsn_envid);
    if (state->dsn_ret)
        rec_printf(c, REC_TYPE_DSN_RET, "%d", state->dsn_ret);
    smtpd_check_envelope(state, c);     /* restrictions: HOLD, FILTER, REDIRECT */
    rec_put(c, REC_TYPE_MESG, "", 0);
    lines = argv_alloc();
    smtpd_check_prepend(state, lines);  /* restrictions: PREPEND, above Received: */
    smtpd_cleanup_received(state, var_myhostname, var_mail_name, lines);
    for (size_t i = 0; i < lines->argc; i++)
        rec_puts(c, REC_TYPE_NORM, lines->argv[i]);
    argv_free(lines);
    return stream_error(c) ? -1 : 0;
}

int
smtpd_cleanup_line(SMTPD_STATE *state, int rec_type, const char *data, size_t len)
{
    if (state->cleanup == NULL)
        return -1;
    return rec_put(state->cleanup, rec_type, data, len);
}

/* Postfix's reply for a cleanup status (reason text wins when given). */
static void
smtpd_cleanup_reply(int status, const char *reason, VSTRING *reply)
{
    if (reason && *reason) {
        int     d = (unsigned char) reason[0];
        if ((d == '4' || d == '5') && reason[1] == '.')         /* "5.7.1 text" */
            vstring_sprintf(reply, "%s %s", d == '4' ? "451" : "550", reason);
        else if ((d == '4' || d == '5') && strspn(reason, "0123456789") == 3
                 && reason[3] == ' ')                           /* "550 5.7.1 text" */
            vstring_strcpy(reply, reason);
        else
            vstring_sprintf(reply, "%s %s", (status & CLEANUP_STAT_DEFER) ?
                            "451 4.7.1" : "550 5.7.1", reason);
    } else if (status & CLEANUP_STAT_DEFER)
        vstring_strcpy(reply, "451 4.7.1 Service unavailable - try again later");
    else if (status & CLEANUP_STAT_CONT)
        vstring_strcpy(reply, "550 5.7.1 Message content rejected");
    else if (status & CLEANUP_STAT_SIZE)
        vstring_strcpy(reply, "552 5.3.4 Error: message file too big");
    else if (status & CLEANUP_STAT_HOPS)
        vstring_strcpy(reply, "554 5.4.0 Error: too many hops");
    else if (status & CLEANUP_STAT_RCPT)
        vstring_strcpy(reply, "554 5.5.1 Error: no valid recipients");
    else if (status & CLEANUP_STAT_WRITE)
        vstring_strcpy(reply, "451 4.3.0 Error: queue file write error");
    else
        vstring_strcpy(reply, "451 4.3.0 Error: internal error");
}

int
smtpd_cleanup_finish(SMTPD_STATE *state, VSTRING *reply)
{
    VSTRING *reason;
    int     status;

    if (state->cleanup == NULL || state->err != 0) {
        smtpd_cleanup_reply(state->err ? state->err : CLEANUP_STAT_WRITE, NULL, reply);
        smtpd_cleanup_abort(state);
        return -1;
    }
    reason = vstring_alloc(1024);
    status = cleanup_clnt_finish_milters(state->cleanup, state->queue_id, reason,
                                         state->milters);      /* smtpd_milters: to cleanup */
    state->cleanup = NULL;                      /* closed */
    state->milter_txn = 0;                      /* cleanup sent the end of message */
    if (status != 0)
        smtpd_cleanup_reply(status, STR(reason), reply);
    vstring_free(reason);
    return status == 0 ? 0 : -1;
}

void
smtpd_cleanup_abort(SMTPD_STATE *state)
{
    cleanup_clnt_abort(state->cleanup);
    state->cleanup = NULL;
}
