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
 *    is in no queue. Like Postfix's, it is meant for when the mail system
 *    is stopped.
 *
 * SECURITY: runs as mail_owner in $queue_directory; only names read from
 * the queue directories themselves are removed, never a path from input.
 *
 * DIAGNOSTICS: none fatal; a directory that cannot be opened and a file
 * with an unexpected name or type (left alone) are warnings.
 */
#include <dirent.h>
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

/* One directory; fix: also report odd names. */
static void
ps_scan_queue(const char *queue, int fix)
{
    DIR    *dp;
    struct dirent *de;
    struct stat st;
    char    path[512];
    time_t  now = time(NULL);

    if ((dp = opendir(queue)) == NULL) {
        msg_warn("open directory %s: %m", queue);
        return;
    }
    while ((de = readdir(dp)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", queue, de->d_name);
        if (lstat(path, &st) < 0)
            continue;
        if (strncmp(de->d_name, "tmp.", 4) == 0 && S_ISREG(st.st_mode)) {
            if (ps_stale_temp(de->d_name, &st, now) && unlink(path) == 0)
                msg_info("%s: removed temporary file", path);
        } else if (!queue_id_ok(de->d_name) || !S_ISREG(st.st_mode)) {
            if (fix)
                msg_warn("%s: unexpected file name or type; left alone", path);
        } else if (strcmp(queue, QUEUE_INCOMING) == 0 && !(st.st_mode & S_IXUSR)
                   && now - st.st_mtime > var_daemon_timeout && unlink(path) == 0) {
            msg_info("%s: removed unfinished queue file", path);
        }
    }
    closedir(dp);
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
    char    path[512];

    for (const char **q = ps_msg_queues; *q; q++) {
        snprintf(path, sizeof(path), "%s/%s", *q, id);
        if (access(path, F_OK) == 0)
            return 1;
    }
    return 0;
}

void
postsuper_structure(void)
{
    static const char *logs[] = {QUEUE_DEFER, QUEUE_BOUNCE, QUEUE_TRACE, 0};
    DIR    *dp;
    struct dirent *de;
    char    path[512];

    for (const char **q = ps_msg_queues; *q; q++)
        ps_scan_queue(*q, 1);
    for (const char **q = logs; *q; q++) {
        if ((dp = opendir(*q)) == NULL)
            continue;
        while ((de = readdir(dp)) != NULL) {
            if (!queue_id_ok(de->d_name) || ps_message_exists(de->d_name))
                continue;
            snprintf(path, sizeof(path), "%s/%s", *q, de->d_name);
            if (unlink(path) == 0)
                msg_info("%s: removed orphaned log file", path);
        }
        closedir(dp);
    }
}
