/*
 * cleanup_message.c - the message content: headers and body.
 *
 * Interface (cleanup.h):
 *   cleanup_message(state, type, data, len)  one NORM/CONT/XTRA record
 *   cleanup_message_end(state)               end of content (XTRA)
 *
 * Every content record has stray CR and LF bytes replaced by spaces when
 * cleanup_replace_stray_cr_lf is set, and counts against
 * message_size_limit (CLEANUP_STAT_SIZE).
 *
 * The header section is parsed: physical lines are joined (CONT pieces)
 * and folded lines collected into one logical header, each bounded by
 * header_size_limit (the excess is discarded). Return-Path: headers are
 * removed; Received: and Delivered-To: headers count as hops
 * (hopcount_limit, CLEANUP_STAT_HOPS); Message-Id:, Date:, From: and their
 * Resent- forms are noted. At the end of the headers (an empty line, a
 * line that is not a header, or the end of the content) the missing
 * (Resent-)Message-Id:, Date: and From: headers are added when headers
 * may be rewritten (rewrite_context local, or remote with
 * remote_header_rewrite_domain set, or always_add_missing_headers). The
 * message id is logged as Postfix's cleanup does: "ID: message-id=<...>".
 *
 * Each header first goes through the content checks (cleanup_checks.c:
 * it may be dropped or replaced); sender and recipient headers then have
 * their addresses rewritten (cleanup_map.c). The body is copied record
 * by record through the body checks.
 *
 * SECURITY: all of this is untrusted network data. Lines and headers are
 * held in VSTRINGs bounded by header_size_limit; header names are parsed
 * within the stored length; nothing is interpreted beyond names.
 *
 * DIAGNOSTICS: none fatal; a hop count over hopcount_limit and a message
 * over message_size_limit are warnings and reject the message.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "address.h"
#include "cleanup.h"
#include "config.h"
#include "header_opts.h"
#include "mail_date.h"
#include "mail_proto.h"
#include "msg.h"
#include "record.h"

static int
cleanup_name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

/* Log "ID: [resent-]message-id=VALUE" with folding removed. */
static void
cleanup_log_msgid(CLEANUP_STATE *state, const char *prefix, const char *text, size_t len)
{
    const char *colon = memchr(text, ':', len);
    VSTRING *value = vstring_alloc(MSG_LINE_MAX);

    for (const char *cp = colon + 1; cp < text + len; cp++)
        if (*cp != '\n' && !(LEN(value) == 0 && (*cp == ' ' || *cp == '\t')))
            vstring_addch(value, *cp);
    msg_info("%s: %smessage-id=%s", state->queue_id, prefix, STR(value));
    vstring_free(value);
    state->msgid_logged = 1;
}

static void
cleanup_hop(CLEANUP_STATE *state)
{
    if (++state->hops > state->hop_limit && !(state->errs & CLEANUP_STAT_HOPS)) {
        msg_warn("%s: message rejected: hopcount exceeded", state->queue_id);
        state->errs |= CLEANUP_STAT_HOPS;
    }
}

