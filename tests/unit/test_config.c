/*
 * test_config.c - unit tests for lib/config.c (main.cf parsing, expansion,
 * overrides, typed values) and the parameter table in lib/params.c.
 */
#include <stdlib.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "unit.h"

/* Run fn in a child; returns its exit status (-1 if it crashed). */
static int
run_child(void (*fn)(void))
{
    pid_t   pid = fork();
    int     status;

    if (pid == 0) {
        int     fd = open("/dev/null", 1);

        if (fd >= 0)
            dup2(fd, 2);
        fn();
        _exit(0);
    }
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
setup(const char *text)
{
    msg_init("test_config", MSG_NOSYSLOG);
    config_reset();
    config_load_text(text, "main.cf");
}

UNIT_TEST(test_parse_basic)
{
    setup("# comment\n"
          "myorigin   =   example.com   \n"
          "\n"
          "  # indented comment\n"
          "relayhost=[mx.example]:587\n"
          "empty =\n"
          "myorigin = second.example\n");
    CHECK_STR(config_raw("myorigin"), "second.example");   /* last one wins */
    CHECK_STR(config_str("relayhost"), "[mx.example]:587");
    CHECK_STR(config_str("empty"), "");
    CHECK(config_is_set("relayhost"));
    CHECK(config_in_file("relayhost"));
    CHECK(!config_is_set("mydestination"));
    CHECK(config_lookup("no_such_parameter") == NULL);
    CHECK_STR(config_str("no_such_parameter"), "");
}

UNIT_TEST(test_continuation)
{
    setup("mydestination = a,\n"
          "    b,\n"
          "\n"
          "# comment inside\n"
          "\tc   \n"
          "relayhost = r\n");
    /* continuation text is appended as is, trailing white space trimmed */
    CHECK_STR(config_raw("mydestination"), "a,    b,\tc");
    CHECK_STR(config_raw("relayhost"), "r");
    ARGV   *l = config_list("mydestination");

    CHECK_INT(l->argc, 3);
    CHECK_STR(l->argv[0], "a");
    CHECK_STR(l->argv[2], "c");
    argv_free(l);
}

UNIT_TEST(test_expansion_forms)
{
    setup("a = x\n"
          "e =\n"
          "b = $a ${a} $(a) $$a $ z\n"
          "c = ${a?yes} ${a:no} ${e?yes} ${e:no}\n"
          "d = ${a?{A B}:{C}}|${e?{A}:{C D}}|${e:{E}}|${a ? {sp}}\n"
          "f = ${{$a} == {x} ? {eq} : {ne}} ${{10} < {9} ? {lt} : {ge}}"
          " ${{3.6} <level {3.10} ? {older} : {newer}} ${{03} == {3} ? {n} : {s}}\n"
          "g = $undefined_name|${undefined_name}|${undefined_name:dflt}\n"
          "h = prefix-$a-$(a)suffix\n");
    CHECK_STR(config_str("b"), "x x x $a $ z");
    CHECK_STR(config_str("c"), "yes   no");
    CHECK_STR(config_str("d"), "A B|C D|E|sp");
    CHECK_STR(config_str("f"), "eq ge older n");
    CHECK_STR(config_str("g"), "||dflt");
    CHECK_STR(config_str("h"), "prefix-x-xsuffix");
    char   *s = config_expand("[$a]");

    CHECK_STR(s, "[x]");
    mem_free(s);
}

/* Postfix's built-in level is 0: its backwards-compatible defaults; the
 * main.cf make install ships sets 3.6. config_compat_break() says which
 * default is a backwards-compatible one (not set, level below). */
UNIT_TEST(test_compatibility_level_defaults)
{
    setup("");
    CHECK_STR(config_str("mynetworks_style"), "subnet");
    CHECK_STR(config_str("relay_domains"), config_str("mydestination"));
    CHECK_INT(config_bool("append_dot_mydomain"), 1);
    CHECK_INT(config_bool("smtputf8_enable"), 0);
    CHECK_STR(config_str("smtpd_relay_restrictions"), "");
    CHECK_INT(config_bool("smtpd_relay_before_recipient_restrictions"), 0);
    CHECK(config_compat_break("relay_domains", "2"));
    CHECK(config_compat_break("smtpd_relay_before_recipient_restrictions", "3.6"));
    setup("compatibility_level = 3.6\nrelay_domains = $mydestination\n");
    CHECK_STR(config_str("mynetworks_style"), "host");
    CHECK_STR(config_str("relay_domains"), config_str("mydestination"));
    CHECK_INT(config_bool("append_dot_mydomain"), 0);
    CHECK_INT(config_bool("smtputf8_enable"), 1);
    CHECK_STR(config_str("smtpd_relay_restrictions"),
              "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination");
    CHECK(!config_compat_break("relay_domains", "2"));
    CHECK(!config_compat_break("append_dot_mydomain", "1"));
    setup("compatibility_level = 2\n");
    CHECK(!config_compat_break("mynetworks_style", "2"));
    CHECK(config_compat_break("smtputf8_enable", "3.6"));
    CHECK(!config_compat_break("smtputf8_enable", "1"));
}

UNIT_TEST(test_defaults)
{
    setup("");
    CHECK_STR(config_str("queue_directory"), "/var/spool/postfix");
    CHECK_STR(config_str("daemon_directory"), "/usr/libexec/posthorn");
    CHECK_STR(config_str("compatibility_level"), "0");
    CHECK_STR(config_str("syslog_name"), "postfix");
    CHECK_INT(config_time("smtpd_timeout"), 300);
    CHECK_INT(config_time("maximal_queue_lifetime"), 5 * 86400);
    CHECK_INT(config_size("message_size_limit"), 10240000);
    CHECK_INT(config_int("default_process_limit"), 100);
    CHECK(strchr(config_str("myhostname"), '.') != NULL);
    CHECK(strlen(config_str("mydomain")) > 0);
    CHECK(strstr(config_str("mynetworks"), "127.0.0.0/8") != NULL);  /* subnet, level 0 */
    CHECK_STR(config_str("myorigin"), config_str("myhostname"));
    /* raw parameters are not expanded */
    CHECK_STR(config_str("forward_path"),
              "$home/.forward${recipient_delimiter}${extension}, $home/.forward");
    CHECK(config_param_info("smtpd_banner") != NULL);
    CHECK(config_param_info("not_a_param") == NULL);
}

UNIT_TEST(test_overrides_win)
{
    setup("myhostname = file.example\nsyslog_name = fromfile\n");
    CHECK_STR(config_str("myhostname"), "file.example");
    CHECK_STR(config_str("mydomain"), "example");
    config_override("myhostname", "over.example.org");
    CHECK_STR(config_str("myhostname"), "over.example.org");
    CHECK_STR(config_str("mydomain"), "example.org");
    CHECK_INT(config_override_arg("syslog_name = postfix/submission"), 0);
    CHECK_STR(config_str("syslog_name"), "postfix/submission");
    CHECK_INT(config_override_arg("no_equals_sign"), -1);
    CHECK_STR(config_default("syslog_name"),
              "${multi_instance_name?{$multi_instance_name}:{postfix}}");
    config_override("multi_instance_name", "postfix-out");
    config_override("syslog_name", config_default("syslog_name"));
    CHECK_STR(config_str("syslog_name"), "postfix-out");
}

UNIT_TEST(test_bool_time_parse)
{
    int     b;
    long    t;

    CHECK(config_parse_bool("yes", &b) == 0 && b == 1);
    CHECK(config_parse_bool("TRUE", &b) == 0 && b == 1);
    CHECK(config_parse_bool("no", &b) == 0 && b == 0);
    CHECK(config_parse_bool("false", &b) == 0 && b == 0);
    CHECK(config_parse_bool("maybe", &b) < 0);
    CHECK(config_parse_bool("", &b) < 0);
    CHECK(config_parse_time("10", 's', &t) == 0 && t == 10);
    CHECK(config_parse_time("10", 'm', &t) == 0 && t == 600);
    CHECK(config_parse_time("2h", 's', &t) == 0 && t == 7200);
    CHECK(config_parse_time("5d", 's', &t) == 0 && t == 432000);
    CHECK(config_parse_time("1w", 's', &t) == 0 && t == 604800);
    CHECK(config_parse_time("3x", 's', &t) < 0);
    CHECK(config_parse_time("1h30m", 's', &t) < 0);
    CHECK(config_parse_time("-1s", 's', &t) < 0);
    CHECK(config_parse_time("", 's', &t) < 0);
    CHECK(config_parse_time("99999999999999999999", 's', &t) < 0);
    setup("maximal_queue_lifetime = 2\n");
    CHECK_INT(config_time("maximal_queue_lifetime"), 2 * 86400);  /* default unit d */
}

static void
bad_int(void)
{
    setup("smtpd_recipient_limit = xyz\n");
    (void) config_int("smtpd_recipient_limit");
}

static void
bad_time(void)
{
    setup("smtpd_timeout = 10q\n");
    (void) config_time("smtpd_timeout");
}

static void
bad_bool(void)
{
    setup("smtpd_delay_reject = maybe\n");
    (void) config_bool("smtpd_delay_reject");
}

static void
bad_range(void)
{
    setup("default_process_limit = 0\n");
    (void) config_int("default_process_limit");
}

static void
loop(void)
{
    setup("a = $b\nb = ${a}\n");
    (void) config_str("a");
}

static void
deep_loop(void)
{
    setup("a = x$a\n");
    (void) config_str("a");
}

static void
missing_equals(void)
{
    setup("just some words\n");
}

UNIT_TEST(test_fatal_cases)
{
    CHECK_INT(run_child(bad_int), 1);
    CHECK_INT(run_child(bad_time), 1);
    CHECK_INT(run_child(bad_bool), 1);
    CHECK_INT(run_child(bad_range), 1);
    CHECK_INT(run_child(loop), 1);
    CHECK_INT(run_child(deep_loop), 1);
    CHECK_INT(run_child(missing_equals), 1);
}

UNIT_TEST(test_syntax_errors_survive)
{
    setup("a = ${unterminated\n"
          "b = ${bad name}\n"
          "c = ${{x} ~~ {y} ? {a} : {b}}\n"
          "  leading = whitespace line is ignored\n");
    CHECK_STR(config_str("a"), "${unterminated");
    CHECK_STR(config_str("b"), "${bad name}");
    CHECK(config_str("c") != NULL);
}

static int walk_count;
static char walk_prev[256];
static int walk_sorted = 1;

static void
walk_fn(const char *name, void *ctx)
{
    if (strcmp(walk_prev, name) >= 0)
        walk_sorted = 0;
    snprintf(walk_prev, sizeof(walk_prev), "%s", name);
    walk_count++;
}

UNIT_TEST(test_walk_unknown)
{
    setup("zzz_custom = 1\nsmtpd_banner = $my_macro\nmy_macro = hi\n"
          "smtpd_restriction_classes = cls\ncls = reject\n");
    config_walk(walk_fn, NULL);
    CHECK(walk_sorted);
    CHECK(walk_count >= param_table_size);
    ARGV   *u = config_unknown_names();

    CHECK_INT(u->argc, 1);              /* my_macro and cls are used */
    if (u->argc == 1)
        CHECK_STR(u->argv[0], "zzz_custom");
    argv_free(u);
    CHECK_STR(config_str("smtpd_banner"), "hi");
}

UNIT_TEST(test_service_params)
{
    setup("");
    config_register_service("amavis", "smtp");
    config_register_service("spamd", "pipe");
    config_register_service("cleanup", "cleanup");
    CHECK_STR(config_raw("amavis_destination_recipient_limit"),
              "$default_destination_recipient_limit");
    CHECK_INT(config_int("amavis_destination_recipient_limit"), 50);
    CHECK_INT(config_time("spamd_time_limit"), 1000);
    CHECK(config_param_info("cleanup_destination_concurrency_limit") == NULL);
    /* a built-in one keeps its own default */
    config_register_service("local", "local");
    CHECK_INT(config_int("local_destination_concurrency_limit"), 2);
}

/*
 * Built-in and per-transport parameters get their entry when first named
 * (a daemon does not hold all 800): config_builtin() needs param_table
 * sorted, and a per-transport name set before its service is known gets
 * its description (bounds, default) when the service comes.
 */
UNIT_TEST(test_lazy_entries)
{
    int     i;

    for (i = 1; i < param_table_size; i++)
        CHECK(strcmp(param_table[i - 1].name, param_table[i].name) < 0);
    setup("amavis_destination_recipient_limit = 9\n"
          "x = <$amavis_destination_concurrency_limit>\n");
    CHECK(config_param_info("amavis_destination_recipient_limit") == NULL);
    CHECK_STR(config_str("x"), "<>");
    config_register_service("amavis", "smtp");
    CHECK(config_param_info("amavis_destination_recipient_limit") != NULL);
    CHECK_INT(config_int("amavis_destination_recipient_limit"), 9);
    CHECK_STR(config_str("x"), "<20>");
    CHECK(config_param_info("amavis_nonexistent_limit") == NULL);
    CHECK(config_param_info(param_table[0].name) != NULL);
    CHECK(config_param_info(param_table[param_table_size - 1].name) != NULL);
    CHECK(config_param_info("zzzz") == NULL);
    CHECK(config_param_info("") == NULL);
}

/*
 * The programs know the parameters through mkparams.py's param_rows (no
 * pointers to relocate): the same names, defaults, types, bounds and
 * flags as params.c's param_table, row for row.
 */
UNIT_TEST(test_param_rows_match_table)
{
    const PARAM_INFO *t, *info;
    const PARAM_ROW *r;
    int     i;

    setup("");
    CHECK_INT(param_rows_size, param_table_size);
    for (i = 0; i < param_table_size && i < param_rows_size; i++) {
        t = &param_table[i];
        r = &param_rows[i];
        CHECK_STR(param_row_string(r->name), t->name);
        if (t->dflt == NULL)
            CHECK(r->dflt == PARAM_ROW_COMPUTED);
        else if (r->dflt == PARAM_ROW_COMPUTED)
            CHECK(0);
        else
            CHECK_STR(param_row_string(r->dflt), t->dflt);
        CHECK(r->type == t->type && r->min == t->min && r->max == t->max
              && r->time_unit == t->time_unit && r->flags == t->flags);
        info = config_param_info(t->name);
        CHECK(info != NULL && strcmp(info->name, t->name) == 0 && info->type == t->type
              && info->flags == t->flags && info->min == t->min && info->max == t->max
              && info->time_unit == t->time_unit
              && (info->dflt == NULL ? t->dflt == NULL : t->dflt && !strcmp(info->dflt, t->dflt)));
    }
}

/*
 * A string handed out stays valid until config_reset(), even after the
 * value changes (an override, a main.cf line read later, a new default
 * generation): callers keep pointers into the table.
 */
UNIT_TEST(test_value_lifetime)
{
    const char *first, *expanded, *raw, *second;

    setup("myorigin = first.example\n"
          "relayhost = [$myorigin]\n");
    first = config_str("myorigin");
    expanded = config_str("relayhost");
    raw = config_raw("myorigin");
    config_override("myorigin", "second.example");
    second = config_str("myorigin");
    CHECK_STR(second, "second.example");
    CHECK_STR(config_str("relayhost"), "[second.example]");
    config_override("myorigin", "third.example");
    (void) config_str("myorigin");
    (void) config_str("relayhost");
    config_load_text("myorigin = fourth.example\n", "main.cf");
    (void) config_raw("myorigin");
    CHECK_STR(first, "first.example");
    CHECK_STR(expanded, "[first.example]");
    CHECK_STR(raw, "first.example");
    CHECK_STR(second, "second.example");
}

static const char *var_relayhost;
static long var_limit, var_delay, var_size;
static int var_bool;

static void
read_bad_type(void)
{
    static const CONFIG_VAR vars[] = {
        CONFIG_VAR_INT("relayhost", &var_limit), CONFIG_VAR_END,
    };

    config_read_vars(vars);
}

static void
read_bad_value(void)
{
    static const CONFIG_VAR vars[] = {
        CONFIG_VAR_TIME("queue_run_delay", &var_delay), CONFIG_VAR_END,
    };

    config_override("queue_run_delay", "soon");
    config_read_vars(vars);
}

UNIT_TEST(test_read_vars)
{
    static const CONFIG_VAR vars[] = {
        CONFIG_VAR_STR("relayhost", &var_relayhost),
        CONFIG_VAR_INT("smtpd_recipient_limit", &var_limit),
        CONFIG_VAR_TIME("queue_run_delay", &var_delay),
        CONFIG_VAR_SIZE("message_size_limit", &var_size),
        CONFIG_VAR_BOOL("smtputf8_enable", &var_bool),
        CONFIG_VAR_END,
    };

    setup("relayhost = [$mydomain]\nmydomain = example.test\nqueue_run_delay = 5m\n"
          "compatibility_level = 3.6\n");
    config_read_vars(vars);
    CHECK_STR(var_relayhost, "[example.test]");
    CHECK_INT(var_limit, 1000);
    CHECK_INT(var_delay, 300);
    CHECK_INT(var_size, 10240000);
    CHECK_INT(var_bool, 1);
    CHECK(run_child(read_bad_type) != 0);      /* a programming error */
    CHECK(run_child(read_bad_value) != 0);     /* fatal, like Postfix */
}

static void
read_transport_out_of_range(void)
{
    config_override("amavis_initial_destination_concurrency", "0");
    (void) config_transport_int("amavis", "initial_destination_concurrency");
}

UNIT_TEST(test_transport_fallback)
{
    setup("default_destination_concurrency_limit = 7\n"
          "relay_destination_concurrency_limit = 3\n");
    config_register_service("amavis", "smtp");
    CHECK_INT(config_transport_int("amavis", "destination_concurrency_limit"), 7);
    CHECK_INT(config_transport_int("relay", "destination_concurrency_limit"), 3);
    CHECK_INT(config_transport_int("unlisted", "destination_concurrency_limit"), 7);
    CHECK_INT(config_transport_time("unlisted", "destination_rate_delay"), 0);
    /* no default_ form: the plain global parameter */
    CHECK_INT(config_transport_int("unlisted", "initial_destination_concurrency"), 5);
    CHECK_INT(config_transport_int("amavis", "initial_destination_concurrency"), 5);
    /* a per-transport parameter has the bounds of its global one */
    CHECK(run_child(read_transport_out_of_range) != 0);
}

static void
read_missing_mailname(void)
{
    config_override("myorigin", "/nonexistent/mailname");
    (void) config_str("myorigin");
}

UNIT_TEST(test_myorigin_from_file)
{
    char    path[] = "/tmp/test_config.XXXXXX";
    int     fd = mkstemp(path);
    char   *text;

    CHECK(fd >= 0 && write(fd, "  mail.example.org extra words\nsecond\n", 38) == 38);
    close(fd);
    text = mem_printf("myorigin = %s\nmyhostname = host.example.org\n", path);
    setup(text);
    CHECK_STR(config_str("myorigin"), "mail.example.org");
    CHECK_STR(config_raw("myorigin"), path);        /* postconf shows what is written */
    config_override("myorigin", "$myhostname");
    CHECK_STR(config_str("myorigin"), "host.example.org");
    CHECK(run_child(read_missing_mailname) != 0);
    unlink(path);
    mem_free(text);
}

UNIT_TESTS {
    {"test_parse_basic", test_parse_basic},
    {"test_continuation", test_continuation},
    {"test_expansion_forms", test_expansion_forms},
    {"test_defaults", test_defaults},
    {"test_compatibility_level_defaults", test_compatibility_level_defaults},
    {"test_overrides_win", test_overrides_win},
    {"test_bool_time_parse", test_bool_time_parse},
    {"test_fatal_cases", test_fatal_cases},
    {"test_syntax_errors_survive", test_syntax_errors_survive},
    {"test_walk_unknown", test_walk_unknown},
    {"test_service_params", test_service_params},
    {"test_lazy_entries", test_lazy_entries},
    {"test_param_rows_match_table", test_param_rows_match_table},
    {"test_value_lifetime", test_value_lifetime},
    {"test_read_vars", test_read_vars},
    {"test_transport_fallback", test_transport_fallback},
    {"test_myorigin_from_file", test_myorigin_from_file},
    UNIT_END
};
