/*
 * cleanup_checks.c - built-in content inspection: header_checks,
 * mime_header_checks, nested_header_checks and body_checks (header_checks(5)).
 *
 * Interface (cleanup.h): cleanup_checks_header, cleanup_checks_headers_end,
 * cleanup_checks_body, cleanup_checks_extracted, cleanup_checks_attr,
 * cleanup_checks_free.
 *
 * Checks run only when the client set CLEANUP_FLAG_FILTER (smtpd and
 * pickup clear it for receive_override_options=no_header_body_checks).
 * Each logical header (folded lines joined with '\n') or body line is
 * looked up as a key in the table list; the result is an action:
 *   REJECT [text]  reject the message ("5.7.1 message content rejected",
 *                  or the text, a 4.x.x text defers); no more checks
 *   WARN [text]    log only        HOLD [text]     put into hold/
 *   DISCARD [text] accept and drop; no more checks
 *   FILTER t:d     content filter record   REDIRECT a   only to a
 *   BCC a          add a recipient         PREPEND text  add a line before
 *   REPLACE text   replace the line        IGNORE        drop the line
 *   DUNNO, OK      nothing
 * Log lines as Postfix's cleanup: "ID: reject: header Subject: x from
 * host[addr]; from=<s> to=<r> proto=ESMTP helo=<h>: 5.7.1 text".
 *
 * MIME: unless disable_mime_input_processing is set, Content-Type
 * boundaries of multipart messages are tracked (up to mime_nesting_limit
 * levels): part headers get mime_header_checks, the headers of an
 * attached message/rfc822 get nested_header_checks (their Content-*
 * headers mime_header_checks), MIME headers in the primary section get
 * mime_header_checks, and body_checks see the body lines (not the part
 * headers or boundary lines), at most body_checks_size_limit bytes per
 * part.
 *
 * SECURITY: header and body text is untrusted. Lines are bounded by the
 * VSTRINGs that hold them (header_size_limit); the boundary stack by
 * mime_nesting_limit; a boundary is at most 200 bytes; the action text
 * from the table is trusted configuration but still bounded when used
 * as an address (ADDRESS_MAX).
 *
 * DIAGNOSTICS: none fatal; a table lookup problem is a warning and a
 * temporary failure ("message not accepted, try again later"); a bad
 * action text, FILTER action, address or unknown command in a check table
 * is a warning and the action is ignored; a queue file write error is a
 * warning and fails the message.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "address.h"
#include "cleanup.h"
#include "header_opts.h"
#include "mail_proto.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "record.h"

#define CLEANUP_BOUNDARY_MAX 200

#define MIME_BODY          0
#define MIME_PART_HEADERS  1

struct CLEANUP_MIME {
    ARGV   *bounds;             /* open multipart boundaries, innermost last */
    int     mode;               /* MIME_BODY or MIME_PART_HEADERS */
    int     part_class;         /* CLEANUP_HDR_MULTIPART or _NESTED */
    int     line_open;          /* the previous record was CONT */
    VSTRING *line;              /* part header mode: the physical line */
    long    body_bytes;         /* body_checks bytes in this part */
    char   *next_boundary;      /* Content-Type of the current header section */
    int     next_nested;        /* ... was message/rfc822 */
};

static struct {
    int     loaded;
    MAPS   *header, *mime, *nested, *body;
    MAPS   *milter;                     /* milter_header_checks */
    long    body_limit;
    long    nesting_limit;
    int     mime_off;
} cc;

void
cleanup_checks_load(void)
{
    if (cc.loaded)
        return;
    cc.loaded = 1;
    if (*var_header_checks)
        cc.header = maps_create("header_checks", var_header_checks, 0);
    if (*var_mimehdr_checks)
        cc.mime = maps_create("mime_header_checks", var_mimehdr_checks, 0);
    if (*var_nesthdr_checks)
        cc.nested = maps_create("nested_header_checks", var_nesthdr_checks, 0);
    if (*var_body_checks)
        cc.body = maps_create("body_checks", var_body_checks, 0);
    if (*var_milt_head_checks)
        cc.milter = maps_create("milter_header_checks", var_milt_head_checks, 0);
    cc.body_limit = var_body_check_len;
    cc.nesting_limit = var_mime_maxdepth;
    cc.mime_off = var_disable_mime_input;
}