/* Act on one complete logical header and write it (unless removed). */
static void
cleanup_header_flush(CLEANUP_STATE *state)
{
    const char *text = STR(state->header);
    size_t  len = LEN(state->header);
    size_t  n;
    const HEADER_OPTS *opts;

    if (len == 0)
        return;
    if (cleanup_checks_header(state, CLEANUP_HDR_PRIMARY) == CLEANUP_CHECK_DROP) {
        vstring_reset(state->header);
        return;
    }
    text = STR(state->header);                  /* maybe replaced */
    len = LEN(state->header);
    n = header_name_len(text, len);
    if (cleanup_name_is(text, n, "Return-Path")) {
        vstring_reset(state->header);
        return;
    }
    if (cleanup_name_is(text, n, "Received") || cleanup_name_is(text, n, "Delivered-To")) {
        cleanup_hop(state);
    } else if (cleanup_name_is(text, n, "Message-Id")) {
        state->headers_seen |= CLEANUP_HDR_MESSAGE_ID;
        cleanup_log_msgid(state, "", text, len);
    } else if (cleanup_name_is(text, n, "Date")) {
        state->headers_seen |= CLEANUP_HDR_DATE;
    } else if (cleanup_name_is(text, n, "From")) {
        state->headers_seen |= CLEANUP_HDR_FROM;
    } else if (n > 7 && strncasecmp(text, "Resent-", 7) == 0) {
        state->resent = 1;
        if (cleanup_name_is(text, n, "Resent-Message-Id")) {
            state->headers_seen |= CLEANUP_HDR_RESENT_MESSAGE_ID;
            cleanup_log_msgid(state, "resent-", text, len);
        } else if (cleanup_name_is(text, n, "Resent-Date")) {
            state->headers_seen |= CLEANUP_HDR_RESENT_DATE;
        } else if (cleanup_name_is(text, n, "Resent-From")) {
            state->headers_seen |= CLEANUP_HDR_RESENT_FROM;
        }
    }
    if ((opts = header_opts_find(text, n)) != NULL) {
        cleanup_map_header(state, opts->flags);
        text = STR(state->header);
        len = LEN(state->header);
    }
    cleanup_out_header(state, text, len);
    vstring_reset(state->header);
}

/* A display name, quoted when it has RFC 5322 specials. */
static void
cleanup_phrase(VSTRING *out, const char *name)
{
    if (strpbrk(name, "()<>@,;:\\\".[]") == NULL) {
        vstring_cat(out, name);
        return;
    }
    vstring_addch(out, '"');
    for (const char *cp = name; *cp; cp++) {
        if (*cp == '"' || *cp == '\\')
            vstring_addch(out, '\\');
        vstring_addch(out, *cp);
    }
    vstring_addch(out, '"');
}

/*
 * The From: header value: header_from_format "standard" gives
 * "Full Name <addr>", "obsolete" gives "addr (Full Name)"; without a full
 * name just "addr".
 */
static void
cleanup_from_value(CLEANUP_STATE *state, VSTRING *out)
{
    VSTRING *quoted = vstring_alloc(4096);
    const char *name = state->fullname;

    address_quote(quoted, state->sender);
    vstring_reset(out);
    if (name == NULL || *name == 0) {
        vstring_cat(out, STR(quoted));
    } else if (strcasecmp(var_hfrom_format, "obsolete") == 0) {
        vstring_sprintf(out, "%s (", STR(quoted));
        for (const char *cp = name; *cp; cp++)
            if (*cp != '(' && *cp != ')' && *cp != '\\')
                vstring_addch(out, *cp);
        vstring_addch(out, ')');
    } else {
        cleanup_phrase(out, name);
        vstring_sprintf_append(out, " <%s>", STR(quoted));
    }
    vstring_free(quoted);
}

/* Add the missing (Resent-)Message-Id:, Date:, From: headers. */
static void
cleanup_add_missing(CLEANUP_STATE *state)
{
    const char *pfx = state->resent ? "Resent-" : "";
    int     seen = state->headers_seen;
    VSTRING *hdr = vstring_alloc(8192);
    VSTRING *val = vstring_alloc(4096);
    time_t  when = state->time_sec;
    struct tm tm;
    char    stamp[32];

    if (state->hdr_context || var_always_add_hdrs) {
        if (!(seen & (state->resent ? CLEANUP_HDR_RESENT_MESSAGE_ID : CLEANUP_HDR_MESSAGE_ID))) {
            gmtime_r(&when, &tm);
            strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
            vstring_sprintf(hdr, "%sMessage-Id: <%s.%s@%s>", pfx, stamp, state->queue_id,
                            var_myhostname);
            cleanup_out_header(state, STR(hdr), LEN(hdr));
            cleanup_log_msgid(state, state->resent ? "resent-" : "", STR(hdr), LEN(hdr));
        }
        if (!(seen & (state->resent ? CLEANUP_HDR_RESENT_DATE : CLEANUP_HDR_DATE))) {
            mail_date(val, when);
            vstring_sprintf(hdr, "%sDate: %s", pfx, STR(val));
            cleanup_out_header(state, STR(hdr), LEN(hdr));
        }
        if (!(seen & (state->resent ? CLEANUP_HDR_RESENT_FROM : CLEANUP_HDR_FROM))
            && state->sender && *state->sender) {
            cleanup_from_value(state, val);
            vstring_sprintf(hdr, "%sFrom: %s", pfx, STR(val));
            cleanup_out_header(state, STR(hdr), LEN(hdr));
        }
    }
    if (!state->msgid_logged)
        msg_info("%s: message-id=<>", state->queue_id);
    vstring_free(hdr);
    vstring_free(val);
}

