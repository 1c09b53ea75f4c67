/*
 * events.c - a small epoll(7) event loop with one-shot timers.
 *
 * Interface: events.h. Descriptor handlers live in an array indexed by
 * the descriptor (read and write handler each); timers in a small array
 * keyed by (fn, ctx). event_loop() runs one round: expired timers first,
 * then the ready descriptors. Callbacks may add or cancel anything: every
 * handler is looked up again (with a generation number) right before it
 * is called, and timers added during a round wait for the next round.
 * Times come from CLOCK_MONOTONIC.
 *
 * The kernel keeps the interest set (one epoll instance per process,
 * made on first use, close-on-exec, made again in a forked child), so a
 * round costs one system call whatever the number of descriptors (master
 * watches two per service). A descriptor must be cancelled before it is
 * closed (a signal handler, which cannot touch the table, calls
 * event_forget_async() first): the registration belongs to the open
 * file, which other processes may hold, not to the descriptor. As a
 * safety net each registration carries a serial number next to the
 * descriptor; an event with a stale serial (closed without a cancel and
 * the number reused) makes the loop build a fresh epoll instance from the
 * handler table, dropping descriptors that are closed.
 * A read handler set with event_read_exclusive() is registered with
 * EPOLLEXCLUSIVE: of the processes waiting on one listen socket, one is
 * woken per connection. A descriptor epoll refuses (EPERM: a regular
 * file, /dev/null) is ready in every round, as poll() reported it.
 *
 * DIAGNOSTICS: none; a failed epoll_wait() just ends one round of
 * event_loop() (timers still run); failing to create the epoll instance
 * or to register a descriptor is fatal (msg_fatal is not available at
 * this layer: abort() after a message on stderr). Allocation failures are
 * fatal in mem.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "mem.h"
#include "mypid.h"

typedef struct EVENT_FD {
    int     fd;                 /* -1: slot unused */
    EVENT_FN rfn;
    void   *rctx;
    EVENT_FN wfn;
    void   *wctx;
    unsigned long rgen;         /* changes whenever rfn/rctx change */
    unsigned long wgen;
    unsigned int mask;          /* EPOLLIN|EPOLLOUT registered, 0 = none */
    unsigned int serial;        /* of the registration (epoll data) */
    int     exclusive;          /* read side with EPOLLEXCLUSIVE */
    int     always;             /* epoll refuses it (regular file): always ready, as poll() */
} EVENT_FD;

typedef struct EVENT_TIMER {
    EVENT_TIMER_FN fn;
    void   *ctx;
    double  when;
    unsigned long round;        /* added in this round of event_loop() */
} EVENT_TIMER;

static EVENT_FD *event_fds;     /* indexed by descriptor */
static size_t event_fdcap;
static EVENT_TIMER *event_timers;
static size_t event_ntimers, event_timercap;
static unsigned long event_gen;
static unsigned long event_round;
static int event_epfd = -1;
static pid_t event_owner;       /* the process event_epfd was made for */
static unsigned int event_serial;
static int event_nalways;       /* descriptors with always set */

double
event_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
event_panic(const char *what, int fd)
{
    fprintf(stderr, "events: %s (fd %d): %s\n", what, fd, strerror(errno));
    abort();
}

static EVENT_FD *
event_find(int fd)
{
    if (fd < 0 || (size_t) fd >= event_fdcap || event_fds[fd].fd != fd)
        return NULL;
    return event_fds + fd;
}

static EVENT_FD *
event_get(int fd)
{
    EVENT_FD *e;

    if (fd < 0) {
        errno = EBADF;
        event_panic("bad descriptor", fd);
    }
    if ((size_t) fd >= event_fdcap) {
        size_t  old = event_fdcap;

        event_fdcap = (size_t) fd + 16 > old * 2 ? (size_t) fd + 16 : old * 2;
        event_fds = mem_realloc_array(event_fds, event_fdcap, sizeof(EVENT_FD));
        for (size_t i = old; i < event_fdcap; i++)
            event_fds[i].fd = -1;
    }
    e = event_fds + fd;
    if (e->fd != fd) {
        memset(e, 0, sizeof(*e));
        e->fd = fd;
    }
    return e;
}

static void event_sync(EVENT_FD *e);
static void event_sync_how(EVENT_FD *e, int force);

/* The epoll instance of this process (a forked child makes its own, with
 * the handlers it inherited). */
