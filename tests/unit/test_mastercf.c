/*
 * test_mastercf.c - unit tests for lib/mastercf.c: a Postfix 3.7 stock
 * master.cf fragment, -o continuation lines, "{ }" grouping, defaults and
 * errors with file and line.
 */
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "unit.h"

static const char stock[] =
    "#\n"
    "# Postfix master process configuration file.\n"
    "# ==========================================================================\n"
    "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
    "#               (yes)   (yes)   (no)    (never) (100)\n"
    "# ==========================================================================\n"
    "smtp      inet  n       -       y       -       -       smtpd\n"
    "#submission inet n       -       y       -       -       smtpd\n"
    "#  -o syslog_name=postfix/submission\n"
    "pickup    unix  n       -       y       60      1       pickup\n"
    "cleanup   unix  n       -       y       -       0       cleanup\n"
    "qmgr      unix  n       -       n       300     1       qmgr\n"
    "tlsmgr    unix  -       -       y       1000?   1       tlsmgr\n"
    "rewrite   unix  -       -       y       -       -       trivial-rewrite\n"
    "relay     unix  -       -       y       -       -       smtp\n"
    "        -o syslog_name=postfix/$service_name\n"
    "local     unix  -       n       n       -       -       local\n"
    "postlog   unix-dgram n  -       n       -       1       postlogd\n"
    "maildrop  unix  -       n       n       -       -       pipe\n"
    "  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n"
    "\n"
    "submission inet n       -       y       -       -       smtpd\n"
    "  -o syslog_name=postfix/submission\n"
    "  # a comment between continuation lines\n"
    "  -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }\n"
    "  -o smtpd_tls_security_level=encrypt\n"
    "127.0.0.1:10025 inet n  -       n       -       -       smtpd -o {a = b} {}\n";

static MASTER_TABLE *
parse(const char *text, char **err)
{
    msg_init("test_mastercf", MSG_NOSYSLOG);
    config_reset();
    config_load_text("default_process_limit = 77\n", "main.cf");
    return mastercf_parse_text(text, "master.cf", err);
}

UNIT_TEST(test_stock)
{
    char   *err = NULL;
    MASTER_TABLE *tab = parse(stock, &err);
    MASTER_ENT *e;

    CHECK(tab != NULL);
    if (tab == NULL) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_INT(tab->count, 12);
    e = mastercf_find(tab, "smtp", "inet");
    CHECK(e != NULL);
    if (e) {
        CHECK_INT(e->type, MASTER_INET);
        CHECK_INT(e->private_, 0);
        CHECK_INT(e->unpriv, 1);
        CHECK_INT(e->chroot, 1);
        CHECK_INT(e->wakeup, 0);
        CHECK_INT(e->maxproc, 77);          /* $default_process_limit */
        CHECK_STR(e->command, "smtpd");
        CHECK_INT(e->args->argc, 0);
        CHECK_INT(e->line, 7);
        CHECK_STR(e->fields[4], "-");
    }
    e = mastercf_find(tab, "pickup", NULL);
    CHECK(e && e->wakeup == 60 && e->maxproc == 1 && !e->wakeup_conditional);
    e = mastercf_find(tab, "tlsmgr", "unix");
    CHECK(e && e->wakeup == 1000 && e->wakeup_conditional && e->private_ == 1);
    e = mastercf_find(tab, "cleanup", "unix");
    CHECK(e && e->maxproc == 0);
    e = mastercf_find(tab, "postlog", "unix-dgram");
    CHECK(e && e->type == MASTER_UNIX_DGRAM && e->chroot == 0);
    e = mastercf_find(tab, "relay", "unix");
    CHECK(e && e->args->argc == 2);
    if (e && e->args->argc == 2)
        CHECK_STR(e->args->argv[1], "syslog_name=postfix/$service_name");
    e = mastercf_find(tab, "maildrop", "unix");
    CHECK(e && e->args->argc == 5 && e->unpriv == 0);
    if (e && e->args->argc == 5)
        CHECK_STR(e->args->argv[4], "${recipient}");
    CHECK(mastercf_find(tab, "smtp", "unix") == NULL);
    CHECK(mastercf_find(tab, "nosuch", NULL) == NULL);
    mastercf_free(tab);
}