/* Are content checks on for this message at all? */
static int
cleanup_checks_on(CLEANUP_STATE *state)
{
    if (!(state->flags & CLEANUP_FLAG_FILTER))
        return 0;
    cleanup_checks_load();
    return cc.header || cc.mime || cc.nested || cc.body;
}

void
cleanup_checks_attr(CLEANUP_STATE *state, const char *name, const char *value)
{
    char  **slot = NULL;

    if (strcmp(name, ATTR_CLIENT_NAME) == 0)
        slot = &state->client_name;
    else if (strcmp(name, ATTR_CLIENT_ADDR) == 0)
        slot = &state->client_addr;
    else if (strcmp(name, ATTR_HELO_NAME) == 0)
        slot = &state->helo_name;
    else if (strcmp(name, ATTR_PROTO_NAME) == 0)
        slot = &state->proto_name;
    if (slot) {
        mem_free(*slot);
        *slot = mem_strdup(value);
    }
}

/* "host[addr]", or "local" for a local submission. */
void
cleanup_log_client(const CLEANUP_STATE *state, VSTRING *line)
{
    if (state->client_name && state->client_addr)
        vstring_sprintf_append(line, "%s[%s]", state->client_name, state->client_addr);
    else
        vstring_cat(line, "local");
}

/* " from=<s> to=<r> proto=P helo=<H>" (the parts that are known). */
void
cleanup_log_envelope(const CLEANUP_STATE *state, VSTRING *line)
{
    vstring_sprintf_append(line, " from=<%s>", state->sender ? state->sender : "");
    if (state->first_rcpt)
        vstring_sprintf_append(line, " to=<%s>", state->first_rcpt);
    if (state->proto_name)
        vstring_sprintf_append(line, " proto=%s", state->proto_name);
    if (state->helo_name)
        vstring_sprintf_append(line, " helo=<%s>", state->helo_name);
}

/* "ID: action: header TEXT from host[addr]; from=<> to=<> proto=P helo=<H>: text" */
static void
cleanup_checks_log(CLEANUP_STATE *state, const char *action, const char *where,
                   const char *text, const char *optional)
{
    VSTRING *line = vstring_alloc(MSG_LINE_MAX);

    vstring_sprintf(line, "%s: %s: %s %.200s from ", state->queue_id, action, where, text);
    cleanup_log_client(state, line);
    vstring_addch(line, ';');
    cleanup_log_envelope(state, line);
    if (optional && *optional)
        vstring_sprintf_append(line, ": %s", optional);
    for (char *cp = STR(line); *cp; cp++)       /* folded header: one log line */
        if (*cp == '\n')
            *cp = ' ';
    msg_info("%s", STR(line));
    vstring_free(line);
}

/* REJECT [text]: set the reason and the status bit. */
static void
cleanup_checks_reject(CLEANUP_STATE *state, const char *where, const char *text,
                      const char *optional)
{
    if (*optional == 0) {
        vstring_strcpy(state->reason, "5.7.1 message content rejected");
    } else if ((optional[0] == '4' || optional[0] == '5') && optional[1] == '.'
               && isdigit((unsigned char) optional[2])) {
        vstring_strcpy(state->reason, optional);
    } else {
        vstring_sprintf(state->reason, "5.7.1 %s", optional);
    }
    state->errs |= STR(state->reason)[0] == '4' ? CLEANUP_STAT_DEFER : CLEANUP_STAT_CONT;
    state->checks_off = 1;
    cleanup_checks_log(state, "reject", where, text, STR(state->reason));
}

/* An address argument (REDIRECT, BCC) in internal form, or NULL. */
static char *
cleanup_checks_addr(CLEANUP_STATE *state, const char *arg)
{
    VSTRING *internal = vstring_alloc(ADDRESS_MAX);
    char   *result = NULL;

    address_unquote(internal, arg);
    if (LEN(internal) > 0 && !internal->overflow
        && cleanup_rewrite_addr(state, "local", STR(internal), state->addr) == 0)
        result = mem_strdup(STR(state->addr));
    vstring_free(internal);
    return result;
}

