/*
 * qmgr_scan.c - start-up recovery, and the incoming/deferred queue
 * scans that feed messages into active/ (and the active message list).
 *
 * Interface (qmgr.h): qmgr_scan_recover(), qmgr_scan_request(),
 * qmgr_scan_feed(), qmgr_scan_pending(), qmgr_scan_room(); qmgr_message_new and
 * qmgr_rcpt_count (what is in active/).
 *
 * A scan reads the queue's directories as it goes (queue_scan_next():
 * the hash subdirectories of hash_queue_names included, so Postfix's
 * deferred/0/... files are found), and qmgr_scan_feed(), called from the
 * scheduler round, takes a few files at a time, so a large queue never
 * stalls deliveries and qmgr's memory does not grow with the queue: the
 * active messages stay within qmgr_message_active_limit and their
 * recipients within qmgr_message_recipient_limit (a message is taken
 * while the count is below the limit, so one message may go over it by
 * its own recipients). A scan requested while one is running is
 * remembered and done again when it ends.
 *
 * New mail first: incoming/ is fed before deferred/, and while messages
 * from incoming/ are in active/ (qmgr_message_new), a round takes at
 * most QMGR_FEED_DEFERRED_BUSY deferred message, so that retrying a
 * large deferred queue (a flush, or the periodic run, of mail for a dead
 * destination) uses the time that new mail leaves over and does not
 * hold up its delivery; deferred/ is never starved, it gets one message
 * per round.
 *
 * incoming/: only files that cleanup marked ready (owner-execute bit).
 * deferred/: only files whose mtime (next retry time) has come, unless
 * the request says to ignore it (flush: then every file not changed
 * since the pass began, so none is retried twice; see scan_untouched). A stale defer log from the
 * previous attempt is removed when the message becomes active again.
 *
 * SECURITY: directory entries that are not valid queue ids are ignored.
 *
 * DIAGNOSTICS: none fatal; a queue directory that cannot be opened, a file
 * that cannot be opened (tried again later), moved or removed, and a
 * corrupt file (saved to the corrupt queue) are warnings.
 */
#include <errno.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "msg.h"
#include "queue.h"
#include "qmgr.h"

typedef struct QMGR_SCAN {
    const char *queue;
    QUEUE_SCAN *dir;            /* NULL: no scan in progress */
    int     all;                /* ignore retry times */
    struct timespec started;    /* when this pass began (scan_untouched) */
    int     started_set;
    int     again;              /* another request came in meanwhile */
    int     again_all;
} QMGR_SCAN;

static QMGR_SCAN scan_incoming = {.queue = QUEUE_INCOMING};
static QMGR_SCAN scan_deferred = {.queue = QUEUE_DEFERRED};

int     qmgr_message_new;
long    qmgr_rcpt_count;

void
qmgr_scan_recover(void)
{
    QUEUE_SCAN *dir = queue_scan_open(QUEUE_ACTIVE);
    const char *id;
    int     moved = 0;

    while ((id = queue_scan_next(dir)) != 0) {
        if (queue_file_move(QUEUE_ACTIVE, QUEUE_INCOMING, id, 0) == 0)
            moved++;
        else if (errno != ENOENT)
            msg_warn("%s: move from %s to %s: %m", id, QUEUE_ACTIVE, QUEUE_INCOMING);
    }
    queue_scan_close(dir);
    if (moved > 0)
        (void) queue_sync_dir(QUEUE_INCOMING);
}

static void
scan_start(QMGR_SCAN *scan, int all)
{
    if (scan->dir) {
        scan->again = 1;
        scan->again_all |= all;
        return;
    }
    scan->started_set = 0;
    scan->dir = queue_scan_open(scan->queue);
    scan->all = all;
}

void
qmgr_scan_request(int flags)
{
    if (flags & QMGR_SCAN_INCOMING)
        scan_start(&scan_incoming, 1);
    if (flags & QMGR_SCAN_DEFERRED)
        scan_start(&scan_deferred, (flags & QMGR_SCAN_ALL) != 0);
    qmgr_sched_kick();
}

int
qmgr_scan_room(void)
{
    return qmgr_message_count < var_qmgr_active_limit
        && qmgr_rcpt_count < var_qmgr_rcpt_limit;
}

int
qmgr_scan_pending(void)
{
    return scan_incoming.dir != 0 || scan_deferred.dir != 0;
}

/* Next name of a scan, restarting it when asked meanwhile; NULL at end. */
static const char *
scan_next(QMGR_SCAN *scan)
{
    const char *id;

    while (scan->dir) {
        if ((id = queue_scan_next(scan->dir)) != 0)
            return id;
        queue_scan_close(scan->dir);
        scan->dir = 0;
        if (scan->again) {
            int     all = scan->again_all;

            scan->again = scan->again_all = 0;
            scan_start(scan, all);
        }
    }
    return 0;
}

/*
 * A flush takes every deferred file, but only once: the scan reads the
 * directory as it goes, and a message it deferred again (renamed back,
 * new mtime and ctime) may show up again later in the same pass. So it
 * takes only files not changed since its first move into active/, by the
 * file system's clock (that file's ctime: no clock of ours, which a
 * faked or stepped clock could put anywhere).
 *
 * That clock ticks coarsely (the kernel's timer tick, or multigrain
 * timestamps clamped to the last fine-grained one), so a file deferred
 * just before the flush can carry the very ctime of the first move: a
 * tie is "before" and taken. scan_mark_start() then waits for the clock
 * to move on (touching the first file until its ctime is later, a few
 * milliseconds at most), so that whatever qmgr defers afterwards is
 * later. A file system whose clock does not move within SCAN_TICK_WAIT
 * (one-second timestamps) may see a message deferred in that second
 * retried once more in the same pass: an extra attempt, never a lost one.
 */
