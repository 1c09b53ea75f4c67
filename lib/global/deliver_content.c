/*
 * deliver_content.c - read the message content of a delivery request
 * from the queue file, as lines.
 *
 * Interface: deliver.h (deliver_read_content, deliver_delivered_to). The
 * walk starts at the request's content offset and stops at the
 * end-of-content record.
 *
 * SECURITY: the queue file was written by cleanup, but its records are
 * still checked: each is bounded by REC_MAX_DEFAULT (rec_get), and any
 * record type other than normal, continued or end-of-content stops the
 * walk as a corrupt file. Postfix's pointer records (milter edits) are
 * followed, its padding skipped (rec_get_walk, bounded jumps).
 *
 * DIAGNOSTICS: nothing is fatal; a seek failure or an unexpected record
 * is a warning with the queue id and a -1 return.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "deliver.h"
#include "msg.h"
#include "record.h"

int
deliver_read_content(DELIVER_REQUEST *req, DELIVER_LINE_FN fn, void *ctx)
{
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    REC_WALK walk = {0, 0};
    int     type, ret = -1;

    if (stream_seek(req->fp, req->offset) < 0) {
        msg_warn("%s: seek queue file: %s", req->queue_id, strerror(errno));
        vstring_free(buf);
        return -1;
    }
    for (;;) {
        type = rec_get_walk(req->fp, buf, REC_MAX_DEFAULT, &walk);
        if (type == REC_TYPE_NORM || type == REC_TYPE_CONT) {
            int     r = fn(STR(buf), LEN(buf), type == REC_TYPE_NORM, ctx);

            if (r != 0) {
                ret = r;
                break;
            }
            continue;
        }
        if (type == REC_TYPE_XTRA)
            ret = 0;
        else
            msg_warn("%s: corrupt queue file: unexpected record type %d in content",
                     req->queue_id, type);
        break;
    }
    vstring_free(buf);
    return ret;
}

typedef struct DELIVERED_TO {
    ARGV   *values;
    size_t  max;
    int     at_bol;
} DELIVERED_TO;

/* One piece of a line: keep a header "Delivered-To: value"; stop at the
 * empty line that ends the headers. */
static int
deliver_delivered_to_line(const char *data, size_t len, int is_eol, void *ctx)
{
    DELIVERED_TO *scan = ctx;
    int     bol = scan->at_bol;
    const char *p, *end = data + len;

    scan->at_bol = is_eol;
    if (!bol)
        return 0;
    if (len == 0 && is_eol)
        return 1;                               /* end of headers */
    if (len < 13 || strncasecmp(data, "Delivered-To:", 13) != 0
        || scan->values->argc >= scan->max)
        return 0;
    for (p = data + 13; p < end && (*p == ' ' || *p == '\t'); p++)
        ;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    argv_addn(scan->values, p, (size_t) (end - p));
    for (char *q = scan->values->argv[scan->values->argc - 1]; *q; q++)
        if (*q >= 'A' && *q <= 'Z')
            *q += 'a' - 'A';
    return 0;
}

void
deliver_delivered_to(DELIVER_REQUEST *req, ARGV *values, size_t max)
{
    DELIVERED_TO scan = {values, max, 1};

    (void) deliver_read_content(req, deliver_delivered_to_line, &scan);
}

int
deliver_loop_found(DELIVER_REQUEST *req, const char *rcpt, size_t max)
{
    ARGV   *seen = argv_alloc();
    int     found = 0;

    deliver_delivered_to(req, seen, max);
    for (size_t i = 0; !found && i < seen->argc; i++)
        found = strcasecmp(seen->argv[i], rcpt) == 0;
    argv_free(seen);
    return found;
}