/* The line-changing actions; CLEANUP_CHECK_* or -1 when cmd is not one. */
static int
cleanup_checks_edit(CLEANUP_STATE *state, const char *cmd, const char *arg, int is_header,
                    VSTRING *replace, const char *map)
{
    if (strcasecmp(cmd, "IGNORE") == 0)
        return CLEANUP_CHECK_DROP;
    if (strcasecmp(cmd, "PREPEND") != 0 && strcasecmp(cmd, "REPLACE") != 0)
        return -1;
    if (*arg == 0 || (is_header && header_name_len(arg, strlen(arg)) == 0)) {
        msg_warn("%s: bad %s text in %s map: \"%.100s\"", state->queue_id, cmd, map, arg);
        return CLEANUP_CHECK_KEEP;
    }
    if (strcasecmp(cmd, "REPLACE") == 0) {
        vstring_strcpy(replace, arg);
        return CLEANUP_CHECK_KEEP;
    }
    if (is_header)
        cleanup_out_header(state, arg, strlen(arg));
    else
        cleanup_out_line(state, arg, strlen(arg));
    return CLEANUP_CHECK_KEEP;
}

/* The message-level actions; 0 when cmd was handled, -1 when unknown. */
static int
cleanup_checks_message(CLEANUP_STATE *state, const char *cmd, const char *arg,
                       const char *where, const char *text)
{
    char   *addr;

    if (strcasecmp(cmd, "REJECT") == 0) {
        cleanup_checks_reject(state, where, text, arg);
    } else if (strcasecmp(cmd, "WARN") == 0) {
        cleanup_checks_log(state, "warning", where, text, arg);
    } else if (strcasecmp(cmd, "HOLD") == 0) {
        state->flags |= CLEANUP_FLAG_HOLD;
        cleanup_checks_log(state, "hold", where, text, arg);
    } else if (strcasecmp(cmd, "DISCARD") == 0) {
        state->flags |= CLEANUP_FLAG_DISCARD;
        state->checks_off = 1;
        cleanup_checks_log(state, "discard", where, text, arg);
    } else if (strcasecmp(cmd, "FILTER") == 0) {
        if (strchr(arg, ':') == NULL || *arg == ':') {
            msg_warn("%s: bad FILTER action: \"%.100s\"", state->queue_id, arg);
            return 0;
        }
        mem_free(state->filter);
        state->filter = mem_strdup(arg);
        cleanup_checks_log(state, "filter", where, text, arg);
    } else if (strcasecmp(cmd, "REDIRECT") == 0 || strcasecmp(cmd, "BCC") == 0) {
        if ((addr = cleanup_checks_addr(state, arg)) == NULL) {
            msg_warn("%s: bad %s address: \"%.100s\"", state->queue_id, cmd, arg);
            return 0;
        }
        if (strcasecmp(cmd, "BCC") == 0) {
            argv_add(state->bcc, addr);
            mem_free(addr);
        } else {
            mem_free(state->redirect);
            state->redirect = addr;
            cleanup_checks_log(state, "redirect", where, text, addr);
        }
    } else if (strcasecmp(cmd, "DUNNO") != 0 && strcasecmp(cmd, "OK") != 0) {
        return -1;
    }
    return 0;
}

/* Act on a table result for text; CLEANUP_CHECK_*, replace set for REPLACE. */
static int
cleanup_checks_act(CLEANUP_STATE *state, const char *value, const char *where,
                   const char *text, int is_header, VSTRING *replace, const char *map)
{
    char   *copy = mem_strdup(value);
    char   *cmd = copy;
    char   *arg = copy + strcspn(copy, " \t");
    int     ret = CLEANUP_CHECK_KEEP;

    if (*arg) {
        *arg++ = 0;
        arg += strspn(arg, " \t");
    }
    if ((ret = cleanup_checks_edit(state, cmd, arg, is_header, replace, map)) < 0) {
        ret = CLEANUP_CHECK_KEEP;
        if (cleanup_checks_message(state, cmd, arg, where, text) < 0)
            msg_warn("%s: unknown command in %s map: %.100s", state->queue_id, map, value);
    }
    mem_free(copy);
    return ret;
}

/* Look up text in maps and act; CLEANUP_CHECK_*. */
static int
cleanup_checks_lookup(CLEANUP_STATE *state, MAPS *maps, const char *where,
                      const char *text, int is_header, VSTRING *replace)
{
    const char *value;
    int     ret;

    if (maps == NULL || state->checks_off)
        return CLEANUP_CHECK_KEEP;
    ret = maps_find(maps, text, &value);
    if (ret == MAP_FAIL) {
        msg_warn("%s: %s map lookup problem -- message not accepted, try again later",
                 state->queue_id, maps_title(maps));
        state->errs |= CLEANUP_STAT_WRITE;
        state->checks_off = 1;
        return CLEANUP_CHECK_KEEP;
    }
    if (ret != MAP_FOUND)
        return CLEANUP_CHECK_KEEP;
    return cleanup_checks_act(state, value, where, text, is_header, replace, maps_title(maps));
}

