/*
 * bounce_notify.c - compose a delivery status notification (RFC 3464)
 * in Postfix's layout:
 *
 *   Received: by $myhostname ($mail_name) id NEWID; date
 *   Date, From: Mail Delivery System <MAILER-DAEMON@$myhostname>,
 *   Subject, To, Auto-Submitted: auto-replied, MIME-Version,
 *   Content-Type: multipart/report; report-type=delivery-status; boundary
 *   part 1  text/plain          "This is the mail system at host ..."
 *                               (the texts of Postfix 3.7's default templates;
 *                               utf-8/8bit with smtputf8_enable, as Postfix)
 *                               and one "<rcpt>: reason" line per recipient
 *   part 2  message/delivery-status  Reporting-MTA, X-Postfix-Queue-ID,
 *                               X-Postfix-Sender, Arrival-Date; per recipient
 *                               Final-Recipient, Original-Recipient, Action,
 *                               Status, Remote-MTA, Diagnostic-Code
 *   part 3  message/rfc822 (whole message) or text/rfc822-headers,
 *           starting with Return-Path: <sender>, as Postfix returns it
 *
 * cleanup adds the Message-Id. Returned content is cut after
 * bounce_size_limit bytes of body (the headers are always complete).
 *
 * Delay notices (BOUNCE_NOTICE_DELAY, _DELAY_PM) have the same layout
 * with "Delayed Mail (still being retried)" as the subject, a warning
 * text that says for how long delivery has failed and until when it is
 * retried, "Action: delayed" and "Will-Retry-Until:" per recipient, and
 * the message headers only (the caller asks for DSN_RET_HDRS).
 *
 * Status reports (BOUNCE_NOTICE_TRACE, sendmail -bv): subject "Mail
 * Delivery Status Report", a text that says the report was asked for,
 * the log's own action per recipient (deliverable, undeliverable), and
 * the message headers.
 *
 * Interface (bounce.h): bounce_orig_open(), bounce_orig_close(),
 * bounce_rcpt_wanted(), bounce_notify_write(). Dates: lib/mail_date.h.
 *
 * SECURITY: the returned message and the log texts came from the network.
 * Original-Recipient and Original-Envelope-Id carry the ORCPT/ENVID values
 * as RFC 3461 xtext (lib/xtext.c), never raw.
 * The original content is passed through as lines (long lines keep their
 * CONT pieces together up to the record bound); log texts had control
 * characters replaced by qmgr; long report lines are folded so no line
 * exceeds the SMTP limit because of us. The queue file is opened
 * read-only with O_NOFOLLOW; its SIZE record offsets are checked.
 *
 * DIAGNOSTICS: none fatal; an original queue file that cannot be opened,
 * or has a bad size record or envelope, is a warning with the queue id,
 * and the notice is not made (the caller answers failure).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "deliver.h"
#include "mail_date.h"
#include "mail_proto.h"
#include "msg.h"
#include "queue.h"
#include "record.h"
#include "xtext.h"
#include "bounce.h"

#define BOUNCE_FOLD_AT  78

/* ---- the original message ------------------------------------------------ */

int
bounce_orig_open(BOUNCE_ORIG *orig)
{
    VSTRING *path = vstring_alloc(256);
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    REC_SIZE sz;
    REC_WALK walk = {0, 0};
    long    sec;
    int     type, rc = -1;

    orig->fp = stream_open(queue_path(path, orig->queue_name, orig->queue_id),
                           O_RDONLY | O_NOFOLLOW, 0);
    if (orig->fp == 0) {
        msg_warn("%s: open %s: %m", orig->queue_id, STR(path));
    } else if (rec_get(orig->fp, buf, REC_MAX_DEFAULT) != REC_TYPE_SIZE
               || rec_size_parse(STR(buf), &sz) < 0) {
        msg_warn("%s: corrupt queue file %s: bad size record", orig->queue_id, STR(path));
    } else {
        orig->data_offset = sz.data_offset;
        orig->arrival = 0;
        while ((type = rec_get_walk(orig->fp, buf, REC_MAX_DEFAULT, &walk)) >= 0
               && type != REC_TYPE_MESG)
            if (type == REC_TYPE_TIME && sscanf(STR(buf), "%ld", &sec) == 1 && sec > 0)
                orig->arrival = (time_t) sec;
        if (type != REC_TYPE_MESG || stream_tell(orig->fp) != sz.data_offset)
            msg_warn("%s: corrupt queue file %s: bad envelope", orig->queue_id, STR(path));
        else
            rc = 0;
    }
    if (rc < 0 && orig->fp) {
        (void) stream_close(orig->fp);
        orig->fp = 0;
    }
    vstring_free(path);
    vstring_free(buf);
    return rc;
}