static int
event_epoll(void)
{
    pid_t   pid = my_pid();                     /* forgotten by fork(): no syscall */

    if (event_epfd >= 0 && event_owner == pid)
        return event_epfd;
    if (event_epfd >= 0)
        (void) close(event_epfd);               /* the parent's: not ours */
    if ((event_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        event_panic("epoll_create1", -1);
    event_owner = pid;
    for (size_t i = 0; i < event_fdcap; i++)
        event_fds[i].mask = event_fds[i].always = 0;    /* nothing registered yet */
    event_nalways = 0;
    for (size_t i = 0; i < event_fdcap; i++)
        if (event_fds[i].fd >= 0)
            event_sync(event_fds + i);          /* a forked child: its own set */
    return event_epfd;
}

/*
 * Make the kernel's interest in e->fd match its handlers; with force, tell
 * the kernel even when nothing changed (a handler was set: the descriptor
 * may be a new open file under a number whose old registration is stale).
 */
static void
event_sync_how(EVENT_FD *e, int force)
{
    unsigned int want = (e->rfn ? EPOLLIN : 0) | (e->wfn ? EPOLLOUT : 0);
    struct epoll_event ev;
    int     epfd = event_epoll();

    if (e->always) {                            /* not in the epoll set */
        if (want == 0) {
            e->always = 0;
            event_nalways--;
        }
        e->mask = want;
        return;
    }
    if (want == e->mask && !(force && want))
        return;
    if (e->mask != 0 && (want == 0 || e->exclusive)) {
        /* EPOLLEXCLUSIVE cannot be modified: delete and add again. */
        if (epoll_ctl(epfd, EPOLL_CTL_DEL, e->fd, NULL) < 0 && errno != ENOENT
            && errno != EBADF)
            event_panic("epoll_ctl DEL", e->fd);
        e->mask = 0;
    }
    if (want == 0)
        return;
    memset(&ev, 0, sizeof(ev));
    ev.events = want | (e->exclusive && want == EPOLLIN ? EPOLLEXCLUSIVE : 0);
    if (e->mask == 0)
        e->serial = ++event_serial;
    ev.data.u64 = ((uint64_t) e->serial << 32) | (uint32_t) e->fd;
    if (epoll_ctl(epfd, e->mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, e->fd, &ev) < 0) {
        if (errno == EPERM) {                   /* a regular file, /dev/null */
            e->always = 1;
            event_nalways++;
        } else if (errno == EEXIST && epoll_ctl(epfd, EPOLL_CTL_MOD, e->fd, &ev) == 0)
            ;                                   /* registered already */
        else if (errno == ENOENT) {             /* closed and reopened under us */
            e->serial = ++event_serial;         /* events of the old one: stale */
            ev.data.u64 = ((uint64_t) e->serial << 32) | (uint32_t) e->fd;
            if (epoll_ctl(epfd, EPOLL_CTL_ADD, e->fd, &ev) < 0)
                event_panic("epoll_ctl ADD", e->fd);
        } else
            event_panic("epoll_ctl", e->fd);
    }
    e->mask = want;
}

static void
event_sync(EVENT_FD *e)
{
    event_sync_how(e, 0);
}

static void
event_gc(EVENT_FD *e)
{
    if (e->rfn == NULL && e->wfn == NULL) {
        event_sync(e);
        e->fd = -1;
    }
}

static void
event_set_read(int fd, EVENT_FN fn, void *ctx, int exclusive)
{
    EVENT_FD *e = event_get(fd);

    if (e->exclusive != exclusive && e->mask != 0) {
        EVENT_FN wfn = e->wfn;                  /* re-register from scratch */

        e->rfn = e->wfn = NULL;
        event_sync(e);
        e->wfn = wfn;
    }
    e->exclusive = exclusive;
    e->rfn = fn;
    e->rctx = ctx;
    e->rgen = ++event_gen;
    event_sync_how(e, 1);
}

void
event_read(int fd, EVENT_FN fn, void *ctx)
{
    event_set_read(fd, fn, ctx, 0);
}

void
event_read_exclusive(int fd, EVENT_FN fn, void *ctx)
{
    event_set_read(fd, fn, ctx, 1);
}

void
event_write(int fd, EVENT_FN fn, void *ctx)
{
    EVENT_FD *e = event_get(fd);

    if (e->exclusive) {                         /* EPOLLEXCLUSIVE is read only */
        EVENT_FN rfn = e->rfn;

        e->rfn = NULL;
        event_sync(e);
        e->rfn = rfn;
        e->exclusive = 0;
    }
    e->wfn = fn;
    e->wctx = ctx;
    e->wgen = ++event_gen;
    event_sync_how(e, 1);
}

void
event_cancel_read(int fd)
{
    EVENT_FD *e = event_find(fd);

    if (e != NULL) {
        e->rfn = NULL;
        e->rgen = ++event_gen;
        event_sync(e);
        event_gc(e);
    }
}

void
event_cancel_write(int fd)
{
    EVENT_FD *e = event_find(fd);

    if (e != NULL) {
        e->wfn = NULL;
        e->wgen = ++event_gen;
        event_sync(e);
        event_gc(e);
    }
}

void
event_forget_async(int fd)
{
    if (event_epfd >= 0)
        (void) epoll_ctl(event_epfd, EPOLL_CTL_DEL, fd, NULL);
}

void
event_cancel_fd(int fd)
{
    event_cancel_read(fd);
    event_cancel_write(fd);
}

static EVENT_TIMER *
event_timer_find(EVENT_TIMER_FN fn, void *ctx)
{
    size_t  i;

    for (i = 0; i < event_ntimers; i++)
        if (event_timers[i].fn == fn && event_timers[i].ctx == ctx)
            return event_timers + i;
    return NULL;
}

void
event_timer(EVENT_TIMER_FN fn, void *ctx, double seconds)
{
    EVENT_TIMER *t = event_timer_find(fn, ctx);

    if (t == NULL) {
        if (event_ntimers == event_timercap) {
            event_timercap = event_timercap ? event_timercap * 2 : 16;
            event_timers = mem_realloc_array(event_timers, event_timercap,
                                             sizeof(EVENT_TIMER));
        }
        t = event_timers + event_ntimers++;
        t->fn = fn;
        t->ctx = ctx;
    }
    t->when = event_now() + (seconds > 0 ? seconds : 0);
    t->round = event_round;
}

void
event_cancel_timer(EVENT_TIMER_FN fn, void *ctx)
{
    EVENT_TIMER *t = event_timer_find(fn, ctx);

    if (t != NULL)
        *t = event_timers[--event_ntimers];
}

/* Run expired timers that were not added during this round. */
static void
event_run_timers(void)
{
    double  now = event_now();
    EVENT_TIMER t;
    size_t  i;

    for (i = 0; i < event_ntimers; /* void */ ) {
        if (event_timers[i].when <= now && event_timers[i].round != event_round) {
            t = event_timers[i];
            event_timers[i] = event_timers[--event_ntimers];
            t.fn(t.ctx);
            i = 0;                      /* the array may have changed */
        } else {
            i++;
        }
    }
}

/* Poll timeout in ms from max_wait and the next timer. */
static int
event_timeout(double max_wait)
{
    double  wait = max_wait;
    double  now = event_now();
    size_t  i;

    for (i = 0; i < event_ntimers; i++) {
        double  left = event_timers[i].when - now;

        if (left < 0)
            left = 0;
        if (wait < 0 || left < wait)
            wait = left;
    }
    if (wait < 0)
        return -1;
    if (wait * 1000 > INT_MAX)
        return INT_MAX;
    return (int) (wait * 1000 + 0.999);
}

typedef struct EVENT_READY {
    int     fd;
    int     events;
    unsigned long rgen;
    unsigned long wgen;
} EVENT_READY;

static void
event_dispatch(const EVENT_READY *r)
{
    EVENT_FD *e;

    if ((r->events & (EVENT_READ | EVENT_ERROR))
        && (e = event_find(r->fd)) != NULL && e->rfn && e->rgen == r->rgen)
        e->rfn(r->fd, r->events & ~EVENT_WRITE, e->rctx);
    if ((r->events & (EVENT_WRITE | EVENT_ERROR))
        && (e = event_find(r->fd)) != NULL && e->wfn && e->wgen == r->wgen)
        e->wfn(r->fd, r->events & ~EVENT_READ, e->wctx);
}

/*
 * A registration the table does not know (closed without a cancel, then
 * maybe reused): start over with a fresh epoll instance and the handlers
 * of the descriptors that are still open.
 */
static void
event_rebuild(void)
{
    for (size_t i = 0; i < event_fdcap; i++)
        if (event_fds[i].fd >= 0 && fcntl(event_fds[i].fd, F_GETFD) < 0)
            event_fds[i].fd = -1;               /* closed: drop it */
    event_owner = 0;                            /* event_epoll(): start over */
    (void) event_epoll();                       /* registers the others */
}

#define EVENT_BATCH 64

void
event_loop(double max_wait)
{
    struct epoll_event evs[EVENT_BATCH];
    EVENT_READY ready[EVENT_BATCH];
    size_t  nready = 0;
    int     n, i, stale = 0;

    event_round++;
    n = epoll_wait(event_epoll(), evs, EVENT_BATCH,
                   event_nalways ? 0 : event_timeout(max_wait));
    for (i = 0; i < n; i++) {
        int     fd = (int) (uint32_t) evs[i].data.u64;
        unsigned int serial = (unsigned int) (evs[i].data.u64 >> 32);
        uint32_t re = evs[i].events;
        EVENT_FD *e = event_find(fd);

        if (e == NULL || e->serial != serial || e->mask == 0) {
            stale = 1;
            continue;
        }
        ready[nready].fd = fd;
        ready[nready].rgen = e->rgen;
        ready[nready].wgen = e->wgen;
        ready[nready].events = ((re & EPOLLIN) ? EVENT_READ : 0)
            | ((re & EPOLLOUT) ? EVENT_WRITE : 0)
            | ((re & (EPOLLERR | EPOLLHUP)) ? EVENT_ERROR : 0);
        nready++;
    }
    if (stale)
        event_rebuild();
    for (size_t k = 0; event_nalways && k < event_fdcap && nready < EVENT_BATCH; k++) {
        EVENT_FD *e = event_fds + k;

        if (e->fd >= 0 && e->always) {
            ready[nready].fd = e->fd;
            ready[nready].rgen = e->rgen;
            ready[nready].wgen = e->wgen;
            ready[nready].events = ((e->mask & EPOLLIN) ? EVENT_READ : 0)
                | ((e->mask & EPOLLOUT) ? EVENT_WRITE : 0);
            nready++;
        }
    }
    event_run_timers();
    for (size_t k = 0; k < nready; k++)
        event_dispatch(ready + k);
}
