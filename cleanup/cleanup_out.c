/*
 * cleanup_out.c - writing the queue file.
 *
 * Interface (cleanup.h):
 *   cleanup_out(state, type, data, len)  one record; errors set CLEANUP_STAT_WRITE
 *   cleanup_out_str(state, type, str)
 *   cleanup_out_line(state, data, len)   one content line: CONT pieces of at
 *       most line_length_limit bytes, then a NORM record
 *   cleanup_out_header(state, text, len) a header whose physical lines are
 *       separated by '\n'
 *   cleanup_out_final(state)             rewrite the SIZE record in place,
 *       flush (cleanup_publish() fsyncs)
 *
 * Nothing is written once state->errs is set: the file will be removed.
 *
 * DIAGNOSTICS: none fatal; a queue file write error is a warning with the
 * queue id and a sticky failure of the message.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "mail_proto.h"
#include "msg.h"
#include "queue.h"
#include "record.h"

void
cleanup_out(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    if (state->errs)
        return;
    if (rec_put(state->dst, type, data, len) < 0) {
        msg_warn("%s: write queue file: %m", state->queue_id);
        state->errs |= CLEANUP_STAT_WRITE;
    }
}

void
cleanup_out_str(CLEANUP_STATE *state, int type, const char *str)
{
    cleanup_out(state, type, str, strlen(str));
}

void
cleanup_out_line(CLEANUP_STATE *state, const char *data, size_t len)
{
    size_t  piece = state->line_limit > 0 ? state->line_limit : len;

    while (len > piece) {
        cleanup_out(state, REC_TYPE_CONT, data, piece);
        data += piece;
        len -= piece;
    }
    cleanup_out(state, REC_TYPE_NORM, data, len);
}

void
cleanup_out_header(CLEANUP_STATE *state, const char *text, size_t len)
{
    const char *end = text + len;

    for (;;) {
        const char *nl = memchr(text, '\n', end - text);

        if (nl == NULL) {
            cleanup_out_line(state, text, end - text);
            return;
        }
        cleanup_out_line(state, text, nl - text);
        text = nl + 1;
    }
}

/*
 * The file is flushed here but not fsynced: cleanup_publish() sets the
 * ready mode and fsyncs once, which makes the data and the mode durable
 * together (one fsync per message instead of two).
 */
int
cleanup_out_final(CLEANUP_STATE *state)
{
    off_t   end;

    if (state->errs)
        return state->errs;
    end = stream_tell(state->dst);              /* after END: a recycled file is cut here */
    if (stream_seek(state->dst, 0) < 0
        || rec_size_put(state->dst, (long) state->data_offset,
                        (long) state->xtra_offset, state->rcpt_count,
                        REC_QMGR_OPTS(state->notify_any)) < 0
        || stream_flush(state->dst) < 0
        || queue_file_trim(stream_fd(state->dst), end) < 0) {
        msg_warn("%s: write queue file: %m", state->queue_id);
        state->errs |= CLEANUP_STAT_WRITE;
    }
    return state->errs;
}
