/*
 * bounce_post.c - queue a notice through public/cleanup (the cleanup
 * protocol in mail_proto.h): greeting with the new queue id, flags,
 * envelope records (TIME, rewrite_context=local, log_ident, FROM, RCPT),
 * MESG, one NORM record per content line, XTRA, END, then cleanup's
 * {status, reason}.
 *
 * Interface (bounce.h): bounce_post_open(), bounce_post_id(),
 * bounce_post_line(), bounce_post_close(), bounce_post_abort().
 *
 * The notice is internal mail: cleanup may apply address mappings
 * (canonical, virtual) but no content checks, as Postfix does for its
 * own notifications. cleanup adds the Message-Id (rewrite context local).
 *
 * SECURITY: cleanup is a peer process: its greeting must name the
 * cleanup protocol and carry a valid queue id; a missing or non-numeric
 * status counts as failure (the caller keeps the log and retries).
 *
 * DIAGNOSTICS: none fatal; a cleanup that cannot be reached, does not
 * greet, does not take the request or does not answer, or refuses the
 * notice, is a warning with the queue id and a failed post.
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include "attr.h"
#include "connect.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "record.h"
#include "bounce.h"

#define BOUNCE_CLEANUP_PATH  MAIL_CLASS_PUBLIC "/" SERVICE_CLEANUP
#define BOUNCE_CLEANUP_FLAGS CLEANUP_FLAG_MAP_OK

struct BOUNCE_POST {
    STREAM *cleanup;
    char    id[QUEUE_ID_MAX + 1];
};

static int
bounce_ipc_timeout(void)
{
    long    t = var_ipc_timeout;

    return t > 0 && t < 3600 ? (int) t : 3600;
}

/* Read the greeting and send the flags; 0 or -1. */
static int
bounce_post_greet(BOUNCE_POST *post)
{
    ATTR_LIST *list = attr_list_alloc();
    const char *proto, *id;
    int     rc = -1;

    if (attr_read(post->cleanup, list) != 1
        || (proto = attr_get(list, ATTR_PROTOCOL)) == 0 || strcmp(proto, PROTO_CLEANUP) != 0
        || (id = attr_get(list, ATTR_QUEUE_ID)) == 0 || !queue_id_ok(id)) {
        msg_warn("%s: bad or missing greeting from cleanup", BOUNCE_CLEANUP_PATH);
    } else {
        snprintf(post->id, sizeof(post->id), "%s", id);
        attr_list_reset(list);
        attr_add_long(list, ATTR_FLAGS, BOUNCE_CLEANUP_FLAGS);
        if (attr_write(post->cleanup, list) == 0)
            rc = 0;
        else
            msg_warn("%s: cannot send request flags", BOUNCE_CLEANUP_PATH);
    }
    attr_list_free(list);
    return rc;
}

BOUNCE_POST *
bounce_post_open(const char *sender, const char *recipient)
{
    BOUNCE_POST *post;
    struct timeval tv;
    int     fd;

    if ((fd = unix_connect(BOUNCE_CLEANUP_PATH, bounce_ipc_timeout())) < 0) {
        msg_warn("connect to %s: %m", BOUNCE_CLEANUP_PATH);
        return 0;
    }
    post = mem_alloc(sizeof(*post));
    post->cleanup = stream_fdopen(fd);
    stream_set_timeout(post->cleanup, bounce_ipc_timeout());
    if (bounce_post_greet(post) < 0) {
        (void) stream_close(post->cleanup);
        mem_free(post);
        return 0;
    }
    gettimeofday(&tv, 0);
    rec_printf(post->cleanup, REC_TYPE_TIME, "%ld %ld", (long) tv.tv_sec, (long) tv.tv_usec);
    rec_printf(post->cleanup, REC_TYPE_ATTR, "%s=%s", ATTR_RWR_CONTEXT, "local");
    rec_printf(post->cleanup, REC_TYPE_ATTR, "%s=%s", ATTR_LOG_IDENT, post->id);
    rec_puts(post->cleanup, REC_TYPE_FROM, sender);
    rec_puts(post->cleanup, REC_TYPE_RCPT, recipient);
    rec_puts(post->cleanup, REC_TYPE_MESG, "");
    return post;
}

const char *
bounce_post_id(const BOUNCE_POST *post)
{
    return post->id;
}

int
bounce_post_line(const char *line, size_t len, void *ctx)
{
    BOUNCE_POST *post = ctx;

    return rec_put(post->cleanup, REC_TYPE_NORM, line, len);
}

int
bounce_post_close(BOUNCE_POST *post)
{
    ATTR_LIST *reply = attr_list_alloc();
    const char *reason;
    long    status = -1;

    rec_puts(post->cleanup, REC_TYPE_XTRA, "");
    rec_puts(post->cleanup, REC_TYPE_END, "");
    if (stream_flush(post->cleanup) < 0 || attr_read(post->cleanup, reply) != 1
        || attr_get_long(reply, ATTR_STATUS, &status) < 0) {
        msg_warn("%s: no status from cleanup", post->id);
        status = -1;
    } else if (status != CLEANUP_STAT_OK) {
        reason = attr_get(reply, ATTR_REASON);
        msg_warn("%s: cleanup did not queue the notice (status %ld%s%s)", post->id,
                 status, reason && *reason ? ": " : "", reason ? reason : "");
    }
    attr_list_free(reply);
    (void) stream_close(post->cleanup);
    mem_free(post);
    return status == CLEANUP_STAT_OK ? 0 : -1;
}

void
bounce_post_abort(BOUNCE_POST *post)
{
    (void) stream_close(post->cleanup);     /* cleanup drops the file */
    mem_free(post);
}
