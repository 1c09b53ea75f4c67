/*
 * qmgr_transport.c - delivery transports ("local", "smtp"): finding one,
 * and its own limits and concurrency feedback parameters.
 *
 * Interface (qmgr.h): qmgr_transport_list, qmgr_transport_find(),
 * qmgr_transport_rcpt_limit(), qmgr_transport_dest_limit(),
 * qmgr_transport_init_feedback().
 *
 * A transport is created the first time a recipient resolves to it and
 * lives as long as qmgr (which restarts on "postfix reload"). Its
 * parameters are read then: "<transport>_destination_concurrency_limit"
 * and friends, else the "default_" ones (config_transport_*() in
 * lib/global/config_vars.c, the one place that fallback lives). Its
 * destination queues are found through a hash table (qmgr_queue.c).
 *
 * DIAGNOSTICS: a concurrency feedback value ("1", "1/4", "1/concurrency")
 * that does not parse, or lies outside 0..1, draws a warning and 1 is
 * used, as Postfix does.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config.h"
#include "deliver.h"
#include "htable.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

QMGR_TRANSPORT *qmgr_transport_list;

/* 0 (Postfix: no limit) and above DELIVER_MAX_RCPT: DELIVER_MAX_RCPT. */
int
qmgr_transport_rcpt_limit(const char *transport)
{
    long    n = config_transport_int(transport, "destination_recipient_limit");

    return n < 1 || n > DELIVER_MAX_RCPT ? DELIVER_MAX_RCPT : (int) n;
}

#define QMGR_NO_CONCURRENCY_LIMIT 1000000

/* 0 means no limit, as in Postfix. */
int
qmgr_transport_dest_limit(const char *transport)
{
    long    n = config_transport_int(transport, "destination_concurrency_limit");

    return n < 1 || n > QMGR_NO_CONCURRENCY_LIMIT ? QMGR_NO_CONCURRENCY_LIMIT : (int) n;
}

/*
 * A feedback value: "number", "number/number" or "number/concurrency"
 * (the latter sets *per_window: divide by the window when applied).
 * Values outside 0..1 or bad syntax: a warning and 1, as Postfix.
 */
static double
qmgr_transport_feedback_parse(const char *name, const char *value, int *per_window)
{
    char   *end;
    double  num, den = 1;

    *per_window = 0;
    num = strtod(value, &end);
    if (end == value)
        goto bad;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end == '/') {
        const char *d = end + 1;

        while (*d == ' ' || *d == '\t')
            d++;
        if (strcasecmp(d, "concurrency") == 0) {
            *per_window = 1;
            end = (char *) d + strlen(d);
        } else {
            den = strtod(d, &end);
            if (end == d || den <= 0)
                goto bad;
        }
    }
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != 0 || num / den < 0 || num / den > 1)
        goto bad;
    return num / den;

bad:
    msg_warn("%s: bad feedback value \"%s\"; using 1", name, value);
    *per_window = 0;
    return 1;
}

/* The transport's feedback parameter <suffix>; the warning names the
 * default_ form when the value is the default's, as Postfix. */
static double
qmgr_transport_feedback(const char *transport, const char *suffix, const char *dflt,
                        int *per_window)
{
    const char *value = config_transport_str(transport, suffix);
    char   *name = strcmp(value, dflt) == 0 ? mem_printf("default_%s", suffix)
        : mem_printf("%s_%s", transport, suffix);
    double  result = qmgr_transport_feedback_parse(name, value, per_window);

    mem_free(name);
    return result;
}

/* The transport's window parameters (called when it is created). */
void
qmgr_transport_init_feedback(QMGR_TRANSPORT *tr)
{
    tr->init_window = (int) config_transport_int(tr->name, "initial_destination_concurrency");
    tr->pos_feedback = qmgr_transport_feedback(tr->name,
                                               "destination_concurrency_positive_feedback",
                                               var_conc_pos_feedback, &tr->pos_per_window);
    tr->neg_feedback = qmgr_transport_feedback(tr->name,
                                               "destination_concurrency_negative_feedback",
                                               var_conc_neg_feedback, &tr->neg_per_window);
    tr->cohort_limit = config_transport_int(tr->name,
                                            "destination_concurrency_failed_cohort_limit");
}

QMGR_TRANSPORT *
qmgr_transport_find(const char *name, int create)
{
    QMGR_TRANSPORT *tr;

    for (tr = qmgr_transport_list; tr; tr = tr->next)
        if (strcmp(tr->name, name) == 0)
            return tr;
    if (!create)
        return 0;
    tr = mem_alloc(sizeof(*tr));
    tr->name = mem_strdup(name);
    tr->rcpt_limit = qmgr_transport_rcpt_limit(name);
    tr->dest_limit = qmgr_transport_dest_limit(name);
    tr->proc_limit = (int) var_proc_limit;
    qmgr_transport_init_feedback(tr);
    tr->queue_table = htable_create(0);
    tr->next = qmgr_transport_list;
    qmgr_transport_list = tr;
    return tr;
}