/* The header section ends; the line (if any) is the first body line. */
static void
cleanup_headers_end(CLEANUP_STATE *state)
{
    cleanup_header_flush(state);
    cleanup_add_missing(state);
    cleanup_checks_headers_end(state);
    state->in_headers = 0;
}

/* One complete physical line while in the header section. */
static void
cleanup_header_line(CLEANUP_STATE *state, const char *text, size_t len)
{
    if (len > 0 && (text[0] == ' ' || text[0] == '\t') && LEN(state->header) > 0) {
        vstring_addch(state->header, '\n');     /* folded: same header */
        vstring_ncat(state->header, text, len); /* overflow: excess dropped */
        return;
    }
    if (len > 0 && header_name_len(text, len) > 0) {
        cleanup_header_flush(state);
        vstring_ncat(state->header, text, len);
        return;
    }
    cleanup_headers_end(state);                 /* empty line or body text */
    if (len == 0)
        cleanup_out_line(state, text, len);
    else
        cleanup_checks_body(state, CLEANUP_REC_LINE, text, len);
}

/* Replace stray CR and LF; returns the data to use. */
static const char *
cleanup_fix_cr_lf(CLEANUP_STATE *state, const char *data, size_t len)
{
    if (!state->replace_cr_lf || (!memchr(data, '\r', len) && !memchr(data, '\n', len)))
        return data;
    vstring_ncpy(state->scratch, data, len);
    for (size_t i = 0; i < len; i++)
        if (STR(state->scratch)[i] == '\r' || STR(state->scratch)[i] == '\n')
            STR(state->scratch)[i] = ' ';
    return STR(state->scratch);
}

static void
cleanup_count(CLEANUP_STATE *state, int type, size_t len)
{
    state->content_bytes += len + (type == REC_TYPE_NORM);
    if (state->size_limit > 0 && state->content_bytes > state->size_limit
        && !(state->errs & CLEANUP_STAT_SIZE)) {
        msg_warn("%s: queue file size limit exceeded", state->queue_id);
        state->errs |= CLEANUP_STAT_SIZE;
    }
}

void
cleanup_message_end(CLEANUP_STATE *state)
{
    if (!state->in_headers)
        return;
    if (state->line_open || LEN(state->line) > 0) {
        state->line_open = 0;
        cleanup_header_line(state, STR(state->line), LEN(state->line));
        vstring_reset(state->line);
    }
    if (state->in_headers)
        cleanup_headers_end(state);
}

int
cleanup_message(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    if (type == REC_TYPE_XTRA) {
        cleanup_message_end(state);
        cleanup_checks_content_end(state);
        state->xtra_offset = stream_tell(state->dst);
        cleanup_out(state, REC_TYPE_XTRA, "", 0);
        cleanup_checks_extracted(state);
        state->section = CLEANUP_SECT_EXTRA;
        return 0;
    }
    if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
        return -1;
    data = cleanup_fix_cr_lf(state, data, len);
    cleanup_count(state, type, len);
    if (!state->in_headers) {
        cleanup_checks_body(state, type, data, len);
        return 0;
    }
    vstring_ncat(state->line, data, len);       /* overflow: excess dropped */
    if (type == REC_TYPE_CONT) {
        state->line_open = 1;
        return 0;
    }
    state->line_open = 0;
    cleanup_header_line(state, STR(state->line), LEN(state->line));
    vstring_reset(state->line);
    return 0;
}
