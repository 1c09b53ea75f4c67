/*
 * postsuper_ops.c - delete, hold, release and requeue messages.
 *
 * Interface (postsuper.h): postsuper_op(), postsuper_summary().
 *
 *   delete   from hold, incoming, active, deferred: the queue file and
 *            its defer, bounce and trace logs go; "ID: removed"
 *   hold     incoming, active, deferred -> hold; "ID: placed on hold"
 *   release  hold -> deferred, due now; "ID: released from hold"
 *   requeue  hold, incoming, active, deferred -> maildrop, mode 0700 (a
 *            complete queue file owned by mail_owner, which pickup
 *            recognizes); its defer, bounce and trace logs go; "ID:
 *            requeued". pickup and cleanup then process it again under
 *            the current configuration and give it a new queue id, as
 *            Postfix does (pickup_requeue.c).
 * Queues named on the command line replace those defaults. A message in
 * active/ may be in delivery: like Postfix, postsuper acts anyway and qmgr
 * copes with the file being gone.
 *
 * SECURITY: ids from the command line or standard input are checked with
 * queue_id_ok() ("warning: invalid mail queue id") before use; stdin lines
 * are bounded.
 *
 * DIAGNOSTICS: none fatal; an invalid queue id, and a file that cannot be
 * moved, removed, or have its mode or time set, are warnings; the
 * operation goes on with the next file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "msg.h"
#include "queue.h"
#include "stream.h"
#include "postsuper.h"

#define PS_LINE_MAX 1024

static const char *ps_default_queues[PS_OP_COUNT][5] = {
    {QUEUE_HOLD, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, 0},
    {QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, 0},
    {QUEUE_HOLD, 0},
    {QUEUE_HOLD, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED, 0},
};

static const char *ps_summary[PS_OP_COUNT] = {
    "Deleted", "Placed on hold", "Released from hold", "Requeued",
};

void
postsuper_summary(int op, long count)
{
    msg_info("%s: %ld message%s", ps_summary[op], count, count == 1 ? "" : "s");
}

/* Make queue/id due now (deferred/ and incoming/ go by mtime). */
static void
ps_touch(const char *queue, const char *id)
{
    if (queue_file_touch(queue, id) < 0)
        msg_warn("%s/%s: set time: %m", queue, id);
}

static void
ps_remove_logs(const char *id)
{
    static const char *logs[] = {QUEUE_DEFER, QUEUE_BOUNCE, QUEUE_TRACE, 0};
    VSTRING *path = vstring_alloc(256);

    for (const char **q = logs; *q; q++)
        if (unlink(queue_path(path, *q, id)) < 0 && errno != ENOENT)
            msg_warn("remove %s: %m", STR(path));
    vstring_free(path);
}

/* A requeued file in maildrop/: mode 0700 marks it for pickup as a
 * queue file (not a user's maildrop file); the old logs go. */
static void
ps_requeue_ready(const char *id)
{
    VSTRING *path = vstring_alloc(256);

    if (chmod(queue_path(path, QUEUE_MAILDROP, id), QUEUE_MODE_READY) < 0)
        msg_warn("%s: set mode: %m", STR(path));
    vstring_free(path);
    ps_remove_logs(id);
}

/* queue/[hash/]id, in a static buffer. */
static const char *
ps_path(const char *queue, const char *id)
{
    static VSTRING *path;

    if (path == NULL)
        path = vstring_alloc(256);
    return queue_path(path, queue, id);
}

/* One operation on queue/id; 1 = done, 0 = not there. */
static int
ps_apply(int op, const char *queue, const char *id)
{
    const char *to = op == PS_OP_HOLD ? QUEUE_HOLD
        : op == PS_OP_RELEASE ? QUEUE_DEFERRED : QUEUE_MAILDROP;
    char    path[512];

    if (op == PS_OP_DELETE) {
        if (!queue_name_ok(queue))
            return 0;
        snprintf(path, sizeof(path), "%s", ps_path(queue, id));
        if (unlink(path) < 0) {
            if (errno != ENOENT)
                msg_warn("remove %s: %m", path);
            return 0;
        }
        ps_remove_logs(id);
        msg_info("%s: removed", id);
        return 1;
    }
    if (strcmp(queue, to) != 0 && queue_file_move(queue, to, id, 1) < 0) {
        if (errno != ENOENT)
            msg_warn("%s: move from %s to %s: %m", id, queue, to);
        return 0;
    }
    snprintf(path, sizeof(path), "%s", ps_path(queue, id));
    if (strcmp(queue, to) == 0 && access(path, F_OK) < 0)
        return 0;
    if (op == PS_OP_REQUEUE)
        ps_requeue_ready(id);
    else if (op != PS_OP_HOLD)
        ps_touch(to, id);
    msg_info("%s: %s", id, op == PS_OP_HOLD ? "placed on hold"
             : op == PS_OP_RELEASE ? "released from hold" : "requeued");
    return 1;
}


/* Ids from standard input, one per line. */
static void
ps_read_stdin(ARGV *out)
{
    STREAM *in = stream_fdopen(0);
    VSTRING *line = vstring_alloc(PS_LINE_MAX);
    ssize_t n;

    while ((n = stream_gets(in, line, PS_LINE_MAX)) > 0) {
        while (LEN(line) > 0 && strchr(" \t\r\n", STR(line)[LEN(line) - 1]))
            vstring_truncate(line, LEN(line) - 1);
        if (LEN(line) > 0)
            argv_add(out, STR(line));
    }
    vstring_free(line);
    stream_free_keep_fd(in);
}

long
postsuper_op(int op, ARGV *ids, ARGV *named)
{
    ARGV   *queues = argv_alloc();
    ARGV   *todo = argv_alloc();
    long    count = 0;

    if (named->argc > 0)
        for (size_t i = 0; i < named->argc; i++)
            argv_add(queues, named->argv[i]);
    else
        for (const char **q = ps_default_queues[op]; *q; q++)
            argv_add(queues, *q);
    for (size_t i = 0; i < ids->argc; i++) {
        if (strcmp(ids->argv[i], "-") == 0)
            ps_read_stdin(todo);
        else
            argv_add(todo, ids->argv[i]);
    }
    for (size_t i = 0; i < todo->argc; i++) {
        const char *id = todo->argv[i];

        if (strcmp(id, "ALL") == 0) {
            for (size_t q = 0; q < queues->argc; q++) {
                ARGV   *names = queue_scan_ids(queues->argv[q]);

                for (size_t k = 0; k < names->argc; k++)
                    count += ps_apply(op, queues->argv[q], names->argv[k]);
                argv_free(names);
            }
            continue;
        }
        if (!queue_id_ok(id)) {
            msg_warn("invalid mail queue id: %s", id);
            continue;
        }
        for (size_t q = 0; q < queues->argc; q++)
            if (ps_apply(op, queues->argv[q], id)) {
                count++;
                break;
            }
    }
    argv_free(queues);
    argv_free(todo);
    return count;
}
