/*
 * smtp_proto.c - one SMTP or LMTP session with one server.
 *
 * Interface (smtp.h): smtp_session_run(st, sess, why) runs the whole
 * conversation on the connected sess->fp:
 *
 *   [TLS handshake in wrapper mode] -> greeting -> EHLO (HELO after a
 *   5xx; LHLO for LMTP) -> [STARTTLS -> handshake -> EHLO again] -> MAIL
 *   FROM -> RCPT TO... -> DATA -> content -> "." -> reply (LMTP: one
 *   reply per accepted recipient) -> QUIT
 *
 * STARTTLS as the next hop's TLS policy says (smtp_tls.c): at "may" only
 * when offered (a refusal continues in plain text); from "encrypt" up a
 * server that does not offer it, or refuses it, gets QUIT and the next
 * address is tried ("TLS is required, but was not offered by host ...").
 * After the handshake everything the server said before is forgotten
 * (RFC 3207) and EHLO is sent again. Then AUTH (smtp_sasl.c) when
 * smtp_sasl_auth_enable is set, the server offers it and
 * smtp_sasl_password_maps has credentials for it; a failure moves on to
 * the next address ("SASL authentication failed; ...").
 *
 * Address verification (trace_flags, sendmail -bv): no DATA; a 2xx RCPT
 * reply is the recipient's "deliverable" result, then QUIT (or the cache).
 *
 * With PIPELINING the MAIL, RCPT and DATA commands go out together, in
 * batches of SMTP_PIPE_BATCH so that neither side can block on a full
 * socket buffer; otherwise each waits for its reply. SIZE=, BODY=8BITMIME
 * and the DSN parameters (RET, ENVID, NOTIFY, ORCPT) are sent only when
 * the server offers them. Each step has its own timeout
 * (smtp_helo_timeout, smtp_mail_timeout, ...). MAIL FROM and RCPT TO
 * carry st->sender / st->rcpt[] (smtp_generic_maps applied by
 * smtp_service.c), and the content goes through smtp_generic.c's header
 * filter when that table is set (a table failure defers, 4.3.0).
 *
 * Results: recipients that get an answer are reported through
 * smtp_rcpt_result() ("host X[a] said: 550 ... (in reply to RCPT TO
 * command)"). A failure that concerns the whole session is left in why
 * and the return value says what the caller does next: SMTP_SESS_RETRY
 * (nothing was sent yet: try the next address), SMTP_SESS_FINAL (report
 * why to every recipient still open) or SMTP_SESS_DONE.
 *
 * Connection reuse (smtp_cache.h): after a good transaction the session
 * is offered to smtp_cache_save() instead of sending QUIT;
 * smtp_session_reuse() runs the next transaction on a cached session
 * after an RSET probe (smtp_rset_timeout), without greeting and EHLO.
 *
 * SECURITY: everything the server sends is untrusted: replies are
 * bounded by smtp_reply_read(); only the reply code steers the protocol,
 * and the text is only logged and passed to qmgr (both bounded). What we
 * send: ENVID and ORCPT (address type included) are xtext-encoded, and
 * smtp_send() replaces any control character left in a command.
 *
 * DIAGNOSTICS: none fatal; a server that answers HELO/EHLO with our own
 * host name and a control character replaced in a command are warnings;
 * everything else is a recipient result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "smtp.h"
#include "smtp_cache.h"
#include "xtext.h"

#define SMTP_PIPE_BATCH  100        /* commands in flight at most */

#define SMTP_CMD_MAIL    1
#define SMTP_CMD_RCPT    2
#define SMTP_CMD_DATA    3

typedef struct SMTP_TXN {
    SMTP_STATE *st;
    SMTP_SESSION *sess;
    SMTP_WHY *why;
    int     pipelining;
    int     mail_failed;
    int     data_code;              /* reply code to DATA, 0 = none yet */
    int    *accepted;               /* recipient indexes with a 2xx RCPT reply */
    int     naccepted;
    int     pend_type[SMTP_PIPE_BATCH + 2];
    int     pend_idx[SMTP_PIPE_BATCH + 2];
    int     npend;
    VSTRING *cmd;
} SMTP_TXN;

