/*
 * events.h - a small epoll(7) event loop with timers.
 *
 * One loop per process. Callbacks run from event_loop(); a callback may
 * add or remove any event, including its own. Cancel a descriptor before
 * closing it.
 *
 * DIAGNOSTICS: none; event_loop() does not fail, it returns after one
 * round.
 */
#ifndef POSTHORN_EVENTS_H
#define POSTHORN_EVENTS_H

typedef void (*EVENT_FN)(int fd, int events, void *ctx);
typedef void (*EVENT_TIMER_FN)(void *ctx);

#define EVENT_READ   (1 << 0)
#define EVENT_WRITE  (1 << 1)
#define EVENT_ERROR  (1 << 2)   /* hangup/error reported with READ/WRITE callbacks */

void    event_read(int fd, EVENT_FN fn, void *ctx);      /* replace any read handler */
/* The same, one process woken per event among those waiting on fd's open
 * file (a shared listen socket: EPOLLEXCLUSIVE). */
void    event_read_exclusive(int fd, EVENT_FN fn, void *ctx);
void    event_write(int fd, EVENT_FN fn, void *ctx);
void    event_cancel_read(int fd);
void    event_cancel_write(int fd);
void    event_cancel_fd(int fd);
/* In a signal handler, before close(fd): stop the kernel reporting fd
 * (the handler table is left alone; cancel fd later as usual). */
void    event_forget_async(int fd);
/* One-shot timer: (fn, ctx) is the key; re-adding resets the time. */
void    event_timer(EVENT_TIMER_FN fn, void *ctx, double seconds);
void    event_cancel_timer(EVENT_TIMER_FN fn, void *ctx);
/* Run one round: wait up to max_wait seconds (-1 = until an event). */
void    event_loop(double max_wait);
double  event_now(void);        /* monotonic seconds */

#endif
