/*
 * postqueue_flush.c - postqueue -f, -i queue_id, -s site.
 *
 * Interface (postqueue.h): postqueue_flush(), postqueue_flush_id(),
 * postqueue_flush_site().
 *
 * -f and -i go to qmgr's trigger socket public/qmgr, -s to the fast
 * flush service (public/flush, flush_clnt.h):
 *   -f   "FA": forget dead transports, then scan incoming and all of
 *        deferred ignoring retry times (what Postfix's flush service asks).
 *   -i   root: the message moves from deferred/ to incoming/ and qmgr
 *        gets "I", so exactly that message is tried now. Others cannot
 *        touch deferred/ (mail_owner's): qmgr gets "FA" instead.
 *   -s   the site's deferred mail only (fast_flush_domains), with
 *        Postfix's errors: "Flush service is not configured for
 *        destination ...", "Invalid request: ...", "Cannot flush mail
 *        queue - mail system is down".
 *
 * SECURITY: the queue id is checked with queue_id_ok() before it becomes
 * part of a path; the site is bounded and must be printable without
 * white space. Only trigger bytes leave this program.
 *
 * DIAGNOSTICS: fatal (exit 69): flushing while the system is down, a bad
 * queue id or destination, a queue file that cannot be flushed.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "connect.h"
#include "flush_clnt.h"
#include "mail_proto.h"
#include "msg.h"
#include "queue.h"
#include "postqueue.h"

#define QMGR_SOCKET "public/qmgr"
#define SITE_MAX    255

static void
pq_trigger(const char *req)
{
    if (trigger_send(QMGR_SOCKET, req, (int) strlen(req)) < 0)
        postqueue_fatal("Cannot flush mail queue - mail system is down");
}

void
postqueue_flush(void)
{
    static const char req[] = {QMGR_REQ_FLUSH_DEAD, QMGR_REQ_SCAN_ALL, 0};

    pq_trigger(req);
}

void
postqueue_flush_id(const char *id)
{
    static const char req[] = {QMGR_REQ_SCAN_INCOMING, 0};

    if (!queue_id_ok(id))
        postqueue_fatal("Cannot flush queue ID - invalid name: \"%s\"", id);
    if (getuid() != 0) {
        postqueue_flush();
        return;
    }
    if (queue_file_move(QUEUE_DEFERRED, QUEUE_INCOMING, id, 1) < 0) {
        if (errno == ENOENT)
            return;             /* not deferred (any more): nothing to do */
        postqueue_fatal("Cannot flush queue ID %s: %m", id);
    }
    pq_trigger(req);
}

void
postqueue_flush_site(const char *site)
{
    size_t  len = strlen(site);

    if (len == 0 || len > SITE_MAX)
        postqueue_fatal("Cannot flush mail queue - invalid destination: \"%.100s\"", site);
    for (const unsigned char *cp = (const unsigned char *) site; *cp; cp++)
        if (*cp <= ' ' || *cp >= 0x7f)
            postqueue_fatal("Cannot flush mail queue - invalid destination: \"%.100s\"", site);
    switch (flush_clnt_send_site(site)) {
    case FLUSH_STAT_OK:
        return;
    case FLUSH_STAT_DENY:
        postqueue_fatal("Flush service is not configured for destination \"%.100s\"", site);
    case FLUSH_STAT_BAD:
        postqueue_fatal("Invalid request: \"%.100s\"", site);
    default:
        postqueue_fatal("Cannot flush mail queue - mail system is down");
    }
}
