/*
 * queue.h - queue directory names, queue ids and queue file paths.
 *
 * Queues live under $queue_directory: maildrop incoming active deferred
 * hold corrupt, and the per-message logs bounce defer trace. Processes
 * chdir to $queue_directory, so paths are relative: "incoming/3F2A81C0B7".
 *
 * Hashed queues (as Postfix): a queue named in hash_queue_names (default
 * "deferred, defer") keeps each file hash_queue_depth directory levels
 * down, one level per leading character of the queue id:
 * "deferred/0/0E6A1B223EB" at depth 1, "deferred/0/E/0E6A1B223EB" at
 * depth 2 (Postfix's own placement of short queue ids, so that either
 * program finds the other's files). The subdirectories are created on
 * demand (mode 0700, owned like the queue directory). queue_path() and
 * the functions below apply the hashing; readers list a queue with
 * queue_scan_*()/queue_walk(), never with a bare opendir(). The
 * parameters come from mail_params (mail_params_init() first).
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

#include "argv.h"
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
/* "queue/[hash/]id" into path (relative to queue_directory). */
const char *queue_path(VSTRING *path, const char *queue, const char *id);
/* The directory queue/id lives in: "queue" or "queue/h1[/h2...]". */
const char *queue_dir_path(VSTRING *path, const char *queue, const char *id);
/* Hash depth of queue: 0 when it is not a hashed queue. */
int     queue_hash_depth(const char *queue);
/* Create the missing hash subdirectories on the way to the file path
 * (0700; chown'ed like the top directory when running as root; the
 * parent of each new one fsynced). 0/-1. */
int     queue_mkdirs(const char *path);

/*
 * Visit every directory entry of a queue, descending into the hash
 * subdirectories (names of one character, down to the queue's depth):
 * fn(dir, name, ctx) with dir "queue" or "queue/0"; a non-zero return
 * stops the walk and is returned.
 */
typedef int (*QUEUE_WALK_FN) (const char *dir, const char *name, void *ctx);
int     queue_walk(const char *queue, QUEUE_WALK_FN fn, void *ctx);
/* The valid queue ids of a queue (hash subdirectories included). */
ARGV   *queue_scan_ids(const char *queue);

/*
 * The same one id at a time, reading the directories as it goes (one
 * open directory per hash level), so that memory does not grow with the
 * queue: qmgr's scans and showq's listing. queue_scan_next() returns the
 * next valid id (valid until the next call) or NULL at the end; an
 * unreadable queue or subdirectory is empty. Files renamed into or out
 * of the queue meanwhile may or may not be seen (readdir(3)).
 */
typedef struct QUEUE_SCAN QUEUE_SCAN;
QUEUE_SCAN *queue_scan_open(const char *queue);
const char *queue_scan_next(QUEUE_SCAN *scan);
void    queue_scan_close(QUEUE_SCAN *scan);

/*
 * Readiness: cleanup creates a queue file with mode 0600 and, once the
 * whole file is written and fsynced, sets mode 0700 (QUEUE_MODE_READY)
 * and fsyncs again before it answers its client. qmgr only picks up files
 * whose owner-execute bit is set, so a half-written file left by a crash
 * is never delivered; postsuper/postfix start remove stale ones.
 */
#define QUEUE_MODE_NEW    0600
#define QUEUE_MODE_READY  0700
#define QUEUE_MODE_RECYCLED 01600       /* retired, waiting in recycle/ */
int     queue_file_ready(int fd);        /* fchmod 0700 + fsync; 0 or -1 */
int     queue_file_is_ready(const char *path); /* 1 ready, 0 not, -1 missing */

/*
 * Create a new queue file in queue, mode 0600, named by its queue id
 * (never replacing an existing file): in incoming/ a recycled file
 * renamed to it (below), else an unnamed file (O_TMPFILE) linked to it,
 * else a file made under a temporary name (O_CREAT|O_EXCL|O_NOFOLLOW),
 * linked, and the temporary name removed (queue.c says when each is
 * used). Returns the open stream (read/write, at offset 0) and fills id;
 * NULL with errno on failure. A recycled file still holds its last
 * message: the writer overwrites it from the start and, before it marks
 * the file ready, cuts it at the end of what it wrote with
 * queue_file_trim(fd, end) (0 or -1 with errno; no system call but an
 * fstat when the file is no longer than end).
 */
STREAM *queue_file_create(const char *queue, VSTRING *id);
int     queue_file_trim(int fd, off_t end);
/*
 * Recycling (QUEUE_RECYCLE, "recycle" under queue_directory, mode 0700,
 * owned by mail_owner; not a queue: nothing scans or lists it): instead
 * of unlinking a delivered message's file, queue_file_retire() sets its
 * mode to QUEUE_MODE_RECYCLED (never ready) and renames it to
 * recycle/<id>, content and blocks kept up to 64 kB (or unlinks it when about
 * QUEUE_RECYCLE_MAX files wait there, or the directory is missing); 0 or
 * -1 with errno. queue_file_create() renames a waiting file to the new
 * id in incoming/ (renameat2 RENAME_NOREPLACE) and sets mode 0600 before
 * it makes a new one: the inode and its blocks are neither freed nor
 * allocated per message.
 */
#define QUEUE_RECYCLE   "recycle"
int     queue_file_retire(const char *queue, const char *id);
/* Move a queue file between queues (rename; fsyncs the target directory
 * when durable is set). 0 or -1 with errno. */
int     queue_file_move(const char *from_queue, const char *to_queue,
                        const char *id, int durable);
/* Make queue/id due now: its times set to the current time (deferred/
 * and incoming/ go by mtime). 0 or -1 with errno. */
int     queue_file_touch(const char *queue, const char *id);
/* fsync a directory by path. */
int     queue_sync_dir(const char *dir);

/*
 * Does fsync() of a file on a file system of type f_type (statfs) also
 * make durable the directory entries made for it before the fsync
 * (create, link, rename)? 1 for ext4 and xfs, whose name operations are
 * journal transactions committed in order with the inode's (see
 * docs/PERFORMANCE.md section 4), 0 for any other type (btrfs, tmpfs,
 * NFS, ...): there the directory is fsynced as well.
 */
int     queue_fs_syncs_names(long f_type);
/* The same for the file system holding fd; the answer of the first call
 * is kept for the life of the process (one queue directory). 0 on error. */
int     queue_fd_syncs_names(int fd);

#endif
