/*
 * cleanup_milter_edit.c - the message as milters see it, and their
 * modifications applied to the queue file.
 *
 * Interface (cleanup.h):
 *   cleanup_milter_msg_open/_body/_close/_error  read the content back
 *       from the queue file (a second, read-only descriptor): logical
 *       headers, then body chunks with CRLF line ends
 *   cleanup_milter_rcpts(state, list)   the envelope recipients
 *   cleanup_milter_edit(state, milter, edits)  apply one milter's
 *       modifications
 *
 * Applying modifications: the file is not yet visible to qmgr (not in
 * ready mode), so cleanup rebuilds it: the new envelope (sender changed,
 * recipients deleted or added), the headers with the header edits, the
 * old or replacement body and the extracted section are written after
 * the current end of the file, then copied down to offset 0 and the file
 * is truncated. Nothing is held in memory but the headers (bounded by
 * header_size_limit per header) and a replacement body (bounded by
 * message_size_limit). Header indexes follow Sendmail: SMFIR_CHGHEADER's
 * index counts headers of that name from 1, SMFIR_INSHEADER's is the
 * position among all headers from 0. An empty value deletes a header.
 *
 * SECURITY: addresses and header text from the milter are written as
 * records (they cannot end the record structure); CR and NUL are
 * dropped from header text; a header value whose lines do not continue
 * (no leading white space) gets a tab so it cannot start new headers.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cleanup.h"
#include "mail_proto.h"
#include "mem.h"
#include "milter.h"
#include "msg.h"
#include "queue.h"
#include "record.h"

#define CLEANUP_MILTER_REC_MAX (1024 * 1024)

/* ---- reading the file back ---------------------------------------------- */

static STREAM *
cleanup_milter_reopen(CLEANUP_STATE *state)
{
    char    path[64];
    STREAM *fp;
    VSTRING *qp;

    if (stream_flush(state->dst) < 0)
        return NULL;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", stream_fd(state->dst));
    if ((fp = stream_open(path, O_RDONLY, 0)) != NULL)
        return fp;
    qp = vstring_alloc(256);
    fp = stream_open(queue_path(qp, QUEUE_INCOMING, state->queue_id), O_RDONLY, 0);
    vstring_free(qp);
    if (fp == NULL)
        msg_warn("%s: reopen queue file: %m", state->queue_id);
    return fp;
}

/* One logical line (NORM with its CONT pieces) before end; 1, 0 at end, -1. */
static int
cleanup_milter_line(CLEANUP_MILTER_MSG *msg, VSTRING *line, off_t *start)
{
    int     type;

    vstring_reset(line);
    *start = stream_tell(msg->fp);
    for (;;) {
        if (stream_tell(msg->fp) >= msg->end)
            return LEN(line) > 0 ? 1 : 0;
        type = rec_get_raw(msg->fp, msg->buf, CLEANUP_MILTER_REC_MAX);
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
            return -1;
        vstring_ncat(line, STR(msg->buf), LEN(msg->buf));
        if (type == REC_TYPE_NORM)
            return 1;
    }
}

static int
cleanup_milter_is_header(const char *s)
{
    size_t  n = strcspn(s, ": \t");

    return n > 0 && s[n] == ':';
}

int
cleanup_milter_msg_open(CLEANUP_STATE *state, CLEANUP_MILTER_MSG *msg)
{
    VSTRING *line = vstring_alloc(VSTRING_UNLIMITED);
    off_t   start;
    int     r;

    memset(msg, 0, sizeof(*msg));
    msg->headers = argv_alloc();
    msg->buf = vstring_alloc(CLEANUP_MILTER_REC_MAX);
    msg->chunk = vstring_alloc(VSTRING_UNLIMITED);
    msg->end = state->xtra_offset;
    if ((msg->fp = cleanup_milter_reopen(state)) == NULL
        || stream_seek(msg->fp, state->data_offset) < 0) {
        msg->error = 1;
        vstring_free(line);
        return -1;
    }
    while ((r = cleanup_milter_line(msg, line, &start)) > 0) {
        const char *s = STR(line);
        if (msg->headers->argc > 0 && (*s == ' ' || *s == '\t')) {
            char  **last = &msg->headers->argv[msg->headers->argc - 1];
            char   *joined = mem_printf("%s\n%s", *last, s);
            mem_free(*last);
            *last = joined;
        } else if (cleanup_milter_is_header(s)) {
            argv_add(msg->headers, s);
        } else {
            break;
        }
    }
    msg->body_offset = r > 0 ? start : stream_tell(msg->fp);
    /* The milter's body starts after the empty line that ends the headers. */
    msg->body_start = r > 0 && LEN(line) == 0 ? stream_tell(msg->fp) : msg->body_offset;
    if (r < 0)
        msg->error = 1;
    vstring_free(line);
    return msg->error ? -1 : stream_seek(msg->fp, msg->body_start);
}

