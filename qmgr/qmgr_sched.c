/*
 * qmgr_sched.c - the scheduler: which waiting entries start now.
 *
 * Interface (qmgr.h): qmgr_kick(), qmgr_sched_run(),
 * qmgr_sched_flush_dead(), qmgr_sched_timers_init().
 *
 * qmgr_kick() sets a zero-delay timer, so that every change (a scan
 * request, a finished delivery, a finished message) leads to one round
 * on the next event loop iteration: feed a batch of messages from the
 * queue scans, then start deliveries. Per transport the queues are
 * served round-robin; a queue runs at most its concurrency window of
 * entries at once, a transport at most proc_limit (default_process_limit).
 *
 * Concurrency window (Postfix 2.5+ scheduler, SCHEDULER_README): a new
 * destination queue starts at initial_destination_concurrency (at most
 * <transport>_destination_concurrency_limit). Each finished delivery is
 * feedback: one without a connection or handshake failure adds the
 * positive feedback (default 1, also "N/M" or "N/concurrency") to a
 * success count and the window grows by one each time that count reaches
 * 1 (at the end of a run of 1/feedback deliveries), up to the limit; a
 * failed one subtracts the negative feedback and the window shrinks by one
 * at the start of each such run, never below 1. Failures also add
 * 1/window to the failed pseudo-cohort count (reset by any good delivery);
 * when it reaches <transport>_destination_concurrency_failed_cohort_limit
 * (default 1; 0 = never) the destination is dead: window 0 for
 * minimal_backoff_time, its waiting and new recipients deferred at once
 * with "delivery temporarily suspended: <last reason>"; a later good
 * result, the end of that time, or 'F' (flush) revive it at the initial
 * window. A delivery agent that reports no verdict (transport trouble)
 * gives no feedback. A transport that could not be
 * reached is dead for transport_retry_time: its entries are deferred at
 * once (so the messages move to deferred/ with a future retry time and
 * nothing loops); 'F' forgets that.
 *
 * The queue_run_delay timer requests a deferred scan periodically.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "events.h"
#include "mem.h"
#include "msg.h"
#include "vstring.h"
#include "qmgr.h"

#define QMGR_FEED_BATCH 100     /* messages read per round */

static int kick_pending;

static void
sched_kick_event(void *ctx)
{
    kick_pending = 0;
    (void) qmgr_scan_feed(QMGR_FEED_BATCH);
    qmgr_sched_run();
    if (qmgr_scan_pending() && qmgr_message_count < var_qmgr_active_limit)
        qmgr_kick();
}

void
qmgr_kick(void)
{
    if (kick_pending)
        return;
    kick_pending = 1;
    event_timer(sched_kick_event, 0, 0);
}

/* Next queue after the round-robin position that may start an entry. */
static QMGR_QUEUE *
sched_next_queue(QMGR_TRANSPORT *tr)
{
    QMGR_QUEUE *start = tr->rr_next ? tr->rr_next : tr->queues;
    QMGR_QUEUE *q = start;

    if (q == 0)
        return 0;
    do {
        QMGR_QUEUE *next = q->next ? q->next : tr->queues;

        if (q->todo_head && q->active < q->window) {
            tr->rr_next = next;
            return q;
        }
        q = next;
    } while (q != start);
    return 0;
}

/* A dead transport: defer everything waiting for it. */
static void
sched_defer_all(QMGR_TRANSPORT *tr)
{
    QMGR_ENTRY *e;

    for (QMGR_QUEUE *q = tr->queues; q; q = q->next) {
        while ((e = qmgr_queue_pop(q)) != 0) {
            qmgr_entry_defer(e, "4.3.0", tr->dead_reason ? tr->dead_reason
                             : "mail transport unavailable");
            qmgr_entry_done(e);
        }
    }
}

/* Defer the waiting entries of dead queues (revive expired ones). */
static void
sched_defer_dead(QMGR_TRANSPORT *tr, time_t now)
{
    QMGR_ENTRY *e;

    for (QMGR_QUEUE *q = tr->queues; q; q = q->next)
        if (q->todo_head && qmgr_queue_dead(q, now))
            while ((e = qmgr_queue_pop(q)) != 0)
                qmgr_queue_defer_dead(e);
}

static void
sched_transport(QMGR_TRANSPORT *tr, time_t now)
{
    QMGR_QUEUE *q;
    QMGR_ENTRY *e;

    if (tr->dead_until && tr->dead_until <= now) {
        tr->dead_until = 0;     /* try it again */
    }
    if (tr->dead_until) {
        sched_defer_all(tr);
        return;
    }
    sched_defer_dead(tr, now);
    while (tr->active < tr->proc_limit && (q = sched_next_queue(tr)) != 0) {
        e = qmgr_queue_pop(q);
        e->inflight = 1;
        q->active++;
        tr->active++;
        if (qmgr_deliver_start(e) < 0)
            qmgr_entry_done(e);
        if (tr->dead_until) {   /* that connect failed */
            sched_defer_all(tr);
            return;
        }
    }
}

