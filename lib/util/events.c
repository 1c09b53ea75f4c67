/*
 * events.c - a small poll(2) event loop with one-shot timers.
 *
 * Interface: events.h. Descriptor handlers live in a growable array (one
 * entry per fd, read and write handler each); timers in a small array
 * keyed by (fn, ctx). event_loop() runs one round: expired timers first,
 * then the ready descriptors. Callbacks may add or cancel anything: every
 * handler is looked up again (with a generation number) right before it
 * is called, and timers added during a round wait for the next round.
 * Times come from CLOCK_MONOTONIC.
 *
 * DIAGNOSTICS: none; a failed poll() just ends one round of event_loop()
 * (timers still run); a descriptor closed without a cancel is dropped from
 * the watch list. Allocation failures are fatal in mem.c.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <time.h>

#include "events.h"
#include "mem.h"

typedef struct EVENT_FD {
    int     fd;
    EVENT_FN rfn;
    void   *rctx;
    EVENT_FN wfn;
    void   *wctx;
    unsigned long rgen;         /* changes whenever rfn/rctx change */
    unsigned long wgen;
} EVENT_FD;

typedef struct EVENT_TIMER {
    EVENT_TIMER_FN fn;
    void   *ctx;
    double  when;
    unsigned long round;        /* added in this round of event_loop() */
} EVENT_TIMER;

static EVENT_FD *event_fds;
static size_t event_nfds, event_fdcap;
static EVENT_TIMER *event_timers;
static size_t event_ntimers, event_timercap;
static unsigned long event_gen;
static unsigned long event_round;

double
event_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static EVENT_FD *
event_find(int fd)
{
    size_t  i;

    for (i = 0; i < event_nfds; i++)
        if (event_fds[i].fd == fd)
            return event_fds + i;
    return NULL;
}

static EVENT_FD *
event_get(int fd)
{
    EVENT_FD *e = event_find(fd);

    if (e != NULL)
        return e;
    if (event_nfds == event_fdcap) {
        event_fdcap = event_fdcap ? event_fdcap * 2 : 16;
        event_fds = mem_realloc_array(event_fds, event_fdcap, sizeof(EVENT_FD));
    }
    e = event_fds + event_nfds++;
    e->fd = fd;
    e->rfn = e->wfn = NULL;
    e->rctx = e->wctx = NULL;
    e->rgen = e->wgen = 0;
    return e;
}

static void
event_gc(EVENT_FD *e)
{
    if (e->rfn == NULL && e->wfn == NULL)
        *e = event_fds[--event_nfds];
}

void
event_read(int fd, EVENT_FN fn, void *ctx)
{
    EVENT_FD *e = event_get(fd);

    e->rfn = fn;
    e->rctx = ctx;
    e->rgen = ++event_gen;
}

void
event_write(int fd, EVENT_FN fn, void *ctx)
{
    EVENT_FD *e = event_get(fd);

    e->wfn = fn;
    e->wctx = ctx;
    e->wgen = ++event_gen;
}

void
event_cancel_read(int fd)
{
    EVENT_FD *e = event_find(fd);

    if (e != NULL) {
        e->rfn = NULL;
        e->rgen = ++event_gen;
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
        event_gc(e);
    }
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

void
event_loop(double max_wait)
{
    struct pollfd *pfds;
    EVENT_READY *ready;
    size_t  n = event_nfds, i, nready = 0;
    int     rc;

    event_round++;
    pfds = mem_array(n ? n : 1, sizeof(*pfds));
    ready = mem_array(n ? n : 1, sizeof(*ready));
    for (i = 0; i < n; i++) {
        pfds[i].fd = event_fds[i].fd;
        pfds[i].events = (short) ((event_fds[i].rfn ? POLLIN : 0)
                                  | (event_fds[i].wfn ? POLLOUT : 0));
        ready[i].rgen = event_fds[i].rgen;
        ready[i].wgen = event_fds[i].wgen;
    }
    rc = poll(pfds, (nfds_t) n, event_timeout(max_wait));
    event_run_timers();
    for (i = 0; rc > 0 && i < n; i++) {
        short   re = pfds[i].revents;

        if (re == 0)
            continue;
        ready[nready].fd = pfds[i].fd;
        ready[nready].rgen = ready[i].rgen;
        ready[nready].wgen = ready[i].wgen;
        ready[nready].events = ((re & POLLIN) ? EVENT_READ : 0)
            | ((re & POLLOUT) ? EVENT_WRITE : 0)
            | ((re & (POLLERR | POLLHUP | POLLNVAL)) ? EVENT_ERROR : 0);
        if (re & POLLNVAL)              /* closed without cancel: stop */
            event_cancel_fd(pfds[i].fd);
        else
            nready++;
    }
    for (i = 0; i < nready; i++)
        event_dispatch(ready + i);
    mem_free(pfds);
    mem_free(ready);
}