/*
 * milter_header_checks: a header that a milter added or changed. As in
 * Postfix, only the actions that do not edit the content apply: REJECT,
 * DISCARD, HOLD and WARN (DUNNO and OK do nothing); others are ignored
 * with a warning. Not subject to CLEANUP_FLAG_FILTER.
 */
void
cleanup_checks_milter_header(CLEANUP_STATE *state, const char *text)
{
    static const char *ok[] = {"REJECT", "DISCARD", "HOLD", "WARN", "DUNNO", "OK", 0};
    const char *value;
    char   *copy, *arg;
    int     ret, i;

    cleanup_checks_load();
    if (cc.milter == NULL || state->checks_off)
        return;
    if ((ret = maps_find(cc.milter, text, &value)) == MAP_FAIL) {
        msg_warn("%s: %s map lookup problem -- message not accepted, try again later",
                 state->queue_id, maps_title(cc.milter));
        state->errs |= CLEANUP_STAT_WRITE;
        return;
    }
    if (ret != MAP_FOUND)
        return;
    copy = mem_strdup(value);
    arg = copy + strcspn(copy, " \t");
    if (*arg) {
        *arg++ = 0;
        arg += strspn(arg, " \t");
    }
    for (i = 0; ok[i] && strcasecmp(ok[i], copy) != 0; i++)
        /* void */ ;
    if (ok[i])
        (void) cleanup_checks_message(state, copy, arg, "header", text);
    else
        msg_warn("%s: unsupported action in %s map: %.100s", state->queue_id,
                 maps_title(cc.milter), value);
    mem_free(copy);
}

/* ---- MIME structure ------------------------------------------------------- */

static CLEANUP_MIME *
cleanup_mime(CLEANUP_STATE *state)
{
    if (state->mime == NULL) {
        state->mime = mem_alloc(sizeof(*state->mime));
        state->mime->bounds = argv_alloc();
        state->mime->line = vstring_alloc(state->header_limit);
    }
    return state->mime;
}

/* Note a Content-Type header of the current header section. */
static void
cleanup_mime_content_type(CLEANUP_STATE *state, const char *text, size_t len)
{
    CLEANUP_MIME *mime = cleanup_mime(state);
    const char *value = memchr(text, ':', len);
    const char *cp;
    char    buf[CLEANUP_BOUNDARY_MAX + 1];
    size_t  n = 0;

    if (value == NULL)
        return;
    for (value++; *value == ' ' || *value == '\t' || *value == '\n'; value++)
         /* void */ ;
    if (strncasecmp(value, "message/rfc822", 14) == 0) {
        mime->next_nested = 1;
        return;
    }
    if (strncasecmp(value, "multipart/", 10) != 0 || (cp = strcasestr(value, "boundary")) == NULL)
        return;
    for (cp += 8; *cp == ' ' || *cp == '\t' || *cp == '\n'; cp++)
         /* void */ ;
    if (*cp++ != '=')
        return;
    for (; *cp == ' ' || *cp == '\t' || *cp == '\n'; cp++)
         /* void */ ;
    if (*cp == '"') {
        for (cp++; *cp && *cp != '"' && n < CLEANUP_BOUNDARY_MAX; cp++)
            buf[n++] = *cp;
    } else {
        for (; *cp && !strchr(" \t\n;", *cp) && n < CLEANUP_BOUNDARY_MAX; cp++)
            buf[n++] = *cp;
    }
    buf[n] = 0;
    if (n > 0) {
        mem_free(mime->next_boundary);
        mime->next_boundary = mem_strdup(buf);
    }
}

/* A header section (primary, part, nested) ended. */
static void
cleanup_mime_section_end(CLEANUP_STATE *state)
{
    CLEANUP_MIME *mime = cleanup_mime(state);

    mime->mode = MIME_BODY;
    mime->body_bytes = 0;
    if (mime->next_boundary && (long) mime->bounds->argc < cc.nesting_limit)
        argv_add(mime->bounds, mime->next_boundary);
    if (mime->next_nested) {
        mime->mode = MIME_PART_HEADERS;
        mime->part_class = CLEANUP_HDR_NESTED;
    }
    mem_free(mime->next_boundary);
    mime->next_boundary = NULL;
    mime->next_nested = 0;
}

