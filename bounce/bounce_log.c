/*
 * bounce_log.c - read a per-message delivery log (bounce/ID, defer/ID,
 * trace/ID) as qmgr writes it (qmgr/qmgr_log.c): per recipient a block of
 * "name=value" lines closed by an empty line:
 *
 *   original_recipient=  recipient=  offset=  dsn_orig_rcpt=  notify_flags=
 *   status=  action=  reason=
 *
 * (Postfix's layout, lib/global/bounce_log.h; "orig_rcpt=" of older
 * posthorn is read too; the readable "<recipient>: reason" line has no
 * known name and is skipped.)
 *
 * Unknown names are ignored (newer writers may add some); a block
 * without a recipient or with a malformed status is skipped with a
 * warning.
 *
 * Interface (bounce.h): bounce_log_read(), bounce_log_parse(),
 * bounce_log_filter(), bounce_log_free().
 *
 * SECURITY: the log is written by qmgr (same uid) but is still parsed
 * with bounds: lines longer than BOUNCE_LOG_LINE_MAX are cut (the rest
 * of the line is dropped), at most BOUNCE_LOG_RCPT_MAX entries are kept,
 * and every value is checked before use (status must look like a DSN
 * code; control characters were already replaced by the writer).
 *
 * DIAGNOSTICS: none fatal; a malformed, oversized or excess log entry is
 * skipped with a warning naming the queue id, and a read error is a
 * warning and a failed read.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "bounce.h"

/* "X.Y.Z" with X in 2, 4, 5 and 1-3 digits in the others. */
static int
bounce_status_ok(const char *s)
{
    int     n;

    if (s == 0 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
        return 0;
    s += 2;
    for (int part = 0; part < 2; part++) {
        for (n = 0; isdigit((unsigned char) *s); s++)
            n++;
        if (n < 1 || n > 3)
            return 0;
        if (part == 0 && *s++ != '.')
            return 0;
    }
    return *s == 0;
}

static void
bounce_rcpt_clear(BOUNCE_RCPT *r)
{
    mem_free(r->recipient);
    mem_free(r->orig_rcpt);
    mem_free(r->dsn_orcpt);
    mem_free(r->status);
    mem_free(r->action);
    mem_free(r->reason);
    memset(r, 0, sizeof(*r));
}

static void
bounce_set(char **slot, const char *value)
{
    mem_free(*slot);
    *slot = mem_strdup(value);
}

/* One "name=value" line (no newline) into the entry being read. */
static void
bounce_log_field(BOUNCE_RCPT *r, const char *line)
{
    const char *eq = strchr(line, '=');
    size_t  n;

    if (eq == 0)
        return;
    n = (size_t) (eq - line);
#define NAME_IS(s) (n == sizeof(s) - 1 && strncmp(line, s, n) == 0)
    if (NAME_IS("recipient"))
        bounce_set(&r->recipient, eq + 1);
    else if (NAME_IS("original_recipient") || NAME_IS("orig_rcpt"))  /* Postfix's, older posthorn's */
        bounce_set(&r->orig_rcpt, eq + 1);
    else if (NAME_IS("dsn_orig_rcpt"))
        bounce_set(&r->dsn_orcpt, eq + 1);
    else if (NAME_IS("notify_flags"))
        r->notify = atoi(eq + 1) & 0xff;
    else if (NAME_IS("status"))
        bounce_set(&r->status, eq + 1);
    else if (NAME_IS("action"))
        bounce_set(&r->action, eq + 1);
    else if (NAME_IS("reason"))
        bounce_set(&r->reason, eq + 1);
#undef NAME_IS
}

/* An entry is complete: keep it (filling defaults) or drop it. */
static void
bounce_log_keep(BOUNCE_LOG *log, BOUNCE_RCPT *r, const char *id)
{
    if (r->recipient == 0 && r->status == 0 && r->reason == 0) {
        bounce_rcpt_clear(r);           /* blank lines only */
        return;
    }
    if (r->recipient == 0 || !bounce_status_ok(r->status) || log->count >= BOUNCE_LOG_RCPT_MAX) {
        msg_warn("%s: skipping %s log entry%s%s", id,
                 log->count >= BOUNCE_LOG_RCPT_MAX ? "excess" : "malformed",
                 r->recipient ? " for " : "", r->recipient ? r->recipient : "");
        bounce_rcpt_clear(r);
        return;
    }
#define FILL(f, v) do { if (r->f == 0) r->f = mem_strdup(v); } while (0)
    FILL(orig_rcpt, "");
    FILL(dsn_orcpt, "");
    FILL(action, r->status[0] == '5' ? "failed" : r->status[0] == '4' ? "delayed" : "delivered");
    FILL(reason, "");
#undef FILL
    if (log->count == log->cap) {
        log->cap = log->cap ? log->cap * 2 : 8;
        log->rcpt = mem_realloc_array(log->rcpt, (size_t) log->cap, sizeof(*log->rcpt));
    }
    log->rcpt[log->count++] = *r;
    memset(r, 0, sizeof(*r));
}

BOUNCE_LOG *
bounce_log_parse(STREAM *fp, const char *id)
{
    BOUNCE_LOG *log = mem_alloc(sizeof(*log));
    VSTRING *line = vstring_alloc(BOUNCE_LOG_LINE_MAX + 1);
    BOUNCE_RCPT cur;
    ssize_t len;
    int     partial = 0;

    memset(&cur, 0, sizeof(cur));
    while ((len = stream_gets(fp, line, BOUNCE_LOG_LINE_MAX)) > 0) {
        int     had_nl = STR(line)[len - 1] == '\n';
        int     skip = partial;         /* tail of an over-long line */

        partial = !had_nl;
        if (had_nl)
            vstring_truncate(line, (size_t) len - 1);
        if (skip)
            continue;
        if (LEN(line) == 0)
            bounce_log_keep(log, &cur, id);
        else
            bounce_log_field(&cur, STR(line));
    }
    if (len < 0)
        msg_warn("%s: read error in delivery log", id);
    bounce_log_keep(log, &cur, id);     /* last entry without its blank line */
    vstring_free(line);
    return log;
}

BOUNCE_LOG *
bounce_log_read(const char *queue, const char *id)
{
    VSTRING *path = vstring_alloc(256);
    STREAM *fp;
    BOUNCE_LOG *log;

    fp = stream_open(queue_path(path, queue, id), O_RDONLY | O_NOFOLLOW, 0);
    vstring_free(path);
    if (fp == 0)
        return 0;
    log = bounce_log_parse(fp, id);
    (void) stream_close(fp);
    return log;
}

void
bounce_log_filter(BOUNCE_LOG *log, int (*keep)(const BOUNCE_RCPT *))
{
    int     n = 0;

    for (int i = 0; i < log->count; i++) {
        if (keep(log->rcpt + i))
            log->rcpt[n++] = log->rcpt[i];
        else
            bounce_rcpt_clear(log->rcpt + i);
    }
    log->count = n;
}

void
bounce_log_free(BOUNCE_LOG *log)
{
    if (log == 0)
        return;
    for (int i = 0; i < log->count; i++)
        bounce_rcpt_clear(log->rcpt + i);
    mem_free(log->rcpt);
    mem_free(log);
}