/* The session failed on the wire: connection lost or timed out. */
static void
smtp_lost(SMTP_SESSION *sess, SMTP_WHY *why, const char *doing)
{
    if (stream_timeout(sess->fp))
        smtp_why_set(why, DELIVER_DEFER, "4.4.2", "conversation with %s timed out while %s",
                     sess->namaddr, doing);
    else
        smtp_why_set(why, DELIVER_DEFER, "4.4.2", "lost connection with %s while %s",
                     sess->namaddr, doing);
    snprintf(why->relay, sizeof(why->relay), "%s", sess->relay);
}

/* Reply code -> status; the dsn class follows the code. */
static void
smtp_reply_why(SMTP_SESSION *sess, SMTP_WHY *why, const SMTP_REPLY *r, const char *fmt,
               const char *cmd)
{
    int     status = smtp_code_status(r->code);

    if (status == DELIVER_SENT)
        status = DELIVER_DEFER;
    smtp_why_set(why, status, r->dsn, fmt, sess->namaddr, STR(r->text), cmd);
    if (status == DELIVER_DEFER)
        why->dsn[0] = '4';
    snprintf(why->relay, sizeof(why->relay), "%s", sess->relay);
}

/*
 * Every command goes out here. The values in it were checked where they
 * entered posthorn, and ENVID/ORCPT are xtext; as the last guard no
 * control character leaves in a command (it could end the line early or
 * smuggle a second command): each one becomes '?', with a warning.
 */