void
bounce_orig_close(BOUNCE_ORIG *orig)
{
    if (orig->fp)
        (void) stream_close(orig->fp);
    orig->fp = 0;
}

/* ---- helpers ----------------------------------------------------------- */

int
bounce_rcpt_wanted(const BOUNCE_RCPT *rcpt)
{
    return rcpt->notify == 0 || (rcpt->notify & DSN_NOTIFY_FAILURE) != 0;
}

int
bounce_rcpt_delay_wanted(const BOUNCE_RCPT *rcpt)
{
    return rcpt->notify == 0 || (rcpt->notify & DSN_NOTIFY_DELAY) != 0;
}

static int
bounce_is_delay(const BOUNCE_NOTICE *n)
{
    return n->kind == BOUNCE_NOTICE_DELAY || n->kind == BOUNCE_NOTICE_DELAY_PM;
}

/*
 * A trace report in which every recipient was "delivered" answers
 * NOTIFY=SUCCESS; any other trace report answers sendmail -bv.
 */
static int
bounce_trace_success(const BOUNCE_NOTICE *n, const BOUNCE_LOG *log)
{
    if (n->kind != BOUNCE_NOTICE_TRACE || log == NULL || log->count == 0)
        return 0;
    for (int i = 0; i < log->count; i++)
        if (strcmp(log->rcpt[i].action, "delivered") != 0)
            return 0;
    return 1;
}

static const char *
bounce_subject(const BOUNCE_NOTICE *n, const BOUNCE_LOG *log)
{
    if (bounce_trace_success(n, log))
        return "Successful Mail Delivery Report";
    switch (n->kind) {
    case BOUNCE_NOTICE_SENDER:
        return "Undelivered Mail Returned to Sender";
    case BOUNCE_NOTICE_DELAY:
        return "Delayed Mail (still being retried)";
    case BOUNCE_NOTICE_DELAY_PM:
        return "Postmaster Warning: Delayed Mail";
    case BOUNCE_NOTICE_TRACE:
        return "Mail Delivery Status Report";
    default:
        return "Postmaster Copy: Undelivered Mail";
    }
}

typedef struct OUT {
    BOUNCE_LINE_FN fn;
    void   *ctx;
    int     err;
    VSTRING *line;
} OUT;

static void
out_line(OUT *o, const char *text)
{
    if (o->err == 0 && o->fn(text, strlen(text), o->ctx) < 0)
        o->err = -1;
}

static void __attribute__((format(printf, 2, 3)))
out_fmt(OUT *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vstring_vsprintf(o->line, fmt, ap);
    va_end(ap);
    out_line(o, STR(o->line));
}

/*
 * Write text folded at white space near BOUNCE_FOLD_AT columns; the
 * continuation lines start with indent (white space: a valid header fold
 * as well as readable text).
 */
static void
out_folded(OUT *o, const char *text, const char *indent)
{
    size_t  len = strlen(text), start = 0, width = BOUNCE_FOLD_AT;

    while (len - start > width) {
        size_t  cut = start + width;

        while (cut > start && text[cut] != ' ')
            cut--;
        if (cut == start)               /* one long word: cut at the next blank */
            for (cut = start + width; cut < len && text[cut] != ' '; cut++)
                ;
        if (cut >= len)
            break;
        vstring_strcpy(o->line, start ? indent : "");
        vstring_ncat(o->line, text + start, cut - start);
        out_line(o, STR(o->line));
        start = cut + 1;
        width = BOUNCE_FOLD_AT - strlen(indent);
    }
    vstring_strcpy(o->line, start ? indent : "");
    vstring_cat(o->line, text + start);
    out_line(o, STR(o->line));
}

