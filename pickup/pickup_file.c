/*
 * pickup_file.c - opening and checking one maildrop file.
 *
 * Interface (pickup.h): pickup_file_open(), pickup_file_check(),
 * pickup_file_close().
 *
 * SECURITY: a maildrop file belongs to the local user who submitted it
 * and may have been changed after postdrop wrote it, so it is untrusted
 * input. The name must be a queue id; the file is opened with O_NOFOLLOW
 * and O_NONBLOCK and must be the same regular, singly-linked file that
 * lstat() saw. Every record is checked against the maildrop grammar with
 * bounded lengths (maildrop.h) before a byte goes to cleanup. Only a
 * file owned by mail_owner with mode 0700 (postsuper -r) is checked as a
 * queue file (and sent by pickup_requeue.c); anyone else's is a maildrop
 * file. Both are read by the same loop, only the grammar differs. A
 * requeued queue file of Postfix's may hold pointer records (milter
 * edits): they are followed (rec_get_walk, bounded), and the records
 * appended after END are then no error; a user's file is read straight.
 *
 * DIAGNOSTICS: none fatal; a maildrop file that cannot be opened is a
 * warning and is skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "maildrop.h"
#include "mem.h"
#include "msg.h"
#include "pickup.h"
#include "privs.h"
#include "record.h"

static uid_t pickup_owner_uid;

/* Before the chroot: $mail_owner's uid (no passwd file in the jail). */
void
pickup_file_init(void)
{
    gid_t   gid;

    priv_mail_owner(&pickup_owner_uid, &gid);
}

/* Owned by mail_owner: only postsuper -r puts such files here. */
static int
pickup_file_from_owner(const struct stat *st)
{
    return st->st_uid == pickup_owner_uid;
}

int
pickup_file_open(PICKUP_FILE *pf, const char *name)
{
    struct stat st;
    int     fd;

    memset(pf, 0, sizeof(*pf));
    if (!queue_id_ok(name))
        return PICKUP_KEEP;             /* postdrop's temporary names, dot files */
    snprintf(pf->name, sizeof(pf->name), "%s", name);
    snprintf(pf->path, sizeof(pf->path), "%s/%s", QUEUE_MAILDROP, name);
    if (lstat(pf->path, &pf->st) < 0)
        return PICKUP_KEEP;             /* gone already */
    if (!S_ISREG(pf->st.st_mode)) {
        pf->why = "not a regular file";
        return PICKUP_CORRUPT;
    }
    if ((pf->st.st_mode & 07777) == PICKUP_MODE_REQUEUE && pickup_file_from_owner(&pf->st))
        pf->requeue = 1;                /* postsuper -r */
    else if ((pf->st.st_mode & 07777) != PICKUP_MODE_READY
             && (pf->st.st_mode & 07777) != PICKUP_MODE_READY_OLD)
        return PICKUP_KEEP;             /* postdrop is still writing it */
    if ((fd = open(pf->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
        if (errno != ENOENT)
            msg_warn("open %s: %m", pf->path);
        return PICKUP_KEEP;
    }
    if (fstat(fd, &st) < 0 || st.st_dev != pf->st.st_dev || st.st_ino != pf->st.st_ino
        || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        close(fd);
        pf->why = "file changed or has more than one link";
        return PICKUP_CORRUPT;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    pf->st = st;
    pf->src = stream_fdopen(fd);
    return -1;
}

/*
 * Remember what the copy needs: the sender and the arrival time; for a
 * requeued queue file also the recipients of its extracted section.
 */
static void
pickup_file_note(PICKUP_FILE *pf, int section, int type, const VSTRING *buf)
{
    if (section == MAILDROP_SECT_ENVELOPE && type == REC_TYPE_FROM) {
        mem_free(pf->sender);
        pf->sender = mem_strndup(STR(buf), LEN(buf));
    } else if (section == MAILDROP_SECT_ENVELOPE && type == REC_TYPE_TIME) {
        pf->time_usec = 0;
        pf->have_time = sscanf(STR(buf), "%ld %ld", &pf->time_sec, &pf->time_usec) >= 1;
    } else if (section == MAILDROP_SECT_EXTRA && pf->requeue) {
        pickup_requeue_note(pf, type, buf);
    }
}

/*
 * The whole file against its grammar: the maildrop one, or the queue
 * file one for a file that postsuper -r requeued.
 */
int
pickup_file_check(PICKUP_FILE *pf, long line_limit)
{
    MAILDROP_CHECK check;
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    REC_WALK walk = {0, 0};
    int     type, section, ret = 0;

    if (pf->requeue)
        maildrop_check_init_queue(&check);
    else
        maildrop_check_init(&check, line_limit);
    for (;;) {
        section = check.section;
        type = pf->requeue ? rec_get_walk(pf->src, buf, maildrop_record_max(&check), &walk)
            : rec_get(pf->src, buf, maildrop_record_max(&check));
        if (type == REC_TYPE_EOF) {
            ret = maildrop_check_end(&check);
            break;
        }
        if ((ret = maildrop_check(&check, type, STR(buf), LEN(buf))) < 0)
            break;
        pickup_file_note(pf, section, type, buf);
        if (ret == 1) {                 /* END: nothing may follow */
            ret = 0;
            if (walk.jumps == 0 && stream_getc(pf->src) != STREAM_EOF) {
                check.why = "data after the end record";
                ret = -1;
            }
            break;
        }
    }
    vstring_free(buf);
    if (ret == 0 && stream_seek(pf->src, 0) < 0) {
        check.why = "cannot rewind";
        ret = -1;
    }
    if (ret < 0)
        pf->why = check.why ? check.why : "malformed file";
    return ret;
}

void
pickup_file_close(PICKUP_FILE *pf)
{
    if (pf->src)
        (void) stream_close(pf->src);
    pf->src = NULL;
    mem_free(pf->sender);
    pf->sender = NULL;
    argv_free(pf->xtra);
    pf->xtra = NULL;
    argv_free(pf->xtra_pending);
    pf->xtra_pending = NULL;
}
