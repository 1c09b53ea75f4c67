/*
 * qmgr_scan.c - start-up recovery, and the incoming/deferred queue
 * scans that feed messages into active/ (and the active message list).
 *
 * Interface (qmgr.h): qmgr_scan_recover(), qmgr_scan_request(),
 * qmgr_scan_feed(), qmgr_scan_pending().
 *
 * A scan reads the queue's ids once (queue_scan_ids(): the hash
 * subdirectories of hash_queue_names included, so Postfix's deferred/0/...
 * files are found) and then feeds them a few at
 * a time (qmgr_scan_feed, called from the scheduler round), so a large
 * queue never stalls deliveries and never holds more than
 * qmgr_message_active_limit messages in memory. A scan requested while
 * one is running is remembered and done again when it ends.
 *
 * incoming/: only files that cleanup marked ready (owner-execute bit).
 * deferred/: only files whose mtime (next retry time) has come, unless
 * the request says to ignore it (flush). A stale defer log from the
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
#include "argv.h"
#include "msg.h"
#include "queue.h"
#include "qmgr.h"

typedef struct QMGR_SCAN {
    const char *queue;
    ARGV   *names;              /* NULL: no scan in progress */
    size_t  next;
    int     all;                /* ignore retry times */
    int     again;              /* another request came in meanwhile */
    int     again_all;
} QMGR_SCAN;

static QMGR_SCAN scan_incoming = {QUEUE_INCOMING, 0, 0, 0, 0, 0};
static QMGR_SCAN scan_deferred = {QUEUE_DEFERRED, 0, 0, 0, 0, 0};

/* Valid queue ids in a queue, hash subdirectories included. */
static ARGV *
scan_dir_names(const char *queue)
{
    return queue_scan_ids(queue);
}

void
qmgr_scan_recover(void)
{
    ARGV   *names = scan_dir_names(QUEUE_ACTIVE);

    for (size_t i = 0; i < names->argc; i++)
        if (queue_file_move(QUEUE_ACTIVE, QUEUE_INCOMING, names->argv[i], 0) < 0
            && errno != ENOENT)
            msg_warn("%s: move from %s to %s: %m", names->argv[i],
                     QUEUE_ACTIVE, QUEUE_INCOMING);
    if (names->argc > 0)
        (void) queue_sync_dir(QUEUE_INCOMING);
    argv_free(names);
}

static void
scan_start(QMGR_SCAN *scan, int all)
{
    if (scan->names) {
        scan->again = 1;
        scan->again_all |= all;
        return;
    }
    scan->names = scan_dir_names(scan->queue);
    scan->next = 0;
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
qmgr_scan_pending(void)
{
    return scan_incoming.names != 0 || scan_deferred.names != 0;
}

/* Next name of a scan, restarting it when asked meanwhile; NULL at end. */
static const char *
scan_next(QMGR_SCAN *scan)
{
    while (scan->names) {
        if (scan->next < scan->names->argc)
            return scan->names->argv[scan->next++];
        argv_free(scan->names);
        scan->names = 0;
        if (scan->again) {
            int     all = scan->again_all;

            scan->again = scan->again_all = 0;
            scan_start(scan, all);
        }
    }
    return 0;
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
            && (scan->all || st.st_mtime <= now);
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
    qmgr_message_group(msg);
    if (msg->refcount == 0)
        qmgr_message_finish(msg);
}

int
qmgr_scan_feed(int max)
{
    time_t  now = time((time_t *) 0);
    const char *id;
    int     fed = 0;

    while (fed < max && qmgr_message_count < var_qmgr_active_limit) {
        QMGR_SCAN *scan = &scan_incoming;

        if ((id = scan_next(scan)) == 0) {
            scan = &scan_deferred;
            if ((id = scan_next(scan)) == 0)
                break;
        }
        if (!scan_file_due(scan, id, now))
            continue;
        scan_activate(scan, id);
        fed++;
    }
    return fed;
}
