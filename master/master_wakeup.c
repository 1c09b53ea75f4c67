/*
 * master_wakeup.c - the wakeup column of master.cf.
 *
 * Interface: master.h. Every $wakeup seconds master sends a 'W' to the
 * service's own endpoint: written straight into the fifo it holds open,
 * or through a non-blocking connect to a unix socket (sendto for
 * unix-dgram). The byte makes the endpoint readable, so master starts the
 * program when none runs. The first wakeup goes out at once, which is how
 * qmgr and pickup start with master; a "?" (conditional) wakeup starts
 * only after the service was first used. Nothing here ever blocks: a full
 * pipe or backlog just skips one wakeup.
 *
 * DIAGNOSTICS: none fatal; a wakeup time on a service type that cannot be
 * woken is a warning and is ignored.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "events.h"
#include "mail_proto.h"
#include "master.h"
#include "msg.h"

static void
master_wakeup_unix(const char *path, int type)
{
    struct sockaddr_un sun;
    char    req = TRIGGER_REQ_WAKEUP;
    int     fd;

    if (strlen(path) >= sizeof(sun.sun_path))
        return;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, path, strlen(path));
    if ((fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return;
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0)
        (void) send(fd, &req, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
    else if (msg_verbose)
        msg_info("wakeup %s: %m", path);
    (void) close(fd);
}

static void
master_wakeup_send(MASTER_SERV *serv)
{
    char    req = TRIGGER_REQ_WAKEUP;

    switch (serv->type) {
    case MASTER_FIFO:
        if (serv->listen_count > 0)
            (void) write(serv->listen_fds[0], &req, 1);  /* non-blocking */
        break;
    case MASTER_UNIX:
        master_wakeup_unix(serv->endpoint, SOCK_STREAM);
        break;
    case MASTER_UNIX_DGRAM:
        master_wakeup_unix(serv->endpoint, SOCK_DGRAM);
        break;
    default:
        break;                  /* inet/pass: no wakeup, as in Postfix */
    }
}

static void
master_wakeup_event(void *ctx)
{
    MASTER_SERV *serv = ctx;

    master_wakeup_send(serv);
    if (serv->wakeup > 0)
        event_timer(master_wakeup_event, serv, (double) serv->wakeup);
}

void
master_wakeup_init(MASTER_SERV *serv)
{
    if (serv->wakeup <= 0)
        return;
    if (serv->type == MASTER_INET || serv->type == MASTER_PASS) {
        msg_warn("master.cf: service %s: wakeup is not supported for type %s",
                 serv->name, serv->type_name);
        return;
    }
    /* Conditional wakeups wait until the first use (master_spawn). */
    if (serv->wakeup_cond && serv->total_proc == 0 && !serv->wakeup_armed)
        return;
    serv->wakeup_armed = 1;
    event_timer(master_wakeup_event, serv, serv->wakeup_cond ? (double) serv->wakeup : 0.0);
}

void
master_wakeup_cleanup(MASTER_SERV *serv)
{
    event_cancel_timer(master_wakeup_event, serv);
    serv->wakeup_armed = 0;
}

/* A process of an always-on service exited: start a new one promptly. */
void
master_wakeup_soon(MASTER_SERV *serv)
{
    if (serv->wakeup > 0 && serv->wakeup_armed)
        event_timer(master_wakeup_event, serv, 1.0);
}
