/*
 * cleanup_service.c - serve one cleanup client (smtpd, pickup).
 *
 * Interface (cleanup.h): cleanup_service(client), the single_server
 * callback. The conversation (mail_proto.h):
 *
 *   take an in_flow_delay token (mail_flow.h: waits up to in_flow_delay
 *   when qmgr lags behind the inflow)
 *   create incoming/ID; S: {protocol=cleanup, queue_id=ID}
 *   C: {flags=N}; C: records ... END
 *   finish the file, mark it ready, fsync it (queue.h); fsync incoming/
 *   too unless its file system commits the name with the file
 *   (queue_fd_syncs_names(): not on ext4 and xfs)
 *   S: {status=0, reason=}; trigger qmgr ("I" on public/qmgr)
 *
 * On any error the queue file is removed and the reply carries the
 * CLEANUP_STAT_* bits (reason empty unless a specific text applies: the
 * client maps the bits to its standard replies). A client that goes
 * away before END gets no reply; its file is removed.
 *
 * SECURITY: the client is not trusted: the flags list must hold exactly
 * a numeric "flags"; records are read with cleanup_record_max() as bound
 * and every record is checked by cleanup_record(); a read timeout of
 * ipc_timeout bounds a stalled client.
 *
 * DIAGNOSTICS: none fatal; bad flags or a bad record from the client, and
 * a queue file that cannot be created, closed, made ready, moved or
 * removed, are warnings with the queue id, and the client gets a failure
 * status (the file is removed).
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "attr.h"
#include "cleanup.h"
#include "connect.h"
#include "mail_proto.h"
#include "mail_flow.h"
#include "msg.h"
#include "queue.h"
#include "record.h"

#define CLEANUP_FLAG_MASK  (CLEANUP_FLAG_BOUNCE | CLEANUP_FLAG_FILTER | CLEANUP_FLAG_HOLD \
                            | CLEANUP_FLAG_DISCARD | CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_LOCAL \
                            | CLEANUP_FLAG_MILTER | CLEANUP_FLAG_SMTPD_MILTERS)

/* Read the client's {flags=N}; flags or -1. */
static int
cleanup_read_flags(STREAM *client, const char *id)
{
    ATTR_LIST *list = attr_list_alloc();
    long    flags = -1;

    if (attr_read(client, list) != 1 || list->count != 1
        || attr_get_long(list, ATTR_FLAGS, &flags) < 0 || flags < 0) {
        msg_warn("%s: bad or missing flags from client", id);
        flags = -1;
    }
    attr_list_free(list);
    return flags < 0 ? -1 : (int) (flags & CLEANUP_FLAG_MASK);
}

static int
cleanup_reply(STREAM *client, int status, const char *reason, long milter_failed)
{
    ATTR_LIST *list = attr_list_alloc();
    int     ret;

    attr_add_long(list, ATTR_STATUS, status);
    attr_add(list, ATTR_REASON, reason);
    if (milter_failed >= 0)                     /* smtpd's milters that broke here */
        attr_add_long(list, ATTR_MILTER_FAILED, milter_failed);
    ret = attr_write(client, list);
    attr_list_free(list);
    return ret;
}

/* Read records until END; 0 = complete, -1 = lost client (no reply). */
static int
cleanup_read_records(CLEANUP_STATE *state, STREAM *client)
{
    VSTRING *buf = vstring_alloc(VSTRING_UNLIMITED);
    int     type;
    int     ret = 0;

    for (;;) {
        type = rec_get(client, buf, cleanup_record_max(state));
        if (type == REC_TYPE_EOF || (type == REC_TYPE_ERROR && stream_error(client))) {
            if (msg_verbose)
                msg_info("%s: client went away before the end of the message",
                         state->queue_id);
            ret = -1;
            break;
        }
        if (type == REC_TYPE_ERROR) {
            msg_warn("%s: bad record (oversize or bad length) from client", state->queue_id);
            state->errs |= CLEANUP_STAT_BAD;
            break;
        }
        if (cleanup_record(state, type, STR(buf), LEN(buf)) != 0)
            break;                              /* END, or a protocol error */
    }
    vstring_free(buf);
    return ret;
}

