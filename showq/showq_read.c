/*
 * showq_read.c - read what the listing shows of one queue file, and the
 * delay reasons from its defer log.
 *
 * Interface (showq.h): showq_msg_init(), showq_msg_free(),
 * showq_msg_read(), showq_defer_read().
 *
 * A queue file (record.h) is read as: SIZE, the envelope up to MESG,
 * then a jump to the XTRA offset and the extracted section up to END;
 * content is never read. A maildrop file (maildrop.h) has no SIZE
 * record: it is read from start to end and its size is the sum of its
 * content lines. Recipients are the RCPT records (DONE ones are
 * delivered).
 *
 * SECURITY: queue files are written by cleanup, maildrop files by local
 * users through postdrop; both are read with bounded records
 * (SHOWQ_RECORD_MAX), opened with O_NOFOLLOW and only when they are
 * regular files. Defer logs are read up to SHOWQ_LOG_MAX bytes in lines
 * of at most SHOWQ_LOG_LINE_MAX.
 *
 * DIAGNOSTICS: none fatal; a queue file that cannot be opened (it may just
 * have gone) or is malformed is a warning and is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "record.h"
#include "showq.h"

#define SHOWQ_MAILDROP_READY 0744   /* postdrop's "finished" mode (Postfix's) */
#define SHOWQ_MAILDROP_READY_OLD 0444 /* older posthorn's */

void
showq_msg_init(SHOWQ_MSG *m)
{
    m->size = 0;
    m->arrival = 0;
    m->have_from = 0;
    m->sender = vstring_alloc(SHOWQ_RECORD_MAX);
    m->rcpts = argv_alloc();
}

void
showq_msg_free(SHOWQ_MSG *m)
{
    vstring_free(m->sender);
    argv_free(m->rcpts);
}

/* Apply one envelope or extracted record. */
static void
showq_record(SHOWQ_MSG *m, int type, VSTRING *buf)
{
    switch (type) {
    case REC_TYPE_TIME:
        m->arrival = strtol(STR(buf), NULL, 10);
        break;
    case REC_TYPE_FROM:
        vstring_strcpy(m->sender, STR(buf));
        m->have_from = 1;
        break;
    case REC_TYPE_RCPT:
        argv_add(m->rcpts, STR(buf));
        break;
    default:
        break;
    }
}

/* Records up to (not including) stop; 0, or -1 at a bad record or EOF. */
static int
showq_section(STREAM *fp, VSTRING *buf, SHOWQ_MSG *m, int stop, int count_content)
{
    REC_WALK walk = {0, 0};
    int     type;

    for (;;) {
        type = rec_get_walk(fp, buf, SHOWQ_RECORD_MAX, &walk);
        if (type == stop)
            return 0;
        if (type < 0)
            return -1;
        if (count_content && type == REC_TYPE_NORM)
            m->size += (long) LEN(buf) + 1;
        else if (count_content && type == REC_TYPE_CONT)
            m->size += (long) LEN(buf);
        else
            showq_record(m, type, buf);
    }
}

/* A queue file written by cleanup: SIZE first, content skipped. */
static int
showq_read_queue_file(STREAM *fp, VSTRING *buf, SHOWQ_MSG *m)
{
    REC_SIZE sz;

    if (rec_get(fp, buf, SHOWQ_RECORD_MAX) != REC_TYPE_SIZE
        || rec_size_parse(STR(buf), &sz) < 0)
        return -1;
    m->size = sz.data_size;
    if (showq_section(fp, buf, m, REC_TYPE_MESG, 0) < 0)
        return -1;
    if (stream_seek(fp, REC_SIZE_XTRA(&sz)) < 0 || rec_get(fp, buf, SHOWQ_RECORD_MAX) != REC_TYPE_XTRA)
        return -1;
    return showq_section(fp, buf, m, REC_TYPE_END, 0);
}

int
showq_msg_read(const char *queue, const char *id, SHOWQ_MSG *m)
{
    VSTRING *path = vstring_alloc(256);
    VSTRING *buf;
    STREAM *fp;
    struct stat st;
    int     maildrop = strcmp(queue, QUEUE_MAILDROP) == 0;
    int     rc = -1;

    fp = stream_open(queue_path(path, queue, id), O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
    vstring_free(path);
    if (fp == NULL) {
        if (errno != ENOENT)
            msg_warn("open %s/%s: %m", queue, id);
        return -1;
    }
    if (fstat(stream_fd(fp), &st) < 0 || !S_ISREG(st.st_mode)
        || (maildrop && (st.st_mode & 07777) != SHOWQ_MAILDROP_READY
            && (st.st_mode & 07777) != SHOWQ_MAILDROP_READY_OLD)
        || (!maildrop && !(st.st_mode & S_IXUSR))) {
        (void) stream_close(fp);
        return -1;
    }
    buf = vstring_alloc(SHOWQ_RECORD_MAX);
    if (maildrop)
        rc = showq_section(fp, buf, m, REC_TYPE_END, 1);
    else
        rc = showq_read_queue_file(fp, buf, m);
    if (rc == 0 && !m->have_from)
        rc = -1;
    if (rc == 0 && m->arrival <= 0)
        m->arrival = (long) st.st_mtime;
    /* Retired while we read (qmgr clears a delivered file's ready mode
     * before it recycles it, and a cleanup may then overwrite it:
     * queue.h): gone, not malformed. */
    if (rc < 0 && !maildrop && fstat(stream_fd(fp), &st) == 0
        && (!(st.st_mode & S_IXUSR) || st.st_size == 0))
        rc = -2;
    if (rc == -1)
        msg_warn("%s/%s: malformed queue file; skipped", queue, id);
    vstring_free(buf);
    (void) stream_close(fp);
    return rc;
}

void
showq_defer_read(const char *id, ARGV *rcpts, ARGV *reasons)
{
    VSTRING *path = vstring_alloc(256);
    VSTRING *line = vstring_alloc(SHOWQ_LOG_LINE_MAX);
    char   *rcpt = NULL;
    STREAM *fp;
    ssize_t n;
    long    total = 0;
    int     partial = 0;            /* inside an over-long line: skip it */
    int     whole;

    fp = stream_open(queue_path(path, QUEUE_DEFER, id), O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
    vstring_free(path);
    if (fp == NULL) {
        vstring_free(line);
        return;
    }
    while ((n = stream_gets(fp, line, SHOWQ_LOG_LINE_MAX)) > 0 && total < SHOWQ_LOG_MAX) {
        total += n;
        whole = STR(line)[n - 1] == '\n';
        if (partial || !whole) {
            partial = !whole;
            continue;
        }
        vstring_truncate(line, n - 1);
        if (LEN(line) == 0) {               /* end of one entry */
            mem_free(rcpt);
            rcpt = NULL;
        } else if (strncmp(STR(line), "recipient=", 10) == 0) {
            mem_free(rcpt);
            rcpt = mem_strdup(STR(line) + 10);
        } else if (strncmp(STR(line), "reason=", 7) == 0 && rcpt != NULL) {
            argv_add(rcpts, rcpt);
            argv_add(reasons, STR(line) + 7);
        }
    }
    mem_free(rcpt);
    vstring_free(line);
    (void) stream_close(fp);
}
