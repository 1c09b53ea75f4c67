/*
 * test_qmgr_backoff.c - qmgr retry arithmetic and per-transport limits
 * (qmgr/qmgr_param.c, compiled in directly).
 */
#include "unit.h"
#include "config.h"
#include "../../qmgr/qmgr_param.c"

UNIT_TEST(backoff_clamps_to_min)
{
    CHECK_INT(qmgr_backoff(1000, 1000, 300, 4000), 300);
    CHECK_INT(qmgr_backoff(1000, 900, 300, 4000), 300);
    /* a clock that went backwards still gives the minimum */
    CHECK_INT(qmgr_backoff(1000, 5000, 300, 4000), 300);
}

UNIT_TEST(backoff_doubles_with_age)
{
    /* the delay equals the age, so each retry roughly doubles it */
    CHECK_INT(qmgr_backoff(10000, 10000 - 600, 300, 4000), 600);
    CHECK_INT(qmgr_backoff(10000, 10000 - 1200, 300, 4000), 1200);
    CHECK_INT(qmgr_backoff(10000, 10000 - 2400, 300, 4000), 2400);
}

UNIT_TEST(backoff_clamps_to_max)
{
    CHECK_INT(qmgr_backoff(100000, 100000 - 5000, 300, 4000), 4000);
    CHECK_INT(qmgr_backoff(100000, 0, 300, 4000), 4000);
}

UNIT_TEST(params_defaults)
{
    config_reset();
    config_load_text("", "test");
    qmgr_params_init();
    CHECK_INT(qmgr_params.min_backoff, 300);
    CHECK_INT(qmgr_params.max_backoff, 4000);
    CHECK_INT(qmgr_params.max_queue_time, 5 * 86400);
    CHECK_INT(qmgr_params.queue_run_delay, 300);
    CHECK_INT(qmgr_params.message_limit, 20000);
}

UNIT_TEST(params_from_main_cf)
{
    config_reset();
    config_load_text("minimal_backoff_time = 10s\n"
                     "maximal_backoff_time = 1m\n"
                     "maximal_queue_lifetime = 2\n"
                     "queue_run_delay = 1h\n", "test");
    qmgr_params_init();
    CHECK_INT(qmgr_params.min_backoff, 10);
    CHECK_INT(qmgr_params.max_backoff, 60);
    CHECK_INT(qmgr_params.max_queue_time, 2 * 86400);
    CHECK_INT(qmgr_params.queue_run_delay, 3600);
}

UNIT_TEST(params_bad_value_falls_back)
{
    config_reset();
    config_load_text("qmgr_message_active_limit = lots\n", "test");
    CHECK_INT(qmgr_param_long("qmgr_message_active_limit", 20000), 20000);
}

UNIT_TEST(transport_limits)
{
    config_reset();
    config_load_text("smtp_destination_recipient_limit = 7\n"
                     "default_destination_concurrency_limit = 5\n", "test");
    CHECK_INT(qmgr_transport_rcpt_limit("local"), 1);
    CHECK_INT(qmgr_transport_dest_limit("local"), 2);
    CHECK_INT(qmgr_transport_rcpt_limit("smtp"), 7);
    CHECK_INT(qmgr_transport_dest_limit("smtp"), 5);
    CHECK_INT(qmgr_transport_rcpt_limit("relay"), 50);
    config_reset();
    config_load_text("local_destination_recipient_limit = 3\n", "test");
    CHECK_INT(qmgr_transport_rcpt_limit("local"), 3);
}

UNIT_TESTS {
    {"backoff_clamps_to_min", backoff_clamps_to_min},
    {"backoff_doubles_with_age", backoff_doubles_with_age},
    {"backoff_clamps_to_max", backoff_clamps_to_max},
    {"params_defaults", params_defaults},
    {"params_from_main_cf", params_from_main_cf},
    {"params_bad_value_falls_back", params_bad_value_falls_back},
    {"transport_limits", transport_limits},
    UNIT_END
};