/* The next body chunk in msg->chunk; 1, or 0 at the end (or error). */
int
cleanup_milter_msg_body(CLEANUP_STATE *state, CLEANUP_MILTER_MSG *msg)
{
    int     type;

    vstring_reset(msg->chunk);
    while (LEN(msg->chunk) < MILTER_CHUNK_SIZE && stream_tell(msg->fp) < msg->end) {
        type = rec_get_raw(msg->fp, msg->buf, CLEANUP_MILTER_REC_MAX);
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
            msg->error = 1;
            return 0;
        }
        vstring_ncat(msg->chunk, STR(msg->buf), LEN(msg->buf));
        if (type == REC_TYPE_NORM)
            vstring_ncat(msg->chunk, "\r\n", 2);
    }
    return LEN(msg->chunk) > 0;
}

void
cleanup_milter_msg_close(CLEANUP_MILTER_MSG *msg)
{
    if (msg->fp)
        (void) stream_close(msg->fp);
    msg->fp = NULL;
    argv_free(msg->headers);
    vstring_free(msg->buf);
    vstring_free(msg->chunk);
    msg->headers = NULL;
    msg->buf = msg->chunk = NULL;
}

int
cleanup_milter_msg_error(CLEANUP_STATE *state, const CLEANUP_MILTER_MSG *msg)
{
    if (msg->error)
        msg_warn("%s: cannot read the queue file back for milters", state->queue_id);
    return msg->error;
}

void
cleanup_milter_rcpts(CLEANUP_STATE *state, ARGV *rcpts)
{
    STREAM *fp = cleanup_milter_reopen(state);
    VSTRING *buf = vstring_alloc(CLEANUP_ENV_RECORD_MAX);
    int     type;

    while (fp && stream_tell(fp) < state->data_offset
           && (type = rec_get_raw(fp, buf, CLEANUP_ENV_RECORD_MAX)) > 0)
        if (type == REC_TYPE_RCPT)
            argv_add(rcpts, STR(buf));
    if (fp)
        (void) stream_close(fp);
    vstring_free(buf);
}

/* ---- header edits ----------------------------------------------------------- */

/*
 * "Name: value" from the milter's name and value. A folded value keeps
 * its lines, each continuing (a tab added where the line does not start
 * with white space); empty and blank lines are dropped, so a value can
 * neither start a new header nor end the header section.
 */
static char *
cleanup_milter_header_text(const MILTER *m, const char *name, const char *value)
{
    VSTRING *t = vstring_alloc(VSTRING_UNLIMITED);
    ARGV   *lines = argv_split(value, "\n");

    vstring_sprintf(t, "%s:%s", name, (m->pflags & SMFIP_HDR_LEADSPC) ? "" : " ");
    for (size_t i = 0; i < lines->argc; i++) {
        char   *l = lines->argv[i];
        size_t  n = strlen(l);
        if (n > 0 && l[n - 1] == '\r')
            l[--n] = 0;
        if (i == 0) {
            vstring_cat(t, l);
            continue;
        }
        if (strspn(l, " \t\r") == n)
            continue;
        vstring_cat(t, *l == ' ' || *l == '\t' ? "\n" : "\n\t");
        vstring_cat(t, l);
    }
    argv_free(lines);
    for (char *p = STR(t); *p; p++)                 /* a stray CR inside a line */
        if (*p == '\r')
            *p = ' ';
    return vstring_export(t);
}