/*
 * Split an smtp agent reason "host NAME[ADDR] said: TEXT (in reply to
 * ... command)" into the remote MTA name and the server's text; 0 when
 * the reason has another form.
 */
static int
bounce_remote_reason(const char *reason, VSTRING *mta, VSTRING *text)
{
    const char *br, *said, *tail;

    if (strncmp(reason, "host ", 5) != 0 || (br = strchr(reason + 5, '[')) == 0
        || (said = strstr(br, "] said: ")) == 0 || br == reason + 5)
        return 0;
    vstring_ncpy(mta, reason + 5, (size_t) (br - reason - 5));
    said += 8;
    tail = strstr(said, " (in reply to ");
    vstring_ncpy(text, said, tail ? (size_t) (tail - said) : strlen(said));
    return 1;
}

/* ---- the parts ------------------------------------------------------------ */

static void
notify_headers(OUT *o, const BOUNCE_NOTICE *n, const BOUNCE_ORIG *orig,
               const BOUNCE_LOG *log, const char *boundary, const char *cte)
{
    VSTRING *date = vstring_alloc(128);

    mail_date(date, n->now);
    out_fmt(o, "Received: by %s (%s)", n->myhostname, n->mail_name);
    out_fmt(o, "\tid %s; %s", n->new_id, STR(date));
    out_fmt(o, "Date: %s", STR(date));
    out_fmt(o, "From: Mail Delivery System <MAILER-DAEMON@%s>", n->myhostname);
    out_fmt(o, "Subject: %s", bounce_subject(n, log));
    out_fmt(o, "To: %s", n->recipient);
    out_line(o, "Auto-Submitted: auto-replied");
    out_line(o, "MIME-Version: 1.0");
    out_line(o, "Content-Type: multipart/report; report-type=delivery-status;");
    out_fmt(o, "\tboundary=\"%s\"", boundary);
    out_fmt(o, "Content-Transfer-Encoding: %s", cte);
    out_line(o, "");
    out_line(o, "This is a MIME-encapsulated message.");
    out_line(o, "");
    vstring_free(date);
}

/*
 * The texts are those of Postfix 3.7's default templates (what "postconf
 * -b" prints), as the users who get them and the scripts that parse them
 * know them.
 */
static void
notify_postmaster_text(OUT *o)
{
    out_line(o, "For further assistance, please send mail to postmaster.");
    out_line(o, "");
    out_line(o, "If you do so, please include this problem report. You can");
    out_line(o, "delete your own text from the attached returned message.");
}

/* The body of a delay warning's first part: Postfix's template uses
 * $delay_warning_time_hours and $maximal_queue_lifetime_days (whole
 * units, rounded down). */
static void
notify_delay_text(OUT *o, const BOUNCE_NOTICE *n)
{
    out_line(o, "####################################################################");
    out_line(o, "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #");
    out_line(o, "####################################################################");
    out_line(o, "");
    out_fmt(o, "Your message could not be delivered for more than %ld hour(s).",
            n->warn_after / 3600);
    out_fmt(o, "It will be retried until it is %ld day(s) old.", n->retry_for / 86400);
    out_line(o, "");
    notify_postmaster_text(o);
}

/* The head of one MIME part: boundary, description and type. */
static void
notify_part(OUT *o, const char *boundary, const char *description, const char *type)
{
    out_fmt(o, "--%s", boundary);
    out_fmt(o, "Content-Description: %s", description);
    out_fmt(o, "Content-Type: %s", type);
}

