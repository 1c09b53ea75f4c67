/*
 * cleanup_clnt.c - submit a new message to the cleanup service.
 *
 * Interface: see cleanup_clnt.h. The path is relative to the
 * queue_directory, where every daemon runs. Each exchange is bounded by
 * $ipc_timeout (mail_params.h).
 *
 * SECURITY: the greeting's queue id is checked with queue_id_ok() before
 * it is used or logged; the final status must be a number.
 *
 * DIAGNOSTICS: nothing is fatal; a cleanup that cannot be reached or
 * answers wrongly is a warning and a failed call. A call before
 * mail_params_init() panics.
 */
#include <limits.h>
#include <string.h>

#include "attr.h"
#include "cleanup_clnt.h"
#include "milter.h"
#include "connect.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "msg.h"
#include "queue.h"
#include "record.h"

/* $ipc_timeout, read once by mail_params_init(); the table keeps it >= 1s. */
static int
cleanup_clnt_timeout(void)
{
    mail_params_need("cleanup_clnt_open");
    return mail_params.ipc_timeout > INT_MAX ? INT_MAX : (int) mail_params.ipc_timeout;
}

STREAM *
cleanup_clnt_open(int flags, VSTRING *queue_id)
{
    ATTR_LIST *list;
    STREAM *c;
    const char *id;
    int     fd, timeout = cleanup_clnt_timeout();

    if ((fd = unix_connect(CLEANUP_CLNT_PATH, timeout)) < 0) {
        msg_warn("connect to %s: %m", CLEANUP_CLNT_PATH);
        return NULL;
    }
    c = stream_fdopen(fd);
    stream_set_timeout(c, timeout);
    list = attr_list_alloc();
    if (attr_read(c, list) != 1 || attr_get(list, ATTR_PROTOCOL) == NULL
        || strcmp(attr_get(list, ATTR_PROTOCOL), PROTO_CLEANUP) != 0
        || (id = attr_get(list, ATTR_QUEUE_ID)) == NULL || !queue_id_ok(id)) {
        msg_warn("%s: bad or missing greeting from cleanup", CLEANUP_CLNT_PATH);
        (void) stream_close(c);
        attr_list_free(list);
        return NULL;
    }
    vstring_strcpy(queue_id, id);
    attr_list_reset(list);
    attr_add_long(list, ATTR_FLAGS, flags);
    if (attr_write(c, list) != 0) {
        msg_warn("%s: cannot send request flags", CLEANUP_CLNT_PATH);
        (void) stream_close(c);
        c = NULL;
    }
    attr_list_free(list);
    return c;
}

int
cleanup_clnt_finish(STREAM *c, VSTRING *reason)
{
    return cleanup_clnt_finish_id(c, CLEANUP_CLNT_PATH, reason);
}

/*
 * A milter that failed while cleanup used it (timeout, broken protocol)
 * is failed here too: its socket may still deliver a late reply, which
 * must never be taken for the answer to smtpd's next event.
 */
static void
cleanup_clnt_milters_failed(const ATTR_LIST *list, MILTERS *ms)
{
    long    bits = 0;
    VSTRING *junk;

    if (attr_get_long(list, ATTR_MILTER_FAILED, &bits) != 0 || bits <= 0)
        return;
    junk = vstring_alloc(1024);
    for (size_t i = 0; i < ms->count && i < 31; i++)
        if ((bits & (1L << i)) && ms->list[i]->state != MILTER_ST_ERROR)
            (void) milter_failed(ms->list[i], junk);
    vstring_free(junk);
}

int
cleanup_clnt_finish_id(STREAM *c, const char *log_id, VSTRING *reason)
{
    return cleanup_clnt_finish_milters(c, log_id, reason, NULL);
}

int
cleanup_clnt_finish_milters(STREAM *c, const char *log_id, VSTRING *reason,
                            struct MILTERS *milters)
{
    ATTR_LIST *list = attr_list_alloc();
    long    status = CLEANUP_STAT_WRITE;
    const char *text;

    if (reason)
        vstring_reset(reason);
    rec_put(c, REC_TYPE_XTRA, "", 0);
    rec_put(c, REC_TYPE_END, "", 0);
    if (stream_flush(c) != 0 || (milters && milters_send(c, milters) != 0)
        || attr_read(c, list) != 1
        || attr_get_long(list, ATTR_STATUS, &status) != 0 || status < 0) {
        msg_warn("%s: no status from cleanup", log_id);
        status = CLEANUP_STAT_WRITE;
    } else if (reason && (text = attr_get(list, ATTR_REASON)) != NULL) {
        vstring_strcpy(reason, text);
    }
    if (milters)
        cleanup_clnt_milters_failed(list, milters);
    attr_list_free(list);
    (void) stream_close(c);
    return (int) status;
}

void
cleanup_clnt_abort(STREAM *c)
{
    if (c)
        (void) stream_close(c);
}