static int
cleanup_milter_hdr_is(const char *text, const char *name)
{
    size_t  n = strlen(name);

    return strncasecmp(text, name, n) == 0 && (text[n] == ':' || text[n] == ' ' || text[n] == '\t');
}

static void
cleanup_milter_argv_insert(ARGV *a, size_t pos, char *str)
{
    argv_add_owned(a, str);
    if (pos >= a->argc - 1)
        return;
    memmove(a->argv + pos + 1, a->argv + pos, (a->argc - 1 - pos) * sizeof(char *));
    a->argv[pos] = str;
}

static void
cleanup_milter_argv_delete(ARGV *a, size_t pos)
{
    mem_free(a->argv[pos]);
    memmove(a->argv + pos, a->argv + pos + 1, (a->argc - pos) * sizeof(char *));
    a->argc--;
}

static void
cleanup_milter_chg_header(ARGV *hdrs, const MILTER *m, const MILTER_EDIT *e)
{
    long    seen = 0;
    long    want = e->index > 0 ? e->index : 1;

    for (size_t i = 0; i < hdrs->argc; i++) {
        if (!cleanup_milter_hdr_is(hdrs->argv[i], e->name) || ++seen < want)
            continue;
        if (*e->value == 0) {
            cleanup_milter_argv_delete(hdrs, i);
        } else {
            mem_free(hdrs->argv[i]);
            hdrs->argv[i] = cleanup_milter_header_text(m, e->name, e->value);
        }
        return;
    }
    if (*e->value)
        argv_add_owned(hdrs, cleanup_milter_header_text(m, e->name, e->value));
}

static void
cleanup_milter_headers(ARGV *hdrs, const MILTER *m, const MILTER_EDITS *edits)
{
    for (size_t i = 0; i < edits->count; i++) {
        const MILTER_EDIT *e = &edits->list[i];
        switch (e->cmd) {
        case SMFIR_ADDHEADER:
            argv_add_owned(hdrs, cleanup_milter_header_text(m, e->name, e->value));
            break;
        case SMFIR_INSHEADER:
            cleanup_milter_argv_insert(hdrs, (size_t) e->index,
                                       cleanup_milter_header_text(m, e->name, e->value));
            break;
        case SMFIR_CHGHEADER:
            cleanup_milter_chg_header(hdrs, m, e);
            break;
        }
    }
}

/* ---- rebuilding the file ------------------------------------------------------ */

/* An address from the milter: "<a@b>" or "a@b" -> "a@b" (a copy). */
static char *
cleanup_milter_addr(const char *addr)
{
    size_t  n = strlen(addr);

    if (n >= 2 && addr[0] == '<' && addr[n - 1] == '>')
        return mem_strndup(addr + 1, n - 2);
    return mem_strdup(addr);
}

static int
cleanup_milter_deleted(const MILTER_EDITS *edits, const char *rcpt, const char *orcp)
{
    for (size_t i = 0; i < edits->count; i++) {
        if (edits->list[i].cmd != SMFIR_DELRCPT)
            continue;
        char   *a = cleanup_milter_addr(edits->list[i].name);
        int     hit = strcasecmp(a, rcpt) == 0 || (orcp && strcasecmp(a, orcp) == 0);
        mem_free(a);
        if (hit)
            return 1;
    }
    return 0;
}

/* Recipients the milter added, before the MESG record; returns how many. */
static long
cleanup_milter_add_rcpts(CLEANUP_STATE *state, const MILTER_EDITS *edits, off_t base)
{
    long    added = 0;

    for (size_t i = 0; i < edits->count; i++) {
        const MILTER_EDIT *e = &edits->list[i];
        if (e->cmd != SMFIR_ADDRCPT && e->cmd != SMFIR_ADDRCPT_PAR)
            continue;
        char   *a = cleanup_milter_addr(e->name);
        if (*a && cleanup_rewrite_addr(state, "local", a, state->addr) == 0) {
            ARGV   *args = argv_split(e->args ? e->args : "", " ");
            for (size_t j = 0; j < args->argc; j++)
                if (strncasecmp(args->argv[j], "ORCPT=", 6) == 0)
                    cleanup_out_str(state, REC_TYPE_DSN_ORCPT, args->argv[j] + 6);
            argv_free(args);
            cleanup_out_str(state, REC_TYPE_ORCP, a);
            cleanup_rcpt_offset_add(state, stream_tell(state->dst) - base);
            cleanup_out_str(state, REC_TYPE_RCPT, STR(state->addr));
            added++;
        }
        mem_free(a);
    }
    return added;
}

