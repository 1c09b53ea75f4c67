/*
 * qmgr_sched.c - the scheduler: which waiting entries start now.
 *
 * Interface (qmgr.h): qmgr_sched_kick(), qmgr_sched_run(),
 * qmgr_sched_flush_dead(), qmgr_sched_timers_init(), qmgr_sched_flow().
 *
 * qmgr_sched_kick() sets a zero-delay timer, so that every change (a scan
 * request, a finished delivery, a finished message) leads to one round
 * on the next event loop iteration: feed a batch of messages from the
 * queue scans, then start deliveries. Per transport the queues are
 * served round-robin; a queue runs at most its concurrency window of
 * agent connections at once, a transport at most proc_limit
 * (default_process_limit), and a connection takes the next request of
 * its queue while it delivers the current one (qmgr_deliver_room()).
 *
 * A queue's window grows and shrinks with the feedback of finished
 * deliveries, and a queue that fails too often is dead for a while: its
 * waiting entries are deferred here (qmgr_queue.c has the window
 * arithmetic). A transport that could not be reached is dead for
 * transport_retry_time: its entries are deferred at once (so the
 * messages move to deferred/ with a future retry time and nothing
 * loops); 'F' forgets dead transports and destinations.
 *
 * The queue_run_delay timer requests a deferred scan periodically.
 *
 * DIAGNOSTICS: none; scheduling decisions are return values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "deliver.h"
#include "events.h"
#include "mail_flow.h"
#include "mem.h"
#include "msg.h"
#include "vstring.h"
#include "qmgr.h"

#define QMGR_FEED_BATCH 100     /* messages read per round */

static int kick_pending;

/*
 * in_flow_delay (mail_flow.h): top the flow pipe up to
 * default_process_limit tokens for cleanup in every scheduling round.
 * While qmgr runs its rounds, cleanup always finds one; when qmgr stalls
 * (no CPU, stuck) for as many messages as that, the inflow waits. (One
 * token per round instead, as measured, made 20 sessions wait a full
 * second whenever qmgr was a little behind: more than halved the
 * throughput of a saturated machine.)
 */
void
qmgr_sched_flow(void)
{
    int     have = mail_flow_count();
    int     want;

    if (have < 0 || have >= var_proc_limit)
        return;
    want = (int) var_proc_limit - have;
    while (want > 0 && mail_flow_put(want > 256 ? 256 : want) > 0)
        want -= 256;
}

static void
sched_kick_event(void *ctx)
{
    kick_pending = 0;
    qmgr_sched_flow();
    (void) qmgr_scan_feed(QMGR_FEED_BATCH);
    qmgr_sched_run();
    if (qmgr_scan_pending() && qmgr_scan_room())
        qmgr_sched_kick();
}

void
qmgr_sched_kick(void)
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

        if (qmgr_deliver_room(q)) {
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

/*
 * The connection cache hint for a delivery just selected from q: with
 * other deliveries to q in flight, more waiting, or one that ended within
 * the last second (back-to-back), the agent is to fetch a cached
 * connection and store its own; once that stops, still fetch (sticky,
 * so no new connection is made while cached ones exist) but store no more.
 */
static void
sched_conn_hint(QMGR_QUEUE *q, time_t now)
{
    if (q->active > 1 || q->todo_count > 0 || (q->last_done && q->last_done + 1 >= now))
        q->conn_flags = DELIVER_CONN_FETCH | DELIVER_CONN_STORE;
    else
        q->conn_flags &= ~DELIVER_CONN_STORE;
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
    while ((q = sched_next_queue(tr)) != 0) {
        e = qmgr_queue_pop(q);
        e->inflight = 1;
        q->active++;
        tr->active++;
        sched_conn_hint(q, now);
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
