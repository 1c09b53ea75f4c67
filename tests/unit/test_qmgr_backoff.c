/*
 * test_qmgr_backoff.c - qmgr retry arithmetic, its parameters (read once,
 * a bad value fatal) and the per-transport ones with their fallback
 * (qmgr/qmgr_message.c, qmgr_param.c, qmgr_transport.c; the qmgr files
 * are compiled in directly); also which queue file attributes give the
 * delivery request its client (XFORWARD): Postfix's log_* ones win.
 */
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"
#include "config.h"
#include "msg.h"
#include "qmgr_fixture.h"

/* The real client's attributes come after the log_* ones (as smtpd and
 * Postfix write them) and do not replace them; a log_* that is absent
 * (HELO unavailable) is not filled in from the real client. */
static QMGR_MESSAGE *
client_attrs(const char *const *attrs)
{
    QMGR_MESSAGE *m = mem_alloc(sizeof(*m));

    for (; *attrs; attrs++)
        message_attr(m, *attrs);
    message_client_done(m);
    return m;
}

UNIT_TEST(client_attrs_prefer_log)
{
    static const char *const forwarded[] = {
        "log_ident=ABCDEF", "rewrite_context=remote", "log_client_name=c.remote.test",
        "log_client_address=10.1.2.3", "log_client_port=4567", "log_protocol_name=ESMTP",
        "client_name=localhost", "client_addr=127.0.0.1", "client_address=127.0.0.1",
        "helo_name=filter.test", 0,
    };
    static const char *const older[] = {
        "log_ident=QID", "client_name=mx.example", "client_addr=192.0.2.1", 0,
    };
    QMGR_MESSAGE *m = client_attrs(forwarded);

    CHECK_STR(m->client_name, "c.remote.test");
    CHECK_STR(m->client_addr, "10.1.2.3");
    CHECK_STR(m->client_port, "4567");
    CHECK_STR(m->client_proto, "ESMTP");
    CHECK(m->client_helo == NULL);
    CHECK_STR(m->log_ident, "ABCDEF");
    CHECK_STR(m->rewrite_context, "remote");
    qmgr_message_free(m);
    /* a queue file without log_* (older posthorn): the real client */
    m = client_attrs(older);
    CHECK_STR(m->client_name, "mx.example");
    CHECK_STR(m->client_addr, "192.0.2.1");
    qmgr_message_free(m);
}

UNIT_TEST(backoff_clamps_to_min)
{
    CHECK_INT(qmgr_message_backoff(1000, 1000, 300, 4000), 300);
    CHECK_INT(qmgr_message_backoff(1000, 900, 300, 4000), 300);
    /* a clock that went backwards still gives the minimum */
    CHECK_INT(qmgr_message_backoff(1000, 5000, 300, 4000), 300);
}

UNIT_TEST(backoff_doubles_with_age)
{
    /* the delay equals the age, so each retry roughly doubles it */
    CHECK_INT(qmgr_message_backoff(10000, 10000 - 600, 300, 4000), 600);
    CHECK_INT(qmgr_message_backoff(10000, 10000 - 1200, 300, 4000), 1200);
    CHECK_INT(qmgr_message_backoff(10000, 10000 - 2400, 300, 4000), 2400);
}

UNIT_TEST(backoff_clamps_to_max)
{
    CHECK_INT(qmgr_message_backoff(100000, 100000 - 5000, 300, 4000), 4000);
    CHECK_INT(qmgr_message_backoff(100000, 0, 300, 4000), 4000);
}

UNIT_TEST(params_defaults)
{
    config_reset();
    config_load_text("", "test");
    qmgr_params_init();
    CHECK_INT(var_min_backoff, 300);
    CHECK_INT(var_max_backoff, 4000);
    CHECK_INT(var_max_queue_time, 5 * 86400);
    CHECK_INT(var_queue_run_delay, 300);
    CHECK_INT(var_qmgr_active_limit, 20000);
}

