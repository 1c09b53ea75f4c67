/*
 * postcat_print.c - print the records of one queue file as Postfix's
 * postcat does.
 *
 * Interface (postcat.h): postcat_file(), postcat_find().
 *
 * With the envelope shown (-e, or no section option):
 *   *** ENVELOPE RECORDS <name> ***
 *   <record name>: <value>      (times as "Sun Nov 22 07:56:03 2026")
 *   *** MESSAGE CONTENTS <name> ***
 *   header and/or body lines
 *   *** HEADER EXTRACTED <name> ***
 *   extracted records
 *   *** MESSAGE FILE END <name> ***
 * -h/-b alone print just the text. -o puts each line's record offset in
 * front ("%9ld "). Named attributes print as Postfix prints them
 * ("named_attribute: notify_flags=6", "create_time: <time>"); 'L' is
 * content_filter outside the content. Pointer records (Postfix's milter
 * edits) are followed and padding skipped, as Postfix's postcat reads
 * them; neither is printed. CONT pieces are joined with the NORM that ends the
 * line. The header ends at the first empty line, which belongs to the body.
 *
 * SECURITY: records are bounded by POSTCAT_RECORD_MAX; a bad record ends
 * the file with a warning. Message text is printed as it is (postcat is
 * an administrator's tool, like Postfix's).
 *
 * DIAGNOSTICS: none fatal; a file that is not a valid queue file, a
 * malformed record or a premature end of file is a warning with the
 * offset, and printing that file stops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "queue.h"
#include "record.h"
#include "postcat.h"

typedef struct PC_STATE {
    STREAM *out;
    const char *name;
    int     flags;
    int     in_header;          /* content: still in the header */
    int     at_line_start;      /* content: the next record starts a line */
    int     line_shown;         /* content: the current line is printed */
} PC_STATE;

static void
pc_offset(PC_STATE *st, long offset)
{
    if (st->flags & POSTCAT_OFFSET)
        stream_printf(st->out, "%9ld ", offset);
}

static void
pc_marker(PC_STATE *st, long offset, const char *what)
{
    if (st->flags & POSTCAT_ENVELOPE) {
        pc_offset(st, offset);
        stream_printf(st->out, "*** %s %s ***\n", what, st->name);
    }
}

/* An envelope or extracted record. */
static void
pc_envelope(PC_STATE *st, long offset, int type, VSTRING *buf)
{
    if (!(st->flags & POSTCAT_ENVELOPE))
        return;
    pc_offset(st, offset);
    if (type == REC_TYPE_ATTR && strncmp(STR(buf), "create_time=", 12) == 0) {
        time_t  t = (time_t) strtol(STR(buf) + 12, NULL, 10);
        char   *ct = ctime(&t);

        stream_printf(st->out, "create_time: %.24s\n", ct ? ct : "");
    } else if (type == REC_TYPE_TIME || type == REC_TYPE_CTIM || type == REC_TYPE_WARN) {
        time_t  t = (time_t) strtol(STR(buf), NULL, 10);
        char   *ct = ctime(&t);

        stream_printf(st->out, "%s: %.24s\n", rec_type_name(type), ct ? ct : "");
    } else if (rec_type_known(type)) {
        stream_printf(st->out, "%s: %s\n", rec_type_name_env(type), STR(buf));
    } else {
        stream_printf(st->out, "unknown record type %d: %s\n", type, STR(buf));
    }
}

/* A content record (NORM or CONT). */
static void
pc_content(PC_STATE *st, long offset, int type, VSTRING *buf)
{
    if (st->at_line_start) {
        if (st->in_header && type == REC_TYPE_NORM && LEN(buf) == 0)
            st->in_header = 0;
        st->line_shown = (st->flags & (st->in_header ? POSTCAT_HEADER : POSTCAT_BODY)) != 0;
        if (st->line_shown)
            pc_offset(st, offset);
    }
    if (st->line_shown) {
        stream_write(st->out, STR(buf), LEN(buf));
        if (type == REC_TYPE_NORM)
            stream_putc(st->out, '\n');
    }
    st->at_line_start = (type == REC_TYPE_NORM);
}

int
postcat_file(STREAM *fp, const char *name, int flags, STREAM *out)
{
    PC_STATE st = {out, name, flags, 1, 1, 0};
    VSTRING *buf = vstring_alloc(POSTCAT_RECORD_MAX);
    int     type, section = 0, rc = 0;  /* 0 envelope, 1 content, 2 extracted */
    int     jumps = 0;
    long    offset;

    for (int first = 1;; first = 0) {
        offset = (long) stream_tell(fp);
        type = rec_get_raw(fp, buf, POSTCAT_RECORD_MAX);
        if (type == REC_TYPE_DTXT)
            continue;
        if (type == REC_TYPE_PTR && rec_ptr_follow(fp, STR(buf), &jumps) == 0)
            continue;
        if (first && type != REC_TYPE_SIZE && type != REC_TYPE_TIME) {
            msg_warn("%s: input is not a valid queue file", name);
            break;
        }
        if (first && (flags & POSTCAT_ENVELOPE))    /* no offset, as Postfix */
            stream_printf(out, "*** ENVELOPE RECORDS %s ***\n", name);
        if (type == REC_TYPE_EOF || type == REC_TYPE_ERROR) {
            msg_warn("%s: %s at offset %ld", name, type == REC_TYPE_EOF ?
                     "premature end of file" : "malformed record", offset);
            rc = -1;
            break;
        }
        if (type == REC_TYPE_END) {
            pc_marker(&st, offset, "MESSAGE FILE END");
            break;
        }
        if (type == REC_TYPE_MESG && section == 0) {
            pc_marker(&st, offset, "MESSAGE CONTENTS");
            section = 1;
        } else if (type == REC_TYPE_XTRA && section < 2) {
            pc_marker(&st, offset, "HEADER EXTRACTED");
            section = 2;
        } else if (section == 1 && (type == REC_TYPE_NORM || type == REC_TYPE_CONT)) {
            pc_content(&st, offset, type, buf);
        } else {
            pc_envelope(&st, offset, type, buf);
        }
    }
    vstring_free(buf);
    return rc;
}

const char *
postcat_find(const char *id)
{
    static const char *queues[] = {
        QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, QUEUE_MAILDROP,
        QUEUE_CORRUPT, 0,
    };
    static VSTRING *path;

    if (path == NULL)
        path = vstring_alloc(256);
    for (const char **q = queues; *q; q++)
        if (access(queue_path(path, *q, id), F_OK) == 0)
            return STR(path);
    return NULL;
}