void
qmgr_sched_run(void)
{
    time_t  now = time((time_t *) 0);

    for (QMGR_TRANSPORT *tr = qmgr_transport_list; tr; tr = tr->next)
        sched_transport(tr, now);
    qmgr_queue_gc();
}

void
qmgr_sched_flush_dead(void)
{
    for (QMGR_TRANSPORT *tr = qmgr_transport_list; tr; tr = tr->next) {
        tr->dead_until = 0;
        for (QMGR_QUEUE *q = tr->queues; q; q = q->next)
            if (q->window == 0)
                qmgr_queue_init_window(q);
    }
}

static void
sched_deferred_timer(void *ctx)
{
    qmgr_scan_request(QMGR_SCAN_DEFERRED);
    event_timer(sched_deferred_timer, 0, (double) var_queue_run_delay);
}

void
qmgr_sched_timers_init(void)
{
    event_timer(sched_deferred_timer, 0, (double) var_queue_run_delay);
}

/* ---- concurrency window and feedback ---------------------------------- */

void
qmgr_queue_init_window(QMGR_QUEUE *q)
{
    QMGR_TRANSPORT *tr = q->transport;

    q->window = tr->init_window < tr->dest_limit ? tr->init_window : tr->dest_limit;
    q->success = q->failure = q->fail_cohorts = 0;
    q->dead_until = 0;
    q->dead_dsn[0] = 0;
    mem_free(q->dead_reason);
    q->dead_reason = 0;
}

int
qmgr_queue_dead(QMGR_QUEUE *q, time_t now)
{
    if (q->window > 0)
        return 0;
    if (q->dead_until > now)
        return 1;
    qmgr_queue_init_window(q);      /* the dead period is over */
    return 0;
}

void
qmgr_queue_defer_dead(QMGR_ENTRY *entry)
{
    QMGR_QUEUE *q = entry->queue;
    VSTRING *why = vstring_alloc(256);

    vstring_sprintf(why, "delivery temporarily suspended: %s",
                    q->dead_reason ? q->dead_reason : "destination unavailable");
    qmgr_entry_defer(entry, q->dead_dsn[0] == '4' ? q->dead_dsn : "4.0.0", STR(why));
    vstring_free(why);
    qmgr_entry_done(entry);
}

#define SCHED_EPSILON 1e-5

static void
sched_feedback_ok(QMGR_QUEUE *q)
{
    QMGR_TRANSPORT *tr = q->transport;
    double  fb;

    q->fail_cohorts = 0;
    if (q->window == 0) {           /* it is alive after all */
        qmgr_queue_init_window(q);
        return;
    }
    if (q->window >= tr->dest_limit)
        return;
    fb = tr->pos_per_window ? tr->pos_feedback / q->window : tr->pos_feedback;
    q->success += fb;
    while (q->success + SCHED_EPSILON >= 1 && q->window < tr->dest_limit) {
        q->window++;
        q->success -= 1;
        q->failure = 0;
    }
    if (q->window >= tr->dest_limit)
        q->success = 0;
}

static void
sched_feedback_fail(QMGR_QUEUE *q, const char *dsn, const char *reason, time_t now)
{
    QMGR_TRANSPORT *tr = q->transport;
    double  fb;

    if (q->window == 0)             /* already dead */
        return;
    q->fail_cohorts += 1.0 / q->window;
    fb = tr->neg_per_window ? tr->neg_feedback / q->window : tr->neg_feedback;
    if (fb > 0) {
        q->failure -= fb;
        while (q->failure + SCHED_EPSILON < 0 && q->window > 1) {
            q->window--;
            q->failure += 1;
            q->success = 0;
        }
        if (q->failure < -1)
            q->failure = -1;
    }
    if (tr->cohort_limit > 0 && q->fail_cohorts + SCHED_EPSILON >= tr->cohort_limit) {
        q->window = 0;
        q->dead_until = now + var_min_backoff;
        snprintf(q->dead_dsn, sizeof(q->dead_dsn), "%s", dsn && *dsn ? dsn : "4.0.0");
        mem_free(q->dead_reason);
        q->dead_reason = mem_strdup(reason && *reason ? reason : "destination unavailable");
    }
}

void
qmgr_queue_feedback(QMGR_QUEUE *q, int verdict, const char *dsn, const char *reason,
                    time_t now)
{
    if (verdict == QMGR_FEEDBACK_OK)
        sched_feedback_ok(q);
    else if (verdict == QMGR_FEEDBACK_FAIL)
        sched_feedback_fail(q, dsn, reason, now);
}