static void
notify_text(OUT *o, const BOUNCE_NOTICE *n, const BOUNCE_LOG *log, const char *boundary)
{
    VSTRING *item = vstring_alloc(VSTRING_UNLIMITED);

    notify_part(o, boundary, "Notification", n->smtputf8 ?     /* as Postfix */
                "text/plain; charset=utf-8" : "text/plain; charset=us-ascii");
    if (n->smtputf8)
        out_line(o, "Content-Transfer-Encoding: 8bit");
    out_line(o, "");
    out_fmt(o, "This is the mail system at host %s.", n->myhostname);
    out_line(o, "");
    if (bounce_is_delay(n))
        notify_delay_text(o, n);
    else if (bounce_trace_success(n, log)) {
        out_line(o, "Your message was successfully delivered to the destination(s)");
        out_line(o, "listed below. If the message was delivered to mailbox you will");
        out_line(o, "receive no further notifications. Otherwise you may still receive");
        out_line(o, "notifications of mail delivery errors from other systems.");
    } else if (n->kind == BOUNCE_NOTICE_TRACE) {
        out_line(o, "Enclosed is the mail delivery report that you requested.");
    } else {
        out_line(o, "I'm sorry to have to inform you that your message could not");
        out_line(o, "be delivered to one or more recipients. It's attached below.");
        out_line(o, "");
        notify_postmaster_text(o);
    }
    out_line(o, "");
    out_line(o, "                   The mail system");
    for (int i = 0; i < log->count; i++) {
        const BOUNCE_RCPT *r = log->rcpt + i;

        if (*r->orig_rcpt && strcasecmp(r->orig_rcpt, r->recipient) != 0)
            vstring_sprintf(item, "<%s> (expanded from <%s>): %s", r->recipient,
                            r->orig_rcpt, r->reason);
        else
            vstring_sprintf(item, "<%s>: %s", r->recipient, r->reason);
        out_line(o, "");
        out_folded(o, STR(item), "    ");
    }
    out_line(o, "");
    vstring_free(item);
}

static void
notify_dsn_rcpt(OUT *o, const BOUNCE_RCPT *r, VSTRING *mta, VSTRING *text, VSTRING *item,
                time_t retry_until)
{
    out_line(o, "");
    vstring_sprintf(item, "Final-Recipient: rfc822; %s", r->recipient);
    out_folded(o, STR(item), "    ");
    /* RFC 3461 6.3: the ORCPT value as xtext (no raw byte of it in the report) */
    vstring_strcpy(item, "Original-Recipient: ");
    if (*r->dsn_orcpt)
        xtext_orcpt(item, r->dsn_orcpt);
    else if (*r->orig_rcpt) {
        vstring_cat(item, "rfc822;");
        xtext_encode(item, r->orig_rcpt);
    }
    if (*r->dsn_orcpt || *r->orig_rcpt)
        out_folded(o, STR(item), "    ");
    out_fmt(o, "Action: %s", r->action);
    out_fmt(o, "Status: %s", r->status);
    if (retry_until > 0) {
        mail_date(text, retry_until);
        out_fmt(o, "Will-Retry-Until: %s", STR(text));
    }
    if (bounce_remote_reason(r->reason, mta, text)) {
        out_fmt(o, "Remote-MTA: dns; %s", STR(mta));
        vstring_sprintf(item, "Diagnostic-Code: smtp; %s", STR(text));
    } else {
        vstring_sprintf(item, "Diagnostic-Code: X-Postfix; %s", r->reason);
    }
    out_folded(o, STR(item), "    ");
}

static void
notify_dsn(OUT *o, const BOUNCE_NOTICE *n, const BOUNCE_ORIG *orig,
           const BOUNCE_LOG *log, const char *boundary)
{
    VSTRING *date = vstring_alloc(128);
    VSTRING *mta = vstring_alloc(1024), *text = vstring_alloc(VSTRING_UNLIMITED);
    VSTRING *item = vstring_alloc(VSTRING_UNLIMITED);

    notify_part(o, boundary, "Delivery report", "message/delivery-status");
    out_line(o, "");
    out_fmt(o, "Reporting-MTA: dns; %s", n->myhostname);
    out_fmt(o, "X-Postfix-Queue-ID: %s", orig->queue_id);
    vstring_sprintf(item, "X-Postfix-Sender: rfc822; %s", orig->sender);
    out_folded(o, STR(item), "    ");
    if (orig->dsn_envid && *orig->dsn_envid) {
        vstring_strcpy(item, "Original-Envelope-Id: ");
        xtext_encode(item, orig->dsn_envid);
        out_folded(o, STR(item), "    ");
    }
    if (orig->arrival > 0) {
        mail_date(date, orig->arrival);
        out_fmt(o, "Arrival-Date: %s", STR(date));
    }
    for (int i = 0; i < log->count; i++)
        notify_dsn_rcpt(o, log->rcpt + i, mta, text, item,
                        bounce_is_delay(n) && orig->arrival > 0 && n->retry_for > 0
                        ? orig->arrival + (time_t) n->retry_for : 0);
    out_line(o, "");
    vstring_free(date);
    vstring_free(mta);
    vstring_free(text);
    vstring_free(item);
}

