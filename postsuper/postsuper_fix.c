/*
 * postsuper_fix.c - postsuper -p (purge temporary files) and -s
 * (structure check).
 *
 * Interface (postsuper.h): postsuper_purge(), postsuper_structure().
 *
 * -p removes, in the message queues, the temporary files queue_file_create()
 *    leaves when its process dies between creating and naming a file
 *    ("tmp.<pid>.<n>"), once that process is gone or the file is a day
 *    old; and unfinished queue files (never marked ready, so never
 *    acknowledged to a client) older than $daemon_timeout.
 * -s does -p's work, warns about names that are neither queue ids nor
 *    temporary files, and removes defer/bounce/trace logs whose message
 *    is in no queue, and moves queue files and logs that are not in the
 *    hash subdirectory hash_queue_names/hash_queue_depth give them (after
 *    a change of those, or files copied in flat). Like Postfix's, it is
 *    meant for when the mail system is stopped.
 *
 * SECURITY: runs as mail_owner in $queue_directory; only names read from
 * the queue directories themselves are removed, never a path from input.
 *
 * DIAGNOSTICS: none fatal; a directory that cannot be opened and a file
 * with an unexpected name or type (left alone) are warnings.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "queue.h"
#include "postsuper.h"

#define PS_TEMP_MAX_AGE (24 * 3600)

static const char *ps_msg_queues[] = {
    QUEUE_MAILDROP, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, QUEUE_HOLD, 0,
};

/* Is this "tmp.<pid>.<n>" file garbage? */
static int
ps_stale_temp(const char *name, const struct stat *st, time_t now)
{
    long    pid = strtol(name + 4, NULL, 10);

    if (now - st->st_mtime > PS_TEMP_MAX_AGE)
        return 1;
    return pid > 0 && kill((pid_t) pid, 0) < 0 && errno == ESRCH;
}

typedef struct PS_SCAN {
    const char *queue;
    int     fix;
    time_t  now;
} PS_SCAN;

/* A queue file in the wrong hash subdirectory (hash_queue_depth or
 * hash_queue_names changed, or a flat queue from elsewhere): move it. */
static void
ps_rehash(const PS_SCAN *scan, const char *path, const char *id)
{
    VSTRING *want = vstring_alloc(256);

    queue_path(want, scan->queue, id);
    if (strcmp(path, STR(want)) != 0) {
        if (rename(path, STR(want)) < 0 && (errno != ENOENT || queue_mkdirs(STR(want)) < 0
                                            || rename(path, STR(want)) < 0))
            msg_warn("move %s to %s: %m", path, STR(want));
        else
            msg_info("%s: moved to %s", path, STR(want));
    }
    vstring_free(want);
}

/* One directory entry of a queue (queue_walk callback). */
static int
ps_scan_entry(const char *dir, const char *name, void *ctx)
{
    PS_SCAN *scan = ctx;
    struct stat st;
    char    path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (lstat(path, &st) < 0)
        return 0;
    if (strncmp(name, "tmp.", 4) == 0 && S_ISREG(st.st_mode)) {
        if (ps_stale_temp(name, &st, scan->now) && unlink(path) == 0)
            msg_info("%s: removed temporary file", path);
    } else if (!queue_id_ok(name) || !S_ISREG(st.st_mode)) {
        if (scan->fix)
            msg_warn("%s: unexpected file name or type; left alone", path);
    } else if (strcmp(scan->queue, QUEUE_INCOMING) == 0 && !(st.st_mode & S_IXUSR)
               && scan->now - st.st_mtime > var_daemon_timeout && unlink(path) == 0) {
        msg_info("%s: removed unfinished queue file", path);
    } else if (scan->fix) {
        ps_rehash(scan, path, name);
    }
    return 0;
}

/* One queue, hash subdirectories included; fix: also report odd names
 * and move misplaced files. */
static void
ps_scan_queue(const char *queue, int fix)
{
    PS_SCAN scan = {queue, fix, time(NULL)};

    (void) queue_walk(queue, ps_scan_entry, &scan);
}

void
postsuper_purge(void)
{
    for (const char **q = ps_msg_queues; *q; q++)
        ps_scan_queue(*q, 0);
}

/* Is id in any message queue? */
static int
ps_message_exists(const char *id)
{
    VSTRING *path = vstring_alloc(256);
    int     found = 0;

    for (const char **q = ps_msg_queues; *q && !found; q++)
        found = access(queue_path(path, *q, id), F_OK) == 0;
    vstring_free(path);
    return found;
}

/* A log file without its message (queue_walk callback); misplaced logs
 * move to their hash subdirectory. */
static int
ps_log_entry(const char *dir, const char *name, void *ctx)
{
    PS_SCAN *scan = ctx;
    char    path[512];

    if (!queue_id_ok(name))
        return 0;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!ps_message_exists(name)) {
        if (unlink(path) == 0)
            msg_info("%s: removed orphaned log file", path);
    } else {
        ps_rehash(scan, path, name);
    }
    return 0;
}

void
postsuper_structure(void)
{
    static const char *logs[] = {QUEUE_DEFER, QUEUE_BOUNCE, QUEUE_TRACE, 0};

    for (const char **q = ps_msg_queues; *q; q++)
        ps_scan_queue(*q, 1);
    for (const char **q = logs; *q; q++) {
        PS_SCAN scan = {*q, 1, time(NULL)};

        (void) queue_walk(*q, ps_log_entry, &scan);
    }
}