static int
smtp_send(SMTP_SESSION *sess, const char *cmd, long timeout)
{
    char   *copy = NULL;

    for (const char *cp = cmd; *cp; cp++) {
        if ((unsigned char) *cp < 0x20 || *cp == 0x7f) {
            copy = mem_strdup(cmd);
            for (char *p = copy; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                    *p = '?';
            msg_warn("%s: control character in SMTP command replaced: %s",
                     sess->namaddr, copy);
            cmd = copy;
            break;
        }
    }
    stream_set_timeout(sess->fp, (int) timeout);
    if (msg_verbose)
        msg_info("> %s: %s", sess->namaddr, cmd);
    stream_printf(sess->fp, "%s\r\n", cmd);
    mem_free(copy);
    return stream_error(sess->fp) ? -1 : 0;
}

static int
smtp_read(SMTP_SESSION *sess, long timeout)
{
    stream_set_timeout(sess->fp, (int) timeout);
    if (smtp_reply_read(sess->fp, sess->reply) < 0)
        return -1;
    if (msg_verbose)
        msg_info("< %s: %s", sess->namaddr, STR(sess->reply->text));
    return 0;
}

/* ---- greeting and EHLO ----------------------------------------------------- */

static int
smtp_greeting(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    SMTP_REPLY *r = sess->reply;

    if (smtp_read(sess, smtp_params.helo_timeout) < 0) {
        smtp_lost(sess, why, "receiving the initial server greeting");
        return SMTP_SESS_RETRY;
    }
    if (r->code / 100 == 2)
        return -1;                      /* go on */
    smtp_reply_why(sess, why, r, "host %s refused to talk to me: %s%s", "");
    if (r->code / 100 == 5 && !smtp_params.skip_5xx_greeting)
        return SMTP_SESS_FINAL;
    why->status = DELIVER_DEFER;
    why->dsn[0] = '4';
    return SMTP_SESS_RETRY;
}

/* Does the EHLO/HELO reply name us? (a mail loop through this server) */
static int
smtp_helo_loop(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    const char *first = sess->reply->lines->argc ? sess->reply->lines->argv[0] : "";
    size_t  len = strcspn(first, " \t");

    if (smtp_params.lmtp || len != strlen(smtp_params.myhostname)
        || strncasecmp(first, smtp_params.myhostname, len) != 0)
        return 0;
    msg_warn("host %s replied to HELO/EHLO with my own hostname %s",
             sess->namaddr, smtp_params.myhostname);
    smtp_why_set(why, DELIVER_BOUNCE, "5.4.6", "mail for %s loops back to myself", st->dest);
    snprintf(why->relay, sizeof(why->relay), "%s", sess->relay);
    return 1;
}

static int
smtp_helo(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    VSTRING *cmd = vstring_alloc(SMTP_HOST_MAX + 16);
    const char *verb;
    int     esmtp, ret = -1;

    esmtp = smtp_params.lmtp || (!smtp_params.never_send_ehlo
            && (smtp_params.always_send_ehlo || strstr(STR(sess->reply->text), "ESMTP")));
    verb = smtp_params.lmtp ? "LHLO" : esmtp ? "EHLO" : "HELO";
    for (;;) {
        vstring_sprintf(cmd, "%s %s", verb, smtp_params.helo_name);
        if (smtp_send(sess, STR(cmd), smtp_params.helo_timeout) < 0
            || smtp_read(sess, smtp_params.helo_timeout) < 0) {
            smtp_lost(sess, why, smtp_params.lmtp ? "performing the LHLO handshake"
                      : "performing the EHLO handshake");
            ret = SMTP_SESS_RETRY;
            break;
        }
        if (sess->reply->code / 100 == 2) {
            if (strcmp(verb, "HELO") != 0)
                sess->features = smtp_ehlo_features(sess->reply,
                                                    smtp_params.discard_ehlo_keywords,
                                                    &sess->size_limit);
            if (sess->features & SMTP_FEATURE_XFORWARD)
                sess->xforward = smtp_xforward_attrs(sess->reply);
            if (sess->features & SMTP_FEATURE_AUTH)
                smtp_sasl_mechs(sess->reply, sess->auth_mechs, sizeof(sess->auth_mechs));
            if (smtp_helo_loop(st, sess, why))
                ret = SMTP_SESS_FINAL;
            break;
        }
        if (strcmp(verb, "EHLO") == 0 && sess->reply->code / 100 == 5) {
            verb = "HELO";
            continue;
        }
        smtp_reply_why(sess, why, sess->reply, "host %s said: %s (in reply to %s command)", verb);
        ret = sess->reply->code / 100 == 5 ? SMTP_SESS_FINAL : SMTP_SESS_RETRY;
        break;
    }
    vstring_free(cmd);
    return ret;
}

/* ---- MAIL / RCPT / DATA ------------------------------------------------------ */

static void
smtp_txn_result(SMTP_TXN *t, int i, const char *what)
{
    SMTP_REPLY *r = t->sess->reply;
    double  now = deliver_now();

    smtp_rcpt_result(t->st, i, smtp_code_status(r->code), r->dsn, t->sess->relay,
                     t->sess->conn_done - t->st->start, now - t->sess->conn_done,
                     "host %s said: %s (in reply to %s)", t->sess->namaddr,
                     STR(r->text), what);
}

static void
smtp_cmd_mail(SMTP_TXN *t)
{
    DELIVER_REQUEST *req = t->st->req;
    VSTRING *q = vstring_alloc(ADDRESS_MAX * 2);
    int     f = t->sess->features;

    const char *sender = t->st->sender ? t->st->sender : req->sender;

    if (smtp_params.quote_rfc821_envelope)
        address_quote(q, sender);
    else
        vstring_strcpy(q, sender);
    vstring_sprintf(t->cmd, "MAIL FROM:<%s>", STR(q));
    if (f & SMTP_FEATURE_SIZE)
        vstring_sprintf_append(t->cmd, " SIZE=%ld", req->size);
    if ((f & SMTP_FEATURE_8BITMIME) && req->encoding
        && (strcmp(req->encoding, "8bit") == 0 || strcmp(req->encoding, "8bitmime") == 0))
        vstring_cat(t->cmd, " BODY=8BITMIME");
    if (f & SMTP_FEATURE_DSN) {
        if (req->dsn_ret == DSN_RET_FULL)
            vstring_cat(t->cmd, " RET=FULL");
        else if (req->dsn_ret == DSN_RET_HDRS)
            vstring_cat(t->cmd, " RET=HDRS");
        if (req->dsn_envid && *req->dsn_envid) {
            vstring_cat(t->cmd, " ENVID=");
            xtext_encode(t->cmd, req->dsn_envid);
        }
    }
    vstring_free(q);
}

static void
smtp_cmd_rcpt(SMTP_TXN *t, int i)
{
    DELIVER_RCPT *r = &t->st->req->rcpt[i];
    VSTRING *q = vstring_alloc(ADDRESS_MAX * 2);
    const char *semi;

    const char *addr = t->st->rcpt ? t->st->rcpt[i] : r->address;

    if (smtp_params.quote_rfc821_envelope)
        address_quote(q, addr);
    else
        vstring_strcpy(q, addr);
    vstring_sprintf(t->cmd, "RCPT TO:<%s>", STR(q));
    if (t->sess->features & SMTP_FEATURE_DSN) {
        if (r->dsn_notify & DSN_NOTIFY_NEVER)
            vstring_cat(t->cmd, " NOTIFY=NEVER");
        else if (r->dsn_notify) {
            const char *sep = " NOTIFY=";

            if (r->dsn_notify & DSN_NOTIFY_SUCCESS) {
                vstring_sprintf_append(t->cmd, "%sSUCCESS", sep);
                sep = ",";
            }
            if (r->dsn_notify & DSN_NOTIFY_FAILURE) {
                vstring_sprintf_append(t->cmd, "%sFAILURE", sep);
                sep = ",";
            }
            if (r->dsn_notify & DSN_NOTIFY_DELAY)
                vstring_sprintf_append(t->cmd, "%sDELAY", sep);
        }
        if (r->dsn_orcpt && (semi = strchr(r->dsn_orcpt, ';')) != NULL && semi[1]) {
            vstring_cat(t->cmd, " ORCPT=");
            xtext_orcpt(t->cmd, r->dsn_orcpt);          /* the type too */
        } else if (r->orig_rcpt && *r->orig_rcpt) {
            vstring_cat(t->cmd, " ORCPT=rfc822;");
            xtext_encode(t->cmd, r->orig_rcpt);
        }
    }
    vstring_free(q);
}

static void
smtp_txn_reply(SMTP_TXN *t, int type, int idx)
{
    SMTP_REPLY *r = t->sess->reply;
    DELIVER_REQUEST *req = t->st->req;
    int     i;

    switch (type) {
    case SMTP_CMD_MAIL:
        if (r->code / 100 == 2)
            return;
        t->mail_failed = 1;
        for (i = 0; i < req->rcpt_count; i++)
            if (!t->st->rcpt_done[i])
                smtp_txn_result(t, i, "MAIL FROM command");
        return;
    case SMTP_CMD_RCPT:
        if (t->mail_failed || t->st->rcpt_done[idx])
            return;
        if (r->code / 100 == 2 && (req->trace_flags & DELIVER_TRACE_VERIFY))
            smtp_rcpt_result(t->st, idx, DELIVER_SENT, r->dsn, t->sess->relay,
                             t->sess->conn_done - t->st->start,
                             deliver_now() - t->sess->conn_done, "%s", STR(r->text));
        else if (r->code / 100 == 2)
            t->accepted[t->naccepted++] = idx;
        else
            smtp_txn_result(t, idx, "RCPT TO command");
        return;
    case SMTP_CMD_DATA:
        t->data_code = r->code;
        if (t->mail_failed || t->naccepted == 0 || r->code == 354)
            return;
        for (i = 0; i < t->naccepted; i++)
            smtp_txn_result(t, t->accepted[i], "DATA command");
        t->naccepted = 0;
        return;
    }
}

/* Read the replies to every command in flight, in order. */
static int
smtp_txn_drain(SMTP_TXN *t)
{
    static const char *doing[] = {"", "sending MAIL FROM", "sending RCPT TO",
                                  "sending DATA command"};
    long    tmo;
    int     k;

    for (k = 0; k < t->npend; k++) {
        int     type = t->pend_type[k];

        tmo = type == SMTP_CMD_MAIL ? smtp_params.mail_timeout
            : type == SMTP_CMD_RCPT ? smtp_params.rcpt_timeout
            : smtp_params.data_init_timeout;
        if (smtp_read(t->sess, tmo) < 0) {
            smtp_lost(t->sess, t->why, doing[type]);
            t->npend = 0;
            return -1;
        }
        smtp_txn_reply(t, type, t->pend_idx[k]);
    }
    t->npend = 0;
    return 0;
}

/* Send the command in t->cmd and queue its reply; drain when needed. */
static int
smtp_txn_send(SMTP_TXN *t, int type, int idx)
{
    long    tmo = type == SMTP_CMD_MAIL ? smtp_params.mail_timeout
        : type == SMTP_CMD_RCPT ? smtp_params.rcpt_timeout : smtp_params.data_init_timeout;

    (void) smtp_send(t->sess, STR(t->cmd), tmo);
    t->pend_type[t->npend] = type;
    t->pend_idx[t->npend] = idx;
    t->npend++;
    if (!t->pipelining || t->npend >= SMTP_PIPE_BATCH || type == SMTP_CMD_DATA)
        return smtp_txn_drain(t);
    return 0;
}

/* MAIL, RCPTs, DATA. 0: go on with the content (354); 1: nothing to
 * send (every recipient has a result); -1: connection lost (why set). */
static int
smtp_txn_envelope(SMTP_TXN *t)
{
    DELIVER_REQUEST *req = t->st->req;
    int     i;

    smtp_cmd_mail(t);
    if (smtp_txn_send(t, SMTP_CMD_MAIL, -1) < 0)
        return -1;
    for (i = 0; i < req->rcpt_count && !t->mail_failed; i++) {
        if (t->st->rcpt_done[i])
            continue;
        smtp_cmd_rcpt(t, i);
        if (smtp_txn_send(t, SMTP_CMD_RCPT, i) < 0)
            return -1;
    }
    if (req->trace_flags & DELIVER_TRACE_VERIFY)   /* sendmail -bv: no DATA */
        return t->npend > 0 && smtp_txn_drain(t) < 0 ? -1 : 1;
    if (!t->mail_failed && (t->pipelining || t->naccepted > 0)) {
        vstring_strcpy(t->cmd, "DATA");
        if (smtp_txn_send(t, SMTP_CMD_DATA, -1) < 0)
            return -1;
    }
    if (t->data_code == 354 && (t->mail_failed || t->naccepted == 0))
        return 2;                       /* in DATA mode with nothing to send */
    return (t->data_code == 354) ? 0 : 1;
}

/* ---- content and end of data ----------------------------------------------- */

static int
smtp_body_write(void *ctx, const char *data, size_t len)
{
    return stream_write((STREAM *) ctx, data, len) < 0 ? 1 : 0;
}

static int
smtp_body_line(const char *data, size_t len, int is_eol, void *ctx)
{
    return smtp_body_piece((SMTP_BODY *) ctx, data, len, is_eol);
}

/* Defer the accepted recipients: the message cannot be sent. */
static void
smtp_txn_defer_all(SMTP_TXN *t, const char *text)
{
    for (int i = 0; i < t->naccepted; i++)
        smtp_rcpt_result(t->st, t->accepted[i], DELIVER_DEFER, "4.3.0", t->sess->relay,
                         t->sess->conn_done - t->st->start, deliver_now() - t->sess->conn_done,
                         "%s", text);
}

/* The content through the body writer, with smtp_generic_maps applied to
 * the headers when configured; deliver_read_content()'s result. */
static int
smtp_txn_read(SMTP_TXN *t, SMTP_BODY *body)
{
    SMTP_GENERIC_HDR hdr;
    int     ret;

    if (!smtp_generic_enabled())
        return deliver_read_content(t->st->req, smtp_body_line, body);
    smtp_generic_hdr_init(&hdr, body);
    ret = deliver_read_content(t->st->req, smtp_generic_hdr_line, &hdr);
    if (ret == 0)
        return smtp_generic_hdr_end(&hdr);
    (void) smtp_generic_hdr_end(&hdr);
    return ret;
}

/* Stream the message; 0 ok, -1 connection lost (why set), 1 queue file bad
 * or a generic table failed. */
static int
smtp_txn_content(SMTP_TXN *t)
{
    SMTP_BODY body;
    int     ret;

    stream_set_timeout(t->sess->fp, (int) smtp_params.data_xfer_timeout);
    smtp_body_init(&body, smtp_params.line_length_limit, smtp_body_write, t->sess->fp);
    ret = smtp_txn_read(t, &body);
    if (ret < 0 || ret == SMTP_GENERIC_FAIL) {
        smtp_txn_defer_all(t, ret < 0 ? "mail system error: unreadable queue file"
                           : "mail system error: generic table lookup failure");
        return 1;
    }
    if (ret > 0 || smtp_body_finish(&body) != 0 || stream_flush(t->sess->fp) < 0) {
        smtp_lost(t->sess, t->why, "sending message body");
        return -1;
    }
    if (body.folded)                    /* once per message, as Postfix */
        msg_info("%s: breaking line > %ld bytes with <CR><LF>SPACE",
                 t->st->req->queue_id, body.limit);
    return 0;
}

static int
smtp_txn_dot(SMTP_TXN *t)
{
    int     i, n = smtp_params.lmtp ? t->naccepted : 1;
    SMTP_REPLY *r = t->sess->reply;

    for (i = 0; i < n; i++) {
        if (smtp_read(t->sess, smtp_params.data_done_timeout) < 0) {
            smtp_lost(t->sess, t->why,
                      "sending end of data -- message may be sent more than once");
            return -1;
        }
        if (smtp_params.lmtp) {
            if (r->code / 100 == 2)
                smtp_rcpt_result(t->st, t->accepted[i], DELIVER_SENT, r->dsn, t->sess->relay,
                                 t->sess->conn_done - t->st->start,
                                 deliver_now() - t->sess->conn_done, "%s", STR(r->text));
            else
                smtp_txn_result(t, t->accepted[i], "end of DATA command");
            continue;
        }
        for (int k = 0; k < t->naccepted; k++) {
            if (r->code / 100 == 2)
                smtp_rcpt_result(t->st, t->accepted[k], DELIVER_SENT, r->dsn, t->sess->relay,
                                 t->sess->conn_done - t->st->start,
                                 deliver_now() - t->sess->conn_done, "%s", STR(r->text));
            else
                smtp_txn_result(t, t->accepted[k], "end of DATA command");
        }
    }
    return 0;
}

static void
smtp_quit(SMTP_SESSION *sess)
{
    if (smtp_send(sess, "QUIT", smtp_params.quit_timeout) < 0)
        return;
    if (smtp_params.skip_quit_response)
        (void) stream_flush(sess->fp);
    else
        (void) smtp_read(sess, smtp_params.quit_timeout);
}

/* The message is bigger than the server's SIZE: bounce every recipient. */
static int
smtp_size_check(SMTP_STATE *st, SMTP_SESSION *sess)
{
    DELIVER_REQUEST *req = st->req;
    int     i;

    if (!(sess->features & SMTP_FEATURE_SIZE) || sess->size_limit <= 0
        || req->size <= sess->size_limit)
        return 0;
    for (i = 0; i < req->rcpt_count; i++)
        if (!st->rcpt_done[i])
            smtp_rcpt_result(st, i, DELIVER_BOUNCE, "5.3.4", sess->relay,
                             sess->conn_done - st->start, deliver_now() - sess->conn_done,
                             "message size %ld exceeds size limit %ld of server %s",
                             req->size, sess->size_limit, sess->namaddr);
    return -1;
}

/*
 * XFORWARD before each transaction (smtp_send_xforward_command). A
 * refusal is only a warning, as in Postfix: the mail still goes.
 * -1: connection lost (why set).
 */
static int
smtp_xforward(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    ARGV   *cmds, *what;
    int     ret = 0;

    if (!smtp_params.send_xforward || !(sess->features & SMTP_FEATURE_XFORWARD)
        || sess->xforward == 0)
        return 0;
    cmds = argv_alloc();
    what = argv_alloc();
    smtp_xforward_cmds(st->req, sess->xforward, cmds, what);
    for (size_t i = 0; i < cmds->argc && ret == 0; i++) {
        if (smtp_send(sess, cmds->argv[i], smtp_params.xforward_timeout) < 0
            || smtp_read(sess, smtp_params.xforward_timeout) < 0) {
            smtp_lost(sess, why, "sending XFORWARD command");
            ret = -1;
        } else if (sess->reply->code / 100 != 2) {
            msg_warn("host %s said: %s (in reply to %s)", sess->relay,
                     STR(sess->reply->text), what->argv[i]);
        }
    }
    argv_free(cmds);
    argv_free(what);
    return ret;
}

static int
smtp_transaction(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    SMTP_TXN t;
    int     ret;

    if (smtp_xforward(st, sess, why) < 0)
        return SMTP_SESS_RETRY;         /* nothing of the message was sent */
    memset(&t, 0, sizeof(t));
    t.st = st;
    t.sess = sess;
    t.why = why;
    t.pipelining = (sess->features & SMTP_FEATURE_PIPELINING) != 0;
    t.accepted = mem_array((size_t) st->req->rcpt_count, sizeof(int));
    t.cmd = vstring_alloc(ADDRESS_MAX * 4);
    ret = smtp_txn_envelope(&t);
    if (ret == 0) {
        ret = smtp_txn_content(&t);
        if (ret == 0)
            ret = smtp_txn_dot(&t) < 0 ? -1 : 1;
        else if (ret > 0)
            ret = 2;                    /* bad queue file: drop the connection */
    }
    if (ret == 1 && !(smtp_cache_save && smtp_cache_save(st, sess)))
        smtp_quit(sess);
    mem_free(t.accepted);
    vstring_free(t.cmd);
    return ret < 0 ? SMTP_SESS_FINAL : SMTP_SESS_DONE;
}

/* ---- TLS ---------------------------------------------------------------------- */

/* Handshake (smtp_tls.c); on a refused certificate QUIT inside TLS. */
static int
smtp_tls_handshake(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    int     ret = smtp_tls_start(st, sess, why);

    if (ret == SMTP_SESS_RETRY && sess->tls != NULL)
        smtp_quit(sess);
    return ret;
}

/* A required TLS session cannot be had: QUIT, try the next address. */
static int
smtp_tls_required(SMTP_SESSION *sess, SMTP_WHY *why, const char *fmt, const char *text)
{
    smtp_why_set(why, DELIVER_DEFER, "4.7.4", fmt, sess->namaddr, text);
    snprintf(why->relay, sizeof(why->relay), "%s", sess->relay);
    smtp_quit(sess);
    return SMTP_SESS_RETRY;
}

/*
 * STARTTLS after EHLO as the TLS policy says, then EHLO again (RFC 3207:
 * forget what the server said before). -1: go on, else SMTP_SESS_*.
 */
static int
smtp_starttls(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    int     level = st->tls ? st->tls->level : SMTP_TLS_NONE;
    int     ret;

    if (level == SMTP_TLS_NONE || sess->tls != NULL || st->tls_off)
        return -1;
    if (!(sess->features & SMTP_FEATURE_STARTTLS))
        return level == SMTP_TLS_MAY ? -1
            : smtp_tls_required(sess, why, "TLS is required, but was not offered by host %s%s", "");
    if (smtp_send(sess, "STARTTLS", smtp_params.helo_timeout) < 0
        || smtp_read(sess, smtp_params.helo_timeout) < 0) {
        smtp_lost(sess, why, "sending STARTTLS");
        return SMTP_SESS_RETRY;
    }
    if (sess->reply->code / 100 != 2)
        return level == SMTP_TLS_MAY ? -1
            : smtp_tls_required(sess, why, "TLS is required, but host %s refused to start "
                                "TLS: %s", STR(sess->reply->text));
    if ((ret = smtp_tls_handshake(st, sess, why)) >= 0)
        return ret;
    sess->features = 0;
    sess->xforward = 0;
    sess->size_limit = 0;
    return smtp_helo(st, sess, why);
}

/* ---- AUTH ---------------------------------------------------------------------- */

/* AUTH failed: QUIT, try the next address (smtp_sasl_auth_soft_bounce:
 * a 5xx from the server still defers). */
static int
smtp_auth_failed(SMTP_SESSION *sess, SMTP_WHY *why, const SMTP_REPLY *r, const char *text)
{
    if (r != NULL) {
        smtp_why_set(why, DELIVER_DEFER, r->dsn, "SASL authentication failed; server %s "
                     "said: %s", sess->namaddr, STR(r->text));
        why->dsn[0] = '4';
    } else {
        smtp_why_set(why, DELIVER_DEFER, "4.7.0", "SASL authentication failed; cannot "
                     "authenticate to server %s: %s", sess->namaddr, text);
    }
    snprintf(why->relay, sizeof(why->relay), "%s", sess->relay);
    smtp_quit(sess);
    return SMTP_SESS_RETRY;
}

/* The AUTH exchange; -1 = done or not needed, else SMTP_SESS_*. */
static int
smtp_auth_exchange(SMTP_SESSION *sess, SMTP_SASL *sasl, VSTRING *cmd, SMTP_WHY *why)
{
    VSTRING *text = vstring_alloc(100);
    int     ret = -1;

    for (;;) {
        if (smtp_send(sess, STR(cmd), smtp_params.helo_timeout) < 0
            || smtp_read(sess, smtp_params.helo_timeout) < 0) {
            smtp_lost(sess, why, "sending AUTH command");
            ret = SMTP_SESS_RETRY;
            break;
        }
        if (sess->reply->code / 100 == 2) {
            sess->authenticated = 1;
            break;
        }
        if (sess->reply->code != 334) {
            ret = smtp_auth_failed(sess, why, sess->reply, NULL);
            break;
        }
        if (smtp_sasl_next(sasl, sess->reply->lines->argc ? sess->reply->lines->argv[0] : "",
                           cmd, text) < 0) {
            (void) smtp_send(sess, "*", smtp_params.helo_timeout);     /* RFC 4954: cancel */
            (void) smtp_read(sess, smtp_params.helo_timeout);
            ret = smtp_auth_failed(sess, why, NULL, STR(text));
            break;
        }
    }
    vstring_free(text);
    return ret;
}

static int
smtp_auth(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    char   *user = NULL, *pass = NULL;
    VSTRING *cmd, *text;
    SMTP_SASL *sasl;
    int     ret;

    if (!smtp_sasl_enabled() || !(sess->features & SMTP_FEATURE_AUTH))
        return -1;
    if ((ret = smtp_sasl_passwd(st, sess, &user, &pass)) <= 0) {
        if (ret == 0)
            return -1;                  /* no credentials: no AUTH */
        smtp_why_set(why, DELIVER_DEFER, "4.3.0", "SASL password table lookup problem");
        snprintf(why->relay, sizeof(why->relay), "%s", sess->relay);
        smtp_quit(sess);
        return SMTP_SESS_RETRY;
    }
    cmd = vstring_alloc(256);
    text = vstring_alloc(100);
    if ((sasl = smtp_sasl_begin(sess, user, pass, cmd, text)) == NULL)
        ret = smtp_auth_failed(sess, why, NULL, STR(text));
    else
        ret = smtp_auth_exchange(sess, sasl, cmd, why);
    smtp_sasl_end(sasl);
    memset(pass, 0, strlen(pass));
    mem_free(user);
    mem_free(pass);
    vstring_free(cmd);
    vstring_free(text);
    return ret;
}

int
smtp_session_run(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    int     ret;

    if (smtp_tls_wrapper() && st->tls != NULL && st->tls->level != SMTP_TLS_NONE
        && (ret = smtp_tls_handshake(st, sess, why)) >= 0)
        return ret == SMTP_SESS_PLAIN ? SMTP_SESS_RETRY : ret;
    if ((ret = smtp_greeting(st, sess, why)) >= 0)
        return ret;
    if ((ret = smtp_helo(st, sess, why)) >= 0)
        return ret;
    if ((ret = smtp_starttls(st, sess, why)) >= 0)
        return ret;
    if ((ret = smtp_auth(st, sess, why)) >= 0)
        return ret;
    sess->conn_done = deliver_now();
    if (smtp_size_check(st, sess) < 0) {
        smtp_quit(sess);
        return SMTP_SESS_DONE;
    }
    return smtp_transaction(st, sess, why);
}

int
smtp_session_reuse(SMTP_STATE *st, SMTP_SESSION *sess, SMTP_WHY *why)
{
    long    tmo = smtp_params.rset_timeout;

    if (smtp_send(sess, "RSET", tmo) < 0 || stream_flush(sess->fp) < 0
        || smtp_read(sess, tmo) < 0 || sess->reply->code / 100 != 2)
        return -1;
    sess->conn_done = deliver_now();
    if (smtp_size_check(st, sess) < 0) {
        smtp_quit(sess);
        return SMTP_SESS_DONE;
    }
    return smtp_transaction(st, sess, why);
}
