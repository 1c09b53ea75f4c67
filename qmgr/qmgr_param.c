/*
 * qmgr_param.c - the queue manager's parameters and retry arithmetic.
 *
 * Interface (qmgr.h): qmgr_params_init() fills qmgr_params from main.cf;
 * qmgr_param_long()/qmgr_param_time() read one value with a fallback;
 * qmgr_transport_{rcpt,dest}_limit() give the per-transport limits
 * (<transport>_destination_recipient_limit, ..._concurrency_limit, else
 * the default_ ones; "local" has Postfix's own defaults 1 and 2);
 * qmgr_backoff() computes the delay before the next attempt.
 *
 * The parameters are read through config_lookup() and parsed here, so a
 * per-transport name that the parameter table does not know still works
 * and a bad value falls back to the default with a warning.
 */
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "msg.h"
#include "vstring.h"
#include "qmgr.h"

QMGR_PARAMS qmgr_params;

long
qmgr_param_long(const char *name, long fallback)
{
    const char *value = config_lookup(name);
    char   *end;
    long    n;

    if (value == 0 || *value == 0)
        return fallback;
    n = strtol(value, &end, 10);
    if (end == value || *end != 0 || n < 0) {
        msg_warn("%s: bad numerical value \"%s\"; using %ld", name, value, fallback);
        return fallback;
    }
    return n;
}

long
qmgr_param_time(const char *name, char unit, long fallback)
{
    const char *value = config_lookup(name);
    long    secs;

    if (value == 0 || *value == 0)
        return fallback;
    if (config_parse_time(value, unit, &secs) < 0 || secs < 0) {
        msg_warn("%s: bad time value \"%s\"; using %lds", name, value, fallback);
        return fallback;
    }
    return secs;
}

void
qmgr_params_init(void)
{
    QMGR_PARAMS *p = &qmgr_params;

    p->min_backoff = qmgr_param_time("minimal_backoff_time", 's', 300);
    p->max_backoff = qmgr_param_time("maximal_backoff_time", 's', 4000);
    p->max_queue_time = qmgr_param_time("maximal_queue_lifetime", 'd', 5 * 86400);
    p->bounce_queue_time = qmgr_param_time("bounce_queue_lifetime", 'd', 5 * 86400);
    p->queue_run_delay = qmgr_param_time("queue_run_delay", 's', 300);
    p->transport_retry = qmgr_param_time("transport_retry_time", 's', 60);
    p->ipc_timeout = qmgr_param_time("ipc_timeout", 's', 3600);
    p->message_limit = qmgr_param_long("qmgr_message_active_limit", 20000);
    p->process_limit = qmgr_param_long("default_process_limit", 100);
    p->line_max = qmgr_param_long("line_length_limit", 2048);

    if (p->min_backoff < 1)
        p->min_backoff = 1;
    if (p->max_backoff < p->min_backoff)
        p->max_backoff = p->min_backoff;
    if (p->queue_run_delay < 1)
        p->queue_run_delay = 1;
    if (p->transport_retry < 1)
        p->transport_retry = 1;
    if (p->ipc_timeout < 1)
        p->ipc_timeout = 1;
    if (p->message_limit < 1)
        p->message_limit = 1;
    if (p->process_limit < 1)
        p->process_limit = 1;
    if (p->line_max < 1024)
        p->line_max = 1024;
}

/* <transport>_<suffix>, falling back to default_<suffix>, then dflt. */
static long
qmgr_transport_param(const char *transport, const char *suffix, long dflt)
{
    VSTRING *name = vstring_alloc(256);
    long    n;

    vstring_sprintf(name, "default_%s", suffix);
    n = qmgr_param_long(STR(name), dflt);
    vstring_sprintf(name, "%s_%s", transport, suffix);
    n = qmgr_param_long(STR(name), n);
    vstring_free(name);
    return n;
}

int
qmgr_transport_rcpt_limit(const char *transport)
{
    long    n;

    if (strcmp(transport, "local") == 0 && config_lookup("local_destination_recipient_limit") == 0)
        n = 1;
    else
        n = qmgr_transport_param(transport, "destination_recipient_limit", 50);
    if (n < 1 || n > 10000)     /* 0: no limit; DELIVER_MAX_RCPT bounds it */
        n = 10000;
    return (int) n;
}

int
qmgr_transport_dest_limit(const char *transport)
{
    long    n;

    if (strcmp(transport, "local") == 0 && config_lookup("local_destination_concurrency_limit") == 0)
        n = 2;
    else
        n = qmgr_transport_param(transport, "destination_concurrency_limit", 20);
    if (n < 1)                  /* 0 means no limit in Postfix */
        n = 1000000;
    return (int) n;
}

/*
 * The time between attempts doubles as the message ages: the next try
 * is "age" seconds away, clamped to [min_backoff, max_backoff]. A message
 * that arrived long ago waits max_backoff; a fresh one min_backoff.
 */
long
qmgr_backoff(time_t now, time_t arrival, long min_backoff, long max_backoff)
{
    long    age = (long) (now - arrival);

    if (age < min_backoff)
        return min_backoff;
    if (age > max_backoff)
        return max_backoff;
    return age;
}
