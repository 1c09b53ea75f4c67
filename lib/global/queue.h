/*
 * queue.h - queue directory names, queue ids and queue file paths.
 *
 * Queues live under $queue_directory: maildrop incoming active deferred
 * hold corrupt, and the per-message logs bounce defer trace. Processes
 * chdir to $queue_directory, so paths are relative: "incoming/3F2A81C0B7".
 *
 * Queue ids are Postfix's short form: five hex digits of the microsecond
 * part of the creation time, then the file's inode number in hex, in upper
 * case ("3F2A81C0B7"). They are unique while the file exists.
 *
 * SECURITY: queue ids arrive from clients (postqueue -i, postsuper -d,
 * showq requests, delivery requests); queue_id_ok() is checked before any
 * id becomes part of a path.
 *
 * DIAGNOSTICS: none; bad ids and names are refused by return value; the
 * callers log.
 */
#ifndef POSTHORN_QUEUE_H
#define POSTHORN_QUEUE_H

#include "vstring.h"
#include "stream.h"

#define QUEUE_MAILDROP  "maildrop"
#define QUEUE_INCOMING  "incoming"
#define QUEUE_ACTIVE    "active"
#define QUEUE_DEFERRED  "deferred"
#define QUEUE_HOLD      "hold"
#define QUEUE_CORRUPT   "corrupt"
#define QUEUE_BOUNCE    "bounce"
#define QUEUE_DEFER     "defer"
#define QUEUE_TRACE     "trace"

#define QUEUE_ID_MAX    32

int     queue_name_ok(const char *queue);
int     queue_id_ok(const char *id);    /* [0-9A-Za-z]{1,32} */
/* "queue/id" into path (relative to queue_directory). */
const char *queue_path(VSTRING *path, const char *queue, const char *id);

/*
 * Readiness: cleanup creates a queue file with mode 0600 and, once the
 * whole file is written and fsynced, sets mode 0700 (QUEUE_MODE_READY)
 * and fsyncs again before it answers its client. qmgr only picks up files
 * whose owner-execute bit is set, so a half-written file left by a crash
 * is never delivered; postsuper/postfix start remove stale ones.
 */
#define QUEUE_MODE_NEW    0600
#define QUEUE_MODE_READY  0700
int     queue_file_ready(int fd);        /* fchmod 0700 + fsync; 0 or -1 */
int     queue_file_is_ready(const char *path); /* 1 ready, 0 not, -1 missing */

/*
 * Create a new queue file in queue (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600)
 * under a temporary name, then link it to its queue id name (never
 * replacing an existing file) and remove the temporary name. Returns the
 * open stream (read/write) and fills id; NULL with errno on failure.
 */
STREAM *queue_file_create(const char *queue, VSTRING *id);
/* Move a queue file between queues (rename; fsyncs the target directory
 * when durable is set). 0 or -1 with errno. */
int     queue_file_move(const char *from_queue, const char *to_queue,
                        const char *id, int durable);
/* fsync a directory by path. */
int     queue_sync_dir(const char *dir);

#endif
