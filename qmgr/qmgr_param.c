/*
 * qmgr_param.c - the queue manager's parameters and retry arithmetic.
 *
 * Interface (qmgr.h): qmgr_params_init() reads the var_* variables from
 * main.cf once, at start (qmgr restarts on "postfix reload");
 * qmgr_transport_{rcpt,dest}_limit() and qmgr_transport_init_feedback()
 * read a transport's own parameters when qmgr first meets it
 * ("<transport>_destination_concurrency_limit" and friends, else the
 * "default_" ones: config_transport_*() in lib/config_vars.c, the one
 * place that fallback lives); qmgr_backoff() computes the delay before
 * the next attempt.
 *
 * DIAGNOSTICS: a bad number or time, or one outside the bounds in
 * lib/params.c, is fatal with the parameter's name and value. A
 * concurrency feedback value ("1", "1/4", "1/concurrency") that does not
 * parse, or lies outside 0..1, draws a warning and 1 is used, as Postfix
 * does.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "config.h"
#include "deliver.h"
#include "mem.h"
#include "msg.h"
#include "vstring.h"
#include "qmgr.h"

long    var_min_backoff;
long    var_max_backoff;
long    var_max_queue_time;
long    var_dsn_queue_time;
long    var_queue_run_delay;
long    var_transport_retry_time;
long    var_ipc_timeout;
long    var_qmgr_active_limit;
long    var_proc_limit;
const char *var_def_filter_nexthop;
const char *var_myhostname;

/*
 * The global forms of the per-transport parameters. config_transport_*()
 * falls back to them by name; reading them here as well makes a bad value
 * fatal at start, not when a transport is first used.
 */
static long var_init_dest_concurrency;
static long var_dest_con_limit;
static long var_dest_rcpt_limit;
static long var_local_con_limit;
static long var_local_rcpt_limit;
static long var_conc_cohort_limit;
static const char *var_conc_pos_feedback;
static const char *var_conc_neg_feedback;

static const CONFIG_VAR qmgr_vars[] = {
    CONFIG_VAR_TIME("minimal_backoff_time", &var_min_backoff),
    CONFIG_VAR_TIME("maximal_backoff_time", &var_max_backoff),
    CONFIG_VAR_TIME("maximal_queue_lifetime", &var_max_queue_time),
    CONFIG_VAR_TIME("bounce_queue_lifetime", &var_dsn_queue_time),
    CONFIG_VAR_TIME("queue_run_delay", &var_queue_run_delay),
    CONFIG_VAR_TIME("transport_retry_time", &var_transport_retry_time),
    CONFIG_VAR_TIME("ipc_timeout", &var_ipc_timeout),
    CONFIG_VAR_INT("qmgr_message_active_limit", &var_qmgr_active_limit),
    CONFIG_VAR_INT("default_process_limit", &var_proc_limit),
    CONFIG_VAR_STR("default_filter_nexthop", &var_def_filter_nexthop),
    CONFIG_VAR_STR("myhostname", &var_myhostname),
    CONFIG_VAR_INT("initial_destination_concurrency", &var_init_dest_concurrency),
    CONFIG_VAR_INT("default_destination_concurrency_limit", &var_dest_con_limit),
    CONFIG_VAR_INT("default_destination_recipient_limit", &var_dest_rcpt_limit),
    CONFIG_VAR_INT("local_destination_concurrency_limit", &var_local_con_limit),
    CONFIG_VAR_INT("local_destination_recipient_limit", &var_local_rcpt_limit),
    CONFIG_VAR_INT("default_destination_concurrency_failed_cohort_limit",
                   &var_conc_cohort_limit),
    CONFIG_VAR_STR("default_destination_concurrency_positive_feedback",
                   &var_conc_pos_feedback),
    CONFIG_VAR_STR("default_destination_concurrency_negative_feedback",
                   &var_conc_neg_feedback),
    CONFIG_VAR_END,
};

void
qmgr_params_init(void)
{
    config_read_vars(qmgr_vars);
}

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
qmgr_feedback_parse(const char *name, const char *value, int *per_window)
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
qmgr_feedback_value(const char *transport, const char *suffix, const char *dflt,
                    int *per_window)
{
    const char *value = config_transport_str(transport, suffix);
    char   *name = strcmp(value, dflt) == 0 ? mem_printf("default_%s", suffix)
        : mem_printf("%s_%s", transport, suffix);
    double  result = qmgr_feedback_parse(name, value, per_window);

    mem_free(name);
    return result;
}

/* The transport's window parameters (called when it is created). */
void
qmgr_transport_init_feedback(QMGR_TRANSPORT *tr)
{
    tr->init_window = (int) config_transport_int(tr->name, "initial_destination_concurrency");
    tr->pos_feedback = qmgr_feedback_value(tr->name, "destination_concurrency_positive_feedback",
                                           var_conc_pos_feedback, &tr->pos_per_window);
    tr->neg_feedback = qmgr_feedback_value(tr->name, "destination_concurrency_negative_feedback",
                                           var_conc_neg_feedback, &tr->neg_per_window);
    tr->cohort_limit = config_transport_int(tr->name,
                                            "destination_concurrency_failed_cohort_limit");
}

/*
 * The time between attempts doubles as the message ages: the next try
 * is "age" seconds away, clamped to [min_backoff, max_backoff]. A message
 * that arrived long ago waits max_backoff; a fresh one min_backoff (also
 * when max_backoff is the smaller).
 */
long
qmgr_backoff(time_t now, time_t arrival, long min_backoff, long max_backoff)
{
    long    age = (long) (now - arrival);

    if (age > max_backoff)
        age = max_backoff;
    if (age < min_backoff)
        age = min_backoff;
    return age;
}
