/*
 * qmgr_queue.c - destination queues: one per (transport, destination),
 * a FIFO of waiting delivery entries and a concurrency window.
 *
 * Interface (qmgr.h): qmgr_queue_find(), qmgr_queue_append(),
 * qmgr_queue_push(), qmgr_queue_pop(), qmgr_queue_gc(), qmgr_queue_init_window(),
 * qmgr_queue_dead(), qmgr_queue_defer_dead(), qmgr_queue_feedback().
 *
 * A queue is keyed by the lowercased nexthop, or by the lowercased
 * recipient plus nexthop when the transport's recipient limit is 1
 * (qmgr_message_group() builds the key). The queues of a transport are
 * found through its hash table (lib/util/htable.c) and kept in a list,
 * oldest first, that the scheduler walks round-robin. A queue that holds
 * nothing (and is not dead) is freed by qmgr_queue_gc().
 *
 * Concurrency window (Postfix 2.5+ scheduler, SCHEDULER_README): a new
 * queue starts at initial_destination_concurrency (at most
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
 * window. A delivery that gives no verdict (transport trouble) gives no
 * feedback.
 *
 * DIAGNOSTICS: a queue that is not in its table when collected is a
 * programming error (panic); nothing else is reported.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "htable.h"
#include "mem.h"
#include "msg.h"
#include "vstring.h"
#include "qmgr.h"

QMGR_QUEUE *
qmgr_queue_find(QMGR_TRANSPORT *tr, const char *key, const char *nexthop, int create)
{
    QMGR_QUEUE *q = htable_find(tr->queue_table, key);

    if (q != 0 || !create)
        return q;
    q = mem_alloc(sizeof(*q));
    q->key = htable_enter(tr->queue_table, key, q)->key;
    q->nexthop = mem_strdup(nexthop);
    q->transport = tr;
    qmgr_queue_init_window(q);
    if (tr->queues_tail)            /* append: first come, first served */
        tr->queues_tail->next = q;
    else
        tr->queues = q;
    tr->queues_tail = q;
    return q;
}

void
qmgr_queue_append(QMGR_QUEUE *q, QMGR_ENTRY *e)
{
    e->next = 0;
    if (q->todo_tail)
        q->todo_tail->next = e;
    else
        q->todo_head = e;
    q->todo_tail = e;
    q->todo_count++;
}

void
qmgr_queue_push(QMGR_QUEUE *q, QMGR_ENTRY *e)
{
    e->next = q->todo_head;
    q->todo_head = e;
    if (q->todo_tail == 0)
        q->todo_tail = e;
    q->todo_count++;
}

QMGR_ENTRY *
qmgr_queue_pop(QMGR_QUEUE *q)
{
    QMGR_ENTRY *e = q->todo_head;

    if (e == 0)
        return 0;
    q->todo_head = e->next;
    if (q->todo_head == 0)
        q->todo_tail = 0;
    q->todo_count--;
    e->next = 0;
    if (q->fill_entry == e)
        q->fill_entry = 0;
    return e;
}

/* The hash table owns the key; this frees the rest. */
static void
qmgr_queue_free(void *ptr)
{
    QMGR_QUEUE *q = ptr;

    mem_free(q->nexthop);
    mem_free(q->dead_reason);
    mem_free(q);
}

void
qmgr_queue_gc(void)
{
    time_t  now = time((time_t *) 0);

    for (QMGR_TRANSPORT *tr = qmgr_transport_list; tr; tr = tr->next) {
        QMGR_QUEUE **qp = &tr->queues;

        while (*qp) {
            QMGR_QUEUE *q = *qp;

            if (q->active == 0 && q->todo_head == 0
                && (q->window > 0 || q->dead_until <= now)) {
                *qp = q->next;
                if (tr->rr_next == q)
                    tr->rr_next = q->next;
                if (htable_delete(tr->queue_table, q->key, qmgr_queue_free) < 0)
                    msg_panic("qmgr_queue_gc: queue \"%s\" not in its table", q->key);
            } else {
                qp = &q->next;
            }
        }
        tr->queues_tail = 0;
        for (QMGR_QUEUE *q = tr->queues; q; q = q->next)
            tr->queues_tail = q;
    }
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

#define QMGR_QUEUE_EPSILON 1e-5

static void
qmgr_queue_feedback_ok(QMGR_QUEUE *q)
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
    while (q->success + QMGR_QUEUE_EPSILON >= 1 && q->window < tr->dest_limit) {
        q->window++;
        q->success -= 1;
        q->failure = 0;
    }
    if (q->window >= tr->dest_limit)
        q->success = 0;
}

static void
qmgr_queue_feedback_fail(QMGR_QUEUE *q, const char *dsn, const char *reason, time_t now)
{
    QMGR_TRANSPORT *tr = q->transport;
    double  fb;

    if (q->window == 0)             /* already dead */
        return;
    q->fail_cohorts += 1.0 / q->window;
    fb = tr->neg_per_window ? tr->neg_feedback / q->window : tr->neg_feedback;
    if (fb > 0) {
        q->failure -= fb;
        while (q->failure + QMGR_QUEUE_EPSILON < 0 && q->window > 1) {
            q->window--;
            q->failure += 1;
            q->success = 0;
        }
        if (q->failure < -1)
            q->failure = -1;
    }
    if (tr->cohort_limit > 0 && q->fail_cohorts + QMGR_QUEUE_EPSILON >= tr->cohort_limit) {
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
        qmgr_queue_feedback_ok(q);
    else if (verdict == QMGR_FEEDBACK_FAIL)
        qmgr_queue_feedback_fail(q, dsn, reason, now);
}