#define SCAN_TICK_WAIT  20              /* tries, a millisecond apart */

static int
ts_after(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

static int
scan_untouched(const QMGR_SCAN *scan, const struct stat *st)
{
    return !scan->started_set || !ts_after(&st->st_ctim, &scan->started);
}

/* The first move of a flush pass: when it began (scan_untouched). */
static void
scan_mark_start(QMGR_SCAN *scan, const char *id)
{
    VSTRING *path = vstring_alloc(256);
    struct timespec ms = {0, 1000 * 1000};
    struct stat st;

    if (lstat(queue_path(path, QUEUE_ACTIVE, id), &st) == 0) {
        scan->started = st.st_ctim;
        scan->started_set = 1;
        for (int i = 0; i < SCAN_TICK_WAIT; i++) {
            if (chmod(STR(path), st.st_mode & 07777) < 0 || lstat(STR(path), &st) < 0
                || ts_after(&st.st_ctim, &scan->started))
                break;
            nanosleep(&ms, 0);
        }
    }
    vstring_free(path);
}

/* Is this file due? */
static int
scan_file_due(QMGR_SCAN *scan, const char *id, time_t now)
{
    VSTRING *path = vstring_alloc(256);
    struct stat st;
    int     due;

    queue_path(path, scan->queue, id);
    if (scan == &scan_incoming)
        due = queue_file_is_ready(STR(path)) == 1;
    else
        due = lstat(STR(path), &st) == 0 && S_ISREG(st.st_mode)
            && (scan->all ? scan_untouched(scan, &st) : st.st_mtime <= now);
    vstring_free(path);
    return due;
}

static void
scan_corrupt(const char *id, const char *why)
{
    msg_warn("%s: %s", id, why);
    msg_warn("saving corrupt file \"%s\" from queue \"%s\" to queue \"%s\"",
             id, QUEUE_ACTIVE, QUEUE_CORRUPT);
    if (queue_file_move(QUEUE_ACTIVE, QUEUE_CORRUPT, id, 0) < 0)
        msg_warn("%s: move to %s: %m", id, QUEUE_CORRUPT);
}

/* A file that cannot be opened now (EMFILE, EIO): retry it later. */
static void
scan_postpone(const char *id)
{
    VSTRING *path = vstring_alloc(256);
    struct timeval tv[2];

    msg_warn("%s: open %s: %m; trying again later", id,
             queue_path(path, QUEUE_ACTIVE, id));
    gettimeofday(&tv[0], 0);
    tv[1] = tv[0];
    tv[1].tv_sec += var_min_backoff;
    (void) utimes(STR(path), tv);
    if (queue_file_move(QUEUE_ACTIVE, QUEUE_DEFERRED, id, 0) < 0)
        msg_warn("%s: move to %s: %m", id, QUEUE_DEFERRED);
    vstring_free(path);
}

/* Bring one queue file into active/ and schedule it. */
static void
scan_activate(QMGR_SCAN *scan, const char *id)
{
    VSTRING *path;
    QMGR_MESSAGE *msg;
    const char *why;

    if (queue_file_move(scan->queue, QUEUE_ACTIVE, id, 0) < 0) {
        if (errno != ENOENT)
            msg_warn("%s: move from %s to %s: %m", id, scan->queue, QUEUE_ACTIVE);
        return;
    }
    if (scan == &scan_deferred) {
        if (scan->all && !scan->started_set)
            scan_mark_start(scan, id);
        path = vstring_alloc(256);
        if (unlink(queue_path(path, QUEUE_DEFER, id)) < 0 && errno != ENOENT)
            msg_warn("%s: remove %s: %m", id, STR(path));
        vstring_free(path);
    }
    if ((msg = qmgr_message_read(QUEUE_ACTIVE, id, &why)) == 0) {
        if (why)
            scan_corrupt(id, why);
        else if (errno != ENOENT)
            scan_postpone(id);
        return;
    }
    msg_info("%s: from=<%s>, size=%ld, nrcpt=%ld (queue active)",
             msg->queue_id, msg->sender, msg->size, msg->nrcpt);
    msg->next = qmgr_message_list;
    if (qmgr_message_list)
        qmgr_message_list->prev = msg;
    qmgr_message_list = msg;
    qmgr_message_count++;
    qmgr_rcpt_count += msg->rcpt_count;
    if ((msg->is_new = (scan == &scan_incoming)) != 0)
        qmgr_message_new++;
    qmgr_message_group(msg);
    if (msg->refcount == 0)
        qmgr_message_finish(msg);
}

int
qmgr_scan_feed(int max)
{
    time_t  now = time((time_t *) 0);
    const char *id;
    int     fed = 0, fed_deferred = 0, looked = 0;

    while (fed < max && looked++ < QMGR_SCAN_LOOK && qmgr_scan_room()) {
        QMGR_SCAN *scan = &scan_incoming;

        if ((id = scan_next(scan)) == 0) {
            if (qmgr_message_new > 0 && fed_deferred >= QMGR_FEED_DEFERRED_BUSY)
                break;                  /* new mail first */
            scan = &scan_deferred;
            if ((id = scan_next(scan)) == 0)
                break;
        }
        if (!scan_file_due(scan, id, now))
            continue;
        scan_activate(scan, id);
        fed++;
        fed_deferred += scan == &scan_deferred;
    }
    return fed;
}