UNIT_TEST(params_from_main_cf)
{
    config_reset();
    config_load_text("minimal_backoff_time = 10s\n"
                     "maximal_backoff_time = 1m\n"
                     "maximal_queue_lifetime = 2\n"
                     "queue_run_delay = 1h\n", "test");
    qmgr_params_init();
    CHECK_INT(var_min_backoff, 10);
    CHECK_INT(var_max_backoff, 60);
    CHECK_INT(var_max_queue_time, 2 * 86400);
    CHECK_INT(var_queue_run_delay, 3600);
}

static void
qmgr_init(void *ctx)
{
    qmgr_params_init();
}

static int
params_child(const char *main_cf)
{
    return unit_config_child(main_cf, qmgr_init, NULL, NULL, 0);
}

/* One policy: a bad or out-of-range value is fatal (was: a warning and a
 * private default, or a silent clamp). */
UNIT_TEST(params_bad_value_is_fatal)
{
    msg_init("test_qmgr_backoff", MSG_STDERR | MSG_NOSYSLOG);
    CHECK_INT(params_child(""), 0);
    CHECK_INT(params_child("qmgr_message_active_limit = lots\n"), 1);
    CHECK_INT(params_child("qmgr_message_active_limit = 0\n"), 1);
    CHECK_INT(params_child("ipc_timeout = 0\n"), 1);
    CHECK_INT(params_child("ipc_timeout = soon\n"), 1);
    CHECK_INT(params_child("minimal_backoff_time = 0\n"), 1);
    CHECK_INT(params_child("initial_destination_concurrency = 0\n"), 1);
    CHECK_INT(params_child("default_destination_concurrency_limit = x\n"), 1);
}

UNIT_TEST(backoff_max_below_min)
{
    /* maximal_backoff_time below minimal_backoff_time: the minimum wins */
    CHECK_INT(qmgr_message_backoff(100000, 0, 300, 100), 300);
    CHECK_INT(qmgr_message_backoff(1000, 1000, 300, 100), 300);
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
    /* 0: no limit (Postfix); DELIVER_MAX_RCPT bounds the recipients */
    config_reset();
    config_load_text("default_destination_recipient_limit = 0\n"
                     "default_destination_concurrency_limit = 0\n", "test");
    CHECK_INT(qmgr_transport_rcpt_limit("relay"), DELIVER_MAX_RCPT);
    CHECK_INT(qmgr_transport_dest_limit("relay"), QMGR_NO_CONCURRENCY_LIMIT);
    /* a master.cf delivery service: <service>_... defaults to default_... */
    config_reset();
    config_load_text("default_destination_concurrency_limit = 4\n"
                     "initial_destination_concurrency = 3\n", "test");
    config_register_service("amavis", "smtp");
    CHECK_INT(qmgr_transport_dest_limit("amavis"), 4);
}

/* initial_destination_concurrency has no default_ form: a transport that
 * is no master.cf delivery agent (discard) takes the global value. */
UNIT_TEST(transport_initial_concurrency)
{
    QMGR_TRANSPORT tr = {.name = "discard"};

    config_reset();
    config_load_text("initial_destination_concurrency = 3\n"
                     "relay_initial_destination_concurrency = 7\n", "test");
    qmgr_params_init();
    qmgr_transport_init_feedback(&tr);
    CHECK_INT(tr.init_window, 3);
    tr.name = "relay";
    qmgr_transport_init_feedback(&tr);
    CHECK_INT(tr.init_window, 7);
    config_register_service("amavis", "smtp");
    tr.name = "amavis";
    qmgr_transport_init_feedback(&tr);
    CHECK_INT(tr.init_window, 3);
    CHECK(tr.pos_feedback == 1 && tr.neg_feedback == 1);
    CHECK(tr.cohort_limit == 1);
}

UNIT_TESTS {
    {"backoff_clamps_to_min", backoff_clamps_to_min},
    {"backoff_doubles_with_age", backoff_doubles_with_age},
    {"backoff_clamps_to_max", backoff_clamps_to_max},
    {"params_defaults", params_defaults},
    {"params_from_main_cf", params_from_main_cf},
    {"params_bad_value_is_fatal", params_bad_value_is_fatal},
    {"backoff_max_below_min", backoff_max_below_min},
    {"transport_limits", transport_limits},
    {"transport_initial_concurrency", transport_initial_concurrency},
    {"client_attrs_prefer_log", client_attrs_prefer_log},
    UNIT_END
};