static const MILTER_EDIT *
cleanup_milter_find(const MILTER_EDITS *edits, int cmd)
{
    const MILTER_EDIT *found = NULL;

    for (size_t i = 0; i < edits->count; i++)
        if (edits->list[i].cmd == cmd)
            found = &edits->list[i];            /* the last one wins */
    return found;
}

/* Envelope records up to MESG, edited; the new MESG end is data_offset. */
static int
cleanup_milter_envelope_out(CLEANUP_STATE *state, CLEANUP_MILTER_MSG *msg,
                            const MILTER_EDITS *edits, off_t base)
{
    const MILTER_EDIT *chg = cleanup_milter_find(edits, SMFIR_CHGFROM);
    ARGV   *pending = argv_alloc();          /* "T" + data: ORCP / DSN before a RCPT */
    char   *orcp = NULL;
    int     type;

    if (stream_seek(msg->fp, 0) < 0)
        return -1;
    state->rcpt_noffs = 0;                      /* found again as they are written */
    while ((type = rec_get(msg->fp, msg->buf, CLEANUP_MILTER_REC_MAX)) > 0) {
        const char *data = STR(msg->buf);
        if (type == REC_TYPE_SIZE) {
            (void) rec_size_put(state->dst, 0L, 0L, 0L, 0L);
        } else if (type == REC_TYPE_FROM && chg) {
            mem_free(state->sender);
            state->sender = cleanup_milter_addr(chg->name);
            cleanup_out_str(state, REC_TYPE_FROM, state->sender);
        } else if (type == REC_TYPE_ORCP || type == REC_TYPE_DSN_ORCPT
                   || type == REC_TYPE_DSN_NOTIFY) {
            argv_add_owned(pending, mem_printf("%c%s", type, data));
            if (type == REC_TYPE_ORCP) {
                mem_free(orcp);
                orcp = mem_strdup(data);
            }
        } else if (type == REC_TYPE_RCPT && cleanup_milter_deleted(edits, data, orcp)) {
            state->rcpt_count--;
            argv_truncate(pending, 0);
        } else {
            if (type == REC_TYPE_MESG)
                state->rcpt_count += cleanup_milter_add_rcpts(state, edits, base);
            for (size_t i = 0; i < pending->argc; i++)
                cleanup_out_str(state, pending->argv[i][0], pending->argv[i] + 1);
            argv_truncate(pending, 0);
            if (type == REC_TYPE_RCPT)
                cleanup_rcpt_offset_add(state, stream_tell(state->dst) - base);
            cleanup_out(state, type, data, LEN(msg->buf));
            if (type == REC_TYPE_MESG)
                break;
        }
        if (type == REC_TYPE_RCPT) {
            mem_free(orcp);
            orcp = NULL;
        }
    }
    argv_free(pending);
    mem_free(orcp);
    if (type != REC_TYPE_MESG)
        return -1;
    state->data_offset = stream_tell(state->dst) - base;
    return 0;
}

/* Raw records from the reader's position up to end. */
static int
cleanup_milter_copy(CLEANUP_STATE *state, CLEANUP_MILTER_MSG *msg, off_t end)
{
    while (stream_tell(msg->fp) < end) {
        int     type = rec_get_raw(msg->fp, msg->buf, CLEANUP_MILTER_REC_MAX);
        if (type < 0)
            return -1;
        cleanup_out(state, type, STR(msg->buf), LEN(msg->buf));
    }
    return 0;
}

static void
cleanup_milter_body_out(CLEANUP_STATE *state, const VSTRING *body)
{
    const char *p = STR(body), *end = p + LEN(body);

    cleanup_out(state, REC_TYPE_NORM, "", 0);   /* the empty line after the headers */
    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        size_t  n = nl ? (size_t) (nl - p) : (size_t) (end - p);
        cleanup_out_line(state, p, n > 0 && p[n - 1] == '\r' ? n - 1 : n);
        p += n + (nl != NULL);
    }
}

