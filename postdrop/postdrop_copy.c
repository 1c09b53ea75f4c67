/*
 * postdrop_copy.c - copying one message from stdin into maildrop/.
 *
 * Interface (postdrop.h):
 *   postdrop_copy()     read records from in, check each against the
 *                       maildrop grammar (maildrop.h), write it to out
 *   postdrop_enqueue()  create maildrop/<id> (O_EXCL|O_NOFOLLOW, 0600),
 *                       copy, then fsync and chmod 0744 so that pickup
 *                       knows the file is complete; any failure removes
 *                       the file. A HUP/INT/QUIT/TERM signal removes it too.
 *                       A write that fails with EFBIG (the file reached
 *                       $message_size_limit, postdrop.c) is
 *                       POSTDROP_EX_TOOBIG.
 *
 * SECURITY: stdin is the invoking user's data. Every record is bounded
 * (maildrop_record_max) and checked before it is written; a malformed
 * stream leaves no file behind. The file is created by queue_file_create
 * with O_EXCL|O_NOFOLLOW under a name we choose, never one from the user.
 *
 * DIAGNOSTICS: malformed input is fatal with the uid (the partial file is
 * removed); a file that cannot be created or written, and a rejected
 * record, are warnings and postdrop exits with failure.
 */
#include <errno.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "maildrop.h"
#include "msg.h"
#include "postdrop.h"
#include "queue.h"
#include "record.h"

/* The file to remove when a signal arrives (async-signal-safe unlink). */
static char postdrop_cleanup_path[256];
static volatile sig_atomic_t postdrop_cleanup_armed;

static void
postdrop_sig_cleanup(int sig)
{
    if (postdrop_cleanup_armed)
        (void) unlink(postdrop_cleanup_path);
    _exit(POSTDROP_EX_TEMPFAIL);
}

static void
postdrop_signals(void)
{
    struct sigaction sa;
    static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM};

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&sa.sa_mask, sigs[i]);
    sa.sa_handler = postdrop_sig_cleanup;
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        (void) sigaction(sigs[i], &sa, NULL);
    sa.sa_handler = SIG_IGN;
    (void) sigaction(SIGPIPE, &sa, NULL);
}

int
postdrop_copy(STREAM *in, STREAM *out, long line_limit, const char **why)
{
    MAILDROP_CHECK check;
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    int     type, ret;

    maildrop_check_init(&check, line_limit);
    for (;;) {
        type = rec_get(in, buf, maildrop_record_max(&check));
        if (type == REC_TYPE_EOF)
            break;
        if ((ret = maildrop_check(&check, type, STR(buf), LEN(buf))) < 0)
            break;
        if (rec_put(out, type, STR(buf), LEN(buf)) < 0) {
            int     saved = errno;

            vstring_free(buf);
            errno = saved;
            return -2;
        }
        if (ret == 1)
            break;
    }
    vstring_free(buf);
    if (check.why == NULL && maildrop_check_end(&check) == 0
        && stream_getc(in) != STREAM_EOF)
        check.why = "data after the end record";
    if (check.why) {
        *why = check.why;
        return -1;
    }
    return 0;
}

/* Make the file complete and durable; 0 or -1. */
static int
postdrop_finish(STREAM *out)
{
    int     fd = stream_fd(out);

    if (stream_flush(out) != 0 || fsync(fd) < 0)
        return -1;
    if (fchmod(fd, POSTDROP_MODE_READY) < 0 || fsync(fd) < 0)
        return -1;
    return stream_close(out);
}

int
postdrop_enqueue(STREAM *in, VSTRING *id)
{
    STREAM *out;
    const char *why = NULL;
    int     ret, too_big;

    postdrop_signals();
    if ((out = queue_file_create(QUEUE_MAILDROP, id)) == NULL) {
        msg_warn("create file %s/<new>: %m", QUEUE_MAILDROP);
        return POSTDROP_EX_TEMPFAIL;
    }
    snprintf(postdrop_cleanup_path, sizeof(postdrop_cleanup_path), "%s/%s",
             QUEUE_MAILDROP, STR(id));
    postdrop_cleanup_armed = 1;
    ret = postdrop_copy(in, out, var_line_limit, &why);
    if (ret == 0 && postdrop_finish(out) == 0) {
        postdrop_cleanup_armed = 0;
        (void) queue_sync_dir(QUEUE_MAILDROP);
        return POSTDROP_EX_OK;
    }
    too_big = (ret != -1 && errno == EFBIG);
    if (ret == -1)
        msg_warn("uid=%ld: %s", (long) getuid(), why);
    else if (too_big)
        msg_warn("uid=%ld: %m", (long) getuid());       /* Postfix: "File too large" */
    else
        msg_warn("%s: write queue file: %m", postdrop_cleanup_path);
    (void) unlink(postdrop_cleanup_path);
    postdrop_cleanup_armed = 0;
    if (ret == -1)
        msg_fatal_status(POSTDROP_EX_DATAERR, "uid=%ld: malformed input", (long) getuid());
    return too_big ? POSTDROP_EX_TOOBIG : POSTDROP_EX_TEMPFAIL;
}