/* ---- headers ------------------------------------------------------------------ */

int
cleanup_checks_header(CLEANUP_STATE *state, int hdr_class)
{
    size_t  n = header_name_len(STR(state->header), LEN(state->header));
    const HEADER_OPTS *opts = header_opts_find(STR(state->header), n);
    int     is_mime = opts && (opts->flags & HDR_OPT_MIME) && !cc.mime_off;
    MAPS   *maps;
    VSTRING *replace;
    int     ret;

    if (!cleanup_checks_on(state))
        return CLEANUP_CHECK_KEEP;
    if (hdr_class == CLEANUP_HDR_PRIMARY)
        maps = is_mime ? cc.mime : cc.header;
    else if (hdr_class == CLEANUP_HDR_MULTIPART)
        maps = cc.mime;
    else
        maps = is_mime ? cc.mime : cc.nested;
    replace = vstring_alloc(state->header_limit);
    ret = cleanup_checks_lookup(state, maps, "header", STR(state->header), 1, replace);
    if (ret == CLEANUP_CHECK_KEEP && LEN(replace) > 0)
        vstring_strcpy(state->header, STR(replace));
    vstring_free(replace);
    if (ret == CLEANUP_CHECK_KEEP && !cc.mime_off && n == 12
        && strncasecmp(STR(state->header), "Content-Type", 12) == 0)
        cleanup_mime_content_type(state, STR(state->header), LEN(state->header));
    return ret;
}

void
cleanup_checks_headers_end(CLEANUP_STATE *state)
{
    if (cleanup_checks_on(state) && !cc.mime_off)
        cleanup_mime_section_end(state);
}

/* ---- body ------------------------------------------------------------------- */

/* Write one body record (CLEANUP_REC_LINE: split per line_length_limit). */
static void
cleanup_body_out(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    if (type == CLEANUP_REC_LINE)
        cleanup_out_line(state, data, len);
    else
        cleanup_out(state, type, data, len);
}

/* Is the line a boundary of an open multipart? 1 part start, 2 end, 0 no. */
static int
cleanup_mime_boundary(CLEANUP_MIME *mime, const char *data, size_t len)
{
    for (size_t i = mime->bounds->argc; i-- > 0;) {
        const char *b = mime->bounds->argv[i];
        size_t  blen = strlen(b);
        size_t  end = len;

        while (end > 2 + blen && (data[end - 1] == ' ' || data[end - 1] == '\t'))
            end--;
        if (end < 2 + blen || strncmp(data + 2, b, blen) != 0)
            continue;
        if (end == 2 + blen) {
            argv_truncate(mime->bounds, i + 1);
            return 1;
        }
        if (end == 4 + blen && data[2 + blen] == '-' && data[3 + blen] == '-') {
            argv_truncate(mime->bounds, i);
            return 2;
        }
    }
    return 0;
}

/* A part header section: one complete physical line. */
static void
cleanup_part_header_line(CLEANUP_STATE *state, const char *text, size_t len)
{
    CLEANUP_MIME *mime = state->mime;

    if (len > 0 && (text[0] == ' ' || text[0] == '\t') && LEN(state->header) > 0) {
        vstring_addch(state->header, '\n');
        vstring_ncat(state->header, text, len);
        return;
    }
    if (LEN(state->header) > 0) {
        if (cleanup_checks_header(state, mime->part_class) == CLEANUP_CHECK_KEEP)
            cleanup_out_header(state, STR(state->header), LEN(state->header));
        vstring_reset(state->header);
    }
    if (len > 0 && header_name_len(text, len) > 0) {
        vstring_ncat(state->header, text, len);
        return;
    }
    cleanup_mime_section_end(state);
    if (len == 0)
        cleanup_out_line(state, text, len);
    else
        cleanup_checks_body(state, CLEANUP_REC_LINE, text, len);
}

