/*
 * deliver_content.c - read the message content of a delivery request
 * from the queue file, as lines.
 *
 * Interface: deliver.h (deliver_read_content). The walk starts at the
 * request's content offset and stops at the end-of-content record.
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
