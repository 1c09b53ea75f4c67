/*
 * qmgr_param.c - the queue manager's parameters.
 *
 * Interface (qmgr.h): qmgr_params_init() reads the var_* variables from
 * main.cf once, at start (qmgr restarts on "postfix reload"). A
 * transport's own parameters are read when qmgr first meets it
 * (qmgr_transport.c).
 *
 * DIAGNOSTICS: a bad number or time, or one outside the bounds in
 * lib/global/params.c, is fatal with the parameter's name and value.
 */
#include "config.h"
#include "qmgr.h"

long    var_min_backoff;
long    var_max_backoff;
long    var_max_queue_time;
long    var_dsn_queue_time;
long    var_queue_run_delay;
long    var_transport_retry_time;
long    var_ipc_timeout;
long    var_qmgr_active_limit;
long    var_qmgr_rcpt_limit;
long    var_proc_limit;
const char *var_def_filter_nexthop;
const char *var_myhostname;

/*
 * The global forms of the per-transport parameters. config_transport_*()
 * falls back to them by name; reading them here as well makes a bad value
 * fatal at start, not when a transport is first used. The feedback ones
 * are kept: qmgr_transport.c names them in its warnings.
 */
static long var_init_dest_concurrency;
static long var_dest_con_limit;
static long var_dest_rcpt_limit;
static long var_local_con_limit;
static long var_local_rcpt_limit;
static long var_conc_cohort_limit;
const char *var_conc_pos_feedback;
const char *var_conc_neg_feedback;

static const CONFIG_VAR qmgr_vars[] = {
    CONFIG_VAR_TIME("minimal_backoff_time", &var_min_backoff),
    CONFIG_VAR_TIME("maximal_backoff_time", &var_max_backoff),
    CONFIG_VAR_TIME("maximal_queue_lifetime", &var_max_queue_time),
    CONFIG_VAR_TIME("bounce_queue_lifetime", &var_dsn_queue_time),
    CONFIG_VAR_TIME("queue_run_delay", &var_queue_run_delay),
    CONFIG_VAR_TIME("transport_retry_time", &var_transport_retry_time),
    CONFIG_VAR_TIME("ipc_timeout", &var_ipc_timeout),
    CONFIG_VAR_INT("qmgr_message_active_limit", &var_qmgr_active_limit),
    CONFIG_VAR_INT("qmgr_message_recipient_limit", &var_qmgr_rcpt_limit),
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