/* Content of the original message, as lines, into the third part. */
typedef struct COPY {
    OUT    *out;
    VSTRING *line;              /* pieces of a long line */
    int     headers_only;
    int     in_headers;
    long    body_bytes;
    long    limit;
} COPY;

static int
copy_piece(const char *data, size_t len, int is_eol, void *ctx)
{
    COPY   *c = ctx;

    vstring_ncat(c->line, data, len);   /* bounded: the rest is dropped */
    if (!is_eol)
        return 0;
    if (c->in_headers && LEN(c->line) == 0) {
        c->in_headers = 0;
        if (c->headers_only)
            return 1;                   /* done */
    }
    if (!c->in_headers) {
        c->body_bytes += (long) LEN(c->line) + 1;
        if (c->limit > 0 && c->body_bytes > c->limit)
            return 1;                   /* enough returned */
    }
    if (c->out->err == 0 && c->out->fn(STR(c->line), LEN(c->line), c->out->ctx) < 0)
        c->out->err = -1;
    vstring_reset(c->line);
    return c->out->err ? 2 : 0;
}

static int
notify_original(OUT *o, const BOUNCE_NOTICE *n, BOUNCE_ORIG *orig,
                const char *boundary, const char *cte)
{
    DELIVER_REQUEST req;
    COPY    c;
    int     rc;

    if (n->ret == DSN_RET_HDRS)
        notify_part(o, boundary, n->kind == BOUNCE_NOTICE_TRACE ? "Message Headers"
                    : "Undelivered Message Headers", "text/rfc822-headers");
    else
        notify_part(o, boundary, "Undelivered Message", "message/rfc822");
    out_fmt(o, "Content-Transfer-Encoding: %s", cte);
    out_line(o, "");
    out_fmt(o, "Return-Path: <%s>", orig->sender);     /* as Postfix returns it */
    memset(&req, 0, sizeof(req));
    req.queue_id = (char *) orig->queue_id;
    req.offset = orig->data_offset;
    req.fp = orig->fp;
    memset(&c, 0, sizeof(c));
    c.out = o;
    c.line = vstring_alloc(REC_MAX_DEFAULT);
    c.headers_only = n->ret == DSN_RET_HDRS;
    c.in_headers = 1;
    c.limit = n->size_limit;
    rc = deliver_read_content(&req, copy_piece, &c);
    if (rc == 0 && LEN(c.line) > 0)    /* a last line without newline */
        out_line(o, STR(c.line));
    vstring_free(c.line);
    out_line(o, "");
    out_fmt(o, "--%s--", boundary);
    return rc < 0 ? -1 : 0;
}

int
bounce_notify_write(const BOUNCE_NOTICE *notice, BOUNCE_ORIG *orig,
                    const BOUNCE_LOG *log, BOUNCE_LINE_FN fn, void *ctx)
{
    OUT     o;
    VSTRING *boundary = vstring_alloc(512);
    const char *cte = orig->encoding && strcmp(orig->encoding, "7bit") == 0 ? "7bit" : "8bit";
    int     rc;

    memset(&o, 0, sizeof(o));
    o.fn = fn;
    o.ctx = ctx;
    o.line = vstring_alloc(VSTRING_UNLIMITED);
    vstring_sprintf(boundary, "%s.%ld/%s", orig->queue_id, (long) notice->now,
                    notice->myhostname);
    notify_headers(&o, notice, orig, log, STR(boundary), cte);
    notify_text(&o, notice, log, STR(boundary));
    notify_dsn(&o, notice, orig, log, STR(boundary));
    rc = notify_original(&o, notice, orig, STR(boundary), cte);
    vstring_free(o.line);
    vstring_free(boundary);
    return o.err || rc ? -1 : 0;
}