/* Copy [base, base + len) to offset 0 and cut the file there. */
static int
cleanup_milter_move_down(CLEANUP_STATE *state, off_t base, off_t len)
{
    char    buf[65536];
    int     fd = stream_fd(state->dst);

    if (stream_flush(state->dst) < 0)
        return -1;
    for (off_t done = 0; done < len;) {
        size_t  want = len - done > (off_t) sizeof(buf) ? sizeof(buf) : (size_t) (len - done);
        ssize_t got = pread(fd, buf, want, base + done);
        if (got <= 0 || pwrite(fd, buf, (size_t) got, done) != got)
            return -1;
        done += got;
    }
    if (ftruncate(fd, len) < 0)
        return -1;
    return stream_seek(state->dst, len);
}

static int
cleanup_milter_rebuild(CLEANUP_STATE *state, const MILTER *m, const MILTER_EDITS *edits)
{
    CLEANUP_MILTER_MSG msg;
    off_t   base, old_xtra = state->xtra_offset;
    int     ret = -1;

    if (stream_flush(state->dst) < 0 || cleanup_milter_msg_open(state, &msg) < 0) {
        cleanup_milter_msg_close(&msg);
        return -1;
    }
    base = stream_tell(state->dst);
    cleanup_milter_headers(msg.headers, m, edits);
    if (cleanup_milter_envelope_out(state, &msg, edits, base) == 0) {
        for (size_t i = 0; i < msg.headers->argc; i++)
            cleanup_out_header(state, msg.headers->argv[i], strlen(msg.headers->argv[i]));
        int     ok;
        if (edits->body) {
            cleanup_milter_body_out(state, edits->body);
            ok = stream_seek(msg.fp, old_xtra) == 0;
        } else {
            ok = stream_seek(msg.fp, msg.body_offset) == 0
                && cleanup_milter_copy(state, &msg, old_xtra) == 0;
        }
        if (ok) {
            state->xtra_offset = stream_tell(state->dst) - base;
            if (cleanup_milter_copy(state, &msg, base) == 0 && state->errs == 0)
                ret = cleanup_milter_move_down(state, base, stream_tell(state->dst) - base);
        }
    }
    cleanup_milter_msg_close(&msg);
    return ret;
}

/* milter_header_checks on each header the milter adds or changes. */
static void
cleanup_milter_header_checks(CLEANUP_STATE *state, const MILTER *m, const MILTER_EDITS *edits)
{
    for (size_t i = 0; i < edits->count && state->errs == 0; i++) {
        const MILTER_EDIT *e = &edits->list[i];
        if ((e->cmd == SMFIR_ADDHEADER || e->cmd == SMFIR_INSHEADER
             || e->cmd == SMFIR_CHGHEADER) && *e->value) {
            char   *text = cleanup_milter_header_text(m, e->name, e->value);
            cleanup_checks_milter_header(state, text);
            mem_free(text);
        }
    }
}

static int
cleanup_milter_changes(const MILTER_EDITS *edits)
{
    for (size_t i = 0; i < edits->count; i++)
        if (edits->list[i].cmd != SMFIR_QUARANTINE)
            return 1;
    return edits->body != NULL;
}

void
cleanup_milter_edit(CLEANUP_STATE *state, const MILTER *m, const MILTER_EDITS *edits)
{
    const MILTER_EDIT *q = cleanup_milter_find(edits, SMFIR_QUARANTINE);

    if (edits->body_overflow) {
        msg_warn("%s: milter %s: replacement body exceeds message_size_limit",
                 state->queue_id, m->name);
        state->errs |= CLEANUP_STAT_SIZE;
        return;
    }
    cleanup_milter_header_checks(state, m, edits);
    if (state->errs || (state->flags & CLEANUP_FLAG_DISCARD))
        return;                                 /* milter_header_checks: REJECT, DISCARD */
    if (cleanup_milter_changes(edits) && cleanup_milter_rebuild(state, m, edits) < 0) {
        msg_warn("%s: milter %s: cannot apply the modifications: %m", state->queue_id, m->name);
        state->errs |= CLEANUP_STAT_WRITE;
        return;
    }
    if (q)
        cleanup_milter_quarantine(state, q->name);
}