/* body_checks on one body record, then write it. */
static void
cleanup_body_check(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    CLEANUP_MIME *mime = state->mime;
    VSTRING *text, *replace;
    int     ret = CLEANUP_CHECK_KEEP;

    if (cc.body == NULL || state->checks_off || mime->body_bytes >= cc.body_limit) {
        cleanup_body_out(state, type, data, len);
        return;
    }
    mime->body_bytes += len;
    text = vstring_alloc(VSTRING_UNLIMITED);
    replace = vstring_alloc(VSTRING_UNLIMITED);
    vstring_ncpy(text, data, len);
    ret = cleanup_checks_lookup(state, cc.body, "body", STR(text), 0, replace);
    if (ret == CLEANUP_CHECK_KEEP && LEN(replace) > 0)
        cleanup_body_out(state, type, STR(replace), LEN(replace));
    else if (ret == CLEANUP_CHECK_KEEP)
        cleanup_body_out(state, type, data, len);
    vstring_free(text);
    vstring_free(replace);
}

void
cleanup_checks_body(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    CLEANUP_MIME *mime;
    int     line_start;

    if (!cleanup_checks_on(state)) {
        cleanup_body_out(state, type, data, len);
        return;
    }
    mime = cleanup_mime(state);
    line_start = !mime->line_open;
    mime->line_open = (type == REC_TYPE_CONT);
    if (!cc.mime_off && mime->mode == MIME_PART_HEADERS) {
        vstring_ncat(mime->line, data, len);
        if (type == REC_TYPE_CONT)
            return;
        cleanup_part_header_line(state, STR(mime->line), LEN(mime->line));
        vstring_reset(mime->line);
        return;
    }
    if (!cc.mime_off && line_start && len >= 2 && data[0] == '-' && data[1] == '-'
        && mime->bounds->argc > 0) {
        int     b = cleanup_mime_boundary(mime, data, len);

        if (b != 0) {
            mime->mode = (b == 1) ? MIME_PART_HEADERS : MIME_BODY;
            mime->part_class = CLEANUP_HDR_MULTIPART;
            mime->body_bytes = 0;
            cleanup_body_out(state, type, data, len);
            return;
        }
    }
    cleanup_body_check(state, type, data, len);
}

/* ---- end of content ------------------------------------------------------------ */

/* REDIRECT: the envelope recipients are marked done, the new one added. */
static void
cleanup_checks_redirect(CLEANUP_STATE *state)
{
    char    done = REC_TYPE_DONE;

    if (stream_flush(state->dst) < 0) {
        state->errs |= CLEANUP_STAT_WRITE;
        return;
    }
    for (size_t i = 0; i < state->rcpt_noffs; i++) {
        if (pwrite(stream_fd(state->dst), &done, 1, state->rcpt_offs[i]) != 1) {
            msg_warn("%s: write queue file: %m", state->queue_id);
            state->errs |= CLEANUP_STAT_WRITE;
            return;
        }
    }
    cleanup_out_str(state, REC_TYPE_RCPT, state->redirect);
    state->rcpt_count = 1;
}

void
cleanup_checks_content_end(CLEANUP_STATE *state)
{
    CLEANUP_MIME *mime = state->mime;

    if (mime == NULL || mime->mode != MIME_PART_HEADERS)
        return;
    if (LEN(mime->line) > 0) {                  /* unfinished physical line */
        cleanup_part_header_line(state, STR(mime->line), LEN(mime->line));
        vstring_reset(mime->line);
    }
    if (LEN(state->header) > 0) {               /* unfinished part header */
        if (cleanup_checks_header(state, mime->part_class) == CLEANUP_CHECK_KEEP)
            cleanup_out_header(state, STR(state->header), LEN(state->header));
        vstring_reset(state->header);
    }
}

void
cleanup_checks_extracted(CLEANUP_STATE *state)
{
    if (state->errs || (state->flags & CLEANUP_FLAG_DISCARD))
        return;
    if (state->filter)
        cleanup_out_str(state, REC_TYPE_CONTENT_FILTER, state->filter);
    if (state->redirect)
        cleanup_checks_redirect(state);
    for (size_t i = 0; state->bcc && i < state->bcc->argc; i++) {
        cleanup_out_str(state, REC_TYPE_RCPT, state->bcc->argv[i]);
        state->rcpt_count++;
    }
}

void
cleanup_checks_free(CLEANUP_STATE *state)
{
    if (state->mime) {
        argv_free(state->mime->bounds);
        vstring_free(state->mime->line);
        mem_free(state->mime->next_boundary);
        mem_free(state->mime);
    }
    mem_free(state->client_name);
    mem_free(state->client_addr);
    mem_free(state->helo_name);
    mem_free(state->proto_name);
    mem_free(state->first_rcpt);
    mem_free(state->filter);
    mem_free(state->redirect);
    argv_free(state->bcc);
}