UNIT_TEST(test_grouping)
{
    char   *err = NULL;
    MASTER_TABLE *tab = parse(stock, &err);
    MASTER_ENT *e;

    CHECK(tab != NULL);
    if (tab == NULL)
        return;
    e = mastercf_find(tab, "submission", "inet");
    CHECK(e != NULL && e->args->argc == 6);
    if (e && e->args->argc == 6) {
        CHECK_STR(e->args->argv[0], "-o");
        CHECK_STR(e->args->argv[1], "syslog_name=postfix/submission");
        CHECK_STR(e->args->argv[3],
                  "smtpd_client_restrictions = permit_sasl_authenticated, reject");
        CHECK_STR(e->args->argv[5], "smtpd_tls_security_level=encrypt");
        CHECK_INT(e->line, 22);
    }
    e = mastercf_find(tab, "127.0.0.1:10025", "inet");
    CHECK(e != NULL && e->args->argc == 3);
    if (e && e->args->argc == 3) {
        CHECK_STR(e->args->argv[1], "a = b");
        CHECK_STR(e->args->argv[2], "");
    }
    mastercf_free(tab);
}

static void
check_error(const char *text, const char *want)
{
    char   *err = NULL;
    MASTER_TABLE *tab = parse(text, &err);

    CHECK(tab == NULL);
    CHECK(err != NULL);
    if (err && strstr(err, want) == NULL) {
        fprintf(stderr, "  error \"%s\" lacks \"%s\"\n", err, want);
        unit_failures++;
    }
    mastercf_free(tab);
    mem_free(err);
}

UNIT_TEST(test_errors)
{
    check_error("smtp inet n - y - - smtpd\nfoo bogus n - y - - x\n",
                "master.cf: line 2: bad transport type: bogus");
    check_error("# c\n\nsmtp inet n - y - -\n", "master.cf: line 3: field \"command\" is missing");
    check_error("smtp inet x - y - - smtpd\n", "line 1: bad private field");
    check_error("smtp inet n - y abc - smtpd\n", "line 1: bad wakeup field");
    check_error("smtp inet n - y - -5 smtpd\n", "line 1: bad maxproc field");
    check_error("smtp inet n - y - - smtpd -o { a=b\n", "line 1: missing '}'");
    check_error("smtp inet n - y - - smtpd -o {a=b}x\n", "syntax error after '}'");
    check_error("  -o x=y\n", "line 1: entry must not start with white space");
    check_error("smtp inet n - y - - smtpd\nsmtp inet n - y - - smtpd\n",
                "line 2: duplicate service name: smtp/inet");
}

UNIT_TEST(test_load_file)
{
    char    path[] = "/tmp/test_mastercfXXXXXX";
    int     fd = mkstemp(path);
    char   *err = NULL;
    MASTER_TABLE *tab;

    CHECK(fd >= 0);
    CHECK(write(fd, stock, sizeof(stock) - 1) == (ssize_t) sizeof(stock) - 1);
    close(fd);
    msg_init("test_mastercf", MSG_NOSYSLOG);
    config_reset();
    tab = mastercf_load(path, &err);
    CHECK(tab != NULL && tab->count == 12);
    mastercf_free(tab);
    unlink(path);
    tab = mastercf_load(path, &err);
    CHECK(tab == NULL && err != NULL && strstr(err, "open ") != NULL);
    mem_free(err);
}

/* '-' in the chroot column: y below compatibility_level 1 (Postfix). */
UNIT_TEST(test_chroot_default_by_level)
{
    const char *levels[] = {"", "compatibility_level = 1\n", "compatibility_level = 3.6\n"};

    for (int i = 0; i < 3; i++) {
        char   *err = NULL;
        MASTER_TABLE *tab;

        config_reset();
        config_load_text(levels[i], "main.cf");
        tab = mastercf_parse_text("x unix - - - - - discard\ny unix - - n - - discard\n",
                                  "master.cf", &err);
        CHECK(tab != NULL);
        if (tab == NULL)
            continue;
        CHECK_INT(mastercf_find(tab, "x", NULL)->chroot, i == 0);
        CHECK_INT(mastercf_find(tab, "y", NULL)->chroot, 0);
        mastercf_free(tab);
    }
}

UNIT_TESTS {
    {"test_stock", test_stock},
    {"test_grouping", test_grouping},
    {"test_errors", test_errors},
    {"test_load_file", test_load_file},
    {"test_chroot_default_by_level", test_chroot_default_by_level},
    UNIT_END
};