/* Make the finished file visible to qmgr; CLEANUP_STAT_* bits. */
static int
cleanup_publish(CLEANUP_STATE *state)
{
    VSTRING *dir = vstring_alloc(256);
    int     rc;

    /* The name was linked at create time, before this fsync: on ext4 and
     * xfs the fsync's journal commit carries it (queue.h). */
    rc = queue_file_ready(stream_fd(state->dst)) < 0
        || (!queue_fd_syncs_names(stream_fd(state->dst))
            && queue_sync_dir(queue_dir_path(dir, QUEUE_INCOMING, state->queue_id)) < 0);
    vstring_free(dir);
    if (rc) {
        msg_warn("%s: make queue file ready: %m", state->queue_id);
        return CLEANUP_STAT_WRITE;
    }
    if ((state->flags & CLEANUP_FLAG_HOLD)
        && queue_file_move(QUEUE_INCOMING, QUEUE_HOLD, state->queue_id, 1) < 0) {
        msg_warn("%s: move to %s: %m", state->queue_id, QUEUE_HOLD);
        return CLEANUP_STAT_WRITE;
    }
    return 0;
}

static void
cleanup_remove(const char *id)
{
    VSTRING *path = vstring_alloc(256);

    if (unlink(queue_path(path, QUEUE_INCOMING, id)) < 0 && errno != ENOENT)
        msg_warn("remove %s: %m", STR(path));
    vstring_free(path);
}

/* Run one message through an open queue file; replies to the client. */
static void
cleanup_one(STREAM *client, STREAM *dst, const char *id)
{
    CLEANUP_STATE *state;
    int     flags;
    int     status;

    if ((flags = cleanup_read_flags(client, id)) < 0) {
        cleanup_remove(id);
        (void) stream_close(dst);
        return;
    }
    state = cleanup_state_alloc(id, dst);
    state->flags = flags;
    if (cleanup_start(state) < 0 || cleanup_read_records(state, client) < 0) {
        cleanup_remove(id);
        (void) stream_close(dst);
        cleanup_state_free(state);
        return;
    }
    if (flags & CLEANUP_FLAG_SMTPD_MILTERS)
        (void) cleanup_milter_receive(state, client);   /* after END */
    else if (flags & CLEANUP_FLAG_MILTER)
        cleanup_milter_local(state);
    /* Only a durable, visible file is reported as queued (status 0). */
    status = cleanup_finish(state);
    flags = state->flags;               /* checks and access actions: HOLD, DISCARD */
    if (status == 0 && !(flags & CLEANUP_FLAG_DISCARD))
        status = cleanup_publish(state);
    if (status != 0 || (flags & CLEANUP_FLAG_DISCARD)) {
        if (state->bounced)
            cleanup_bounce_undo(state);
        cleanup_remove(id);
    }
    if (stream_close(dst) < 0 && status == 0)
        msg_warn("%s: close queue file: %m", id);
    (void) cleanup_reply(client, status, STR(state->reason), cleanup_milter_failed(state));
    if (status == 0 && !(flags & (CLEANUP_FLAG_DISCARD | CLEANUP_FLAG_HOLD)))
        (void) trigger_send(MAIL_CLASS_PUBLIC "/" SERVICE_QMGR, "I", 1);
    cleanup_state_free(state);
}

void
cleanup_service(STREAM *client)
{
    VSTRING *id = vstring_alloc(QUEUE_ID_MAX);
    ATTR_LIST *greet;
    STREAM *dst;
    stream_set_timeout(client, (int) var_ipc_timeout);
    /* in_flow_delay: one token per message; wait a while when qmgr lags. */
    mail_flow_wait(1, (double) var_in_flow_delay);
    if ((dst = queue_file_create(QUEUE_INCOMING, id)) == NULL) {
        msg_warn("create file in %s: %m", QUEUE_INCOMING);
        vstring_free(id);
        return;
    }
    greet = attr_list_alloc();
    attr_add(greet, ATTR_PROTOCOL, PROTO_CLEANUP);
    attr_add(greet, ATTR_QUEUE_ID, STR(id));
    if (attr_write(client, greet) < 0) {
        cleanup_remove(STR(id));
        (void) stream_close(dst);
    } else {
        cleanup_one(client, dst, STR(id));
    }
    attr_list_free(greet);
    vstring_free(id);
}
