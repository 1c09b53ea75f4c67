/*
 * postqueue_flush.c - postqueue -f, -i queue_id, -s site.
 *
 * Interface (postqueue.h): postqueue_flush(), postqueue_flush_id(),
 * postqueue_flush_site().
 *
 * There is no flush(8) service: every request goes to qmgr's trigger
 * socket public/qmgr.
 *   -f   "FA": forget dead transports, then scan incoming and all of
 *        deferred ignoring retry times (what Postfix's flush service asks).
 *   -i   root: the message moves from deferred/ to incoming/ and qmgr
 *        gets "I", so exactly that message is tried now. Others cannot
 *        touch deferred/ (mail_owner's): qmgr gets "FA" instead.
 *   -s   the site is checked, then handled like -f (a full deferred
 *        scan includes the site's mail; there is no per-site index).
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
    postqueue_flush();
}
