/*
 * test_pickup.c - the maildrop file grammar (lib/maildrop.c) as postdrop
 * and pickup apply it, pickup's file check on real files and its
 * Received: header (pickup/pickup_file.c and pickup_copy.c compiled in).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "maildrop.h"
#include "record.h"
#include "unit.h"
#include "../../pickup/pickup_file.c"
#include "../../pickup/pickup_copy.c"
#include "../../pickup/pickup_requeue.c"
#include "../../pickup/pickup_params.c"

typedef struct {
    int     type;
    const char *data;
} REC;

/* Run the checker over a list; returns the last result (1 = END). */
static int
check_list(const REC *recs, const char **why)
{
    MAILDROP_CHECK c;
    int     ret = 0;

    maildrop_check_init(&c, 2048);
    for (int i = 0; recs[i].type; i++) {
        ret = maildrop_check(&c, recs[i].type, recs[i].data, strlen(recs[i].data));
        if (ret < 0)
            break;
    }
    if (ret >= 0 && maildrop_check_end(&c) < 0)
        ret = -1;
    *why = c.why;
    return ret;
}

#define GOOD_HEAD {REC_TYPE_TIME, "1700000000 12345"}, {REC_TYPE_FULL, "Test User"}, \
    {REC_TYPE_ATTR, "rewrite_context=local"}, {REC_TYPE_FROM, "me@x.test"}
#define GOOD_TAIL {REC_TYPE_MESG, ""}, {REC_TYPE_NORM, "Subject: x"}, {REC_TYPE_NORM, ""}, \
    {REC_TYPE_CONT, "long"}, {REC_TYPE_NORM, "line"}, {REC_TYPE_XTRA, ""}, {REC_TYPE_END, ""}

UNIT_TEST(good_file_passes)
{
    const char *why;
    REC     recs[] = {GOOD_HEAD, {REC_TYPE_DSN_NOTIFY, "6"}, {REC_TYPE_ORCP, "a@b"},
        {REC_TYPE_RCPT, "a@b"}, {REC_TYPE_RCPT, "c@d"}, {REC_TYPE_DSN_ENVID, "env1"},
        {REC_TYPE_DSN_RET, "2"}, GOOD_TAIL, {0, 0}};

    CHECK_INT(check_list(recs, &why), 1);
}

/* The maildrop file Postfix 3.7's sendmail/postdrop left behind
 * (tests/data/postfix-queue/make.sh: -F -N -R -V, named attributes,
 * ENVID/RET before the sender) passes the maildrop grammar. */
UNIT_TEST(postfix_maildrop_file_passes)
{
    const char *dir = "tests/data/postfix-queue/queue/maildrop";
    DIR    *dp = opendir(dir);
    struct dirent *de;
    int     files = 0;

    CHECK(dp != NULL);
    while (dp && (de = readdir(dp)) != NULL) {
        char    path[512];
        MAILDROP_CHECK c;
        VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
        STREAM *s;
        int     type, ret = 0, ntypes = 0;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        CHECK((s = stream_open(path, O_RDONLY, 0)) != NULL);
        maildrop_check_init(&c, 2048);
        while (ret == 0 && (type = rec_get(s, buf, maildrop_record_max(&c))) != REC_TYPE_EOF) {
            ret = maildrop_check(&c, type, STR(buf), LEN(buf));
            ntypes += (type == REC_TYPE_DSN_ENVID || type == REC_TYPE_DSN_RET
                       || type == REC_TYPE_DSN_NOTIFY);
        }
        CHECK_INT(ret, 1);
        CHECK(c.why == NULL || ret == 1);
        CHECK_INT(maildrop_check_end(&c), 0);
        CHECK(ntypes >= 3);
        stream_close(s);
        vstring_free(buf);
        files++;
    }
    if (dp)
        closedir(dp);
    CHECK_INT(files, 1);
}

UNIT_TEST(null_sender_is_fine)
{
    const char *why;
    REC     recs[] = {{REC_TYPE_TIME, "1700000000"}, {REC_TYPE_FROM, ""},
        {REC_TYPE_RCPT, "a@b"}, GOOD_TAIL, {0, 0}};

    CHECK_INT(check_list(recs, &why), 1);
}

UNIT_TEST(bad_envelopes_fail)
{
    const char *why;
    REC     no_time[] = {{REC_TYPE_FROM, "x"}, {REC_TYPE_RCPT, "a@b"}, GOOD_TAIL, {0, 0}};
    REC     bad_time[] = {{REC_TYPE_TIME, "12x"}, {REC_TYPE_FROM, "x"}, {0, 0}};
    REC     two_from[] = {GOOD_HEAD, {REC_TYPE_FROM, "y"}, {0, 0}};
    REC     no_rcpt[] = {GOOD_HEAD, GOOD_TAIL, {0, 0}};
    REC     spoof_attr[] = {{REC_TYPE_TIME, "1"}, {REC_TYPE_ATTR, "client_addr=1.2.3.4"},
        {0, 0}};
    REC     remote_ctx[] = {{REC_TYPE_TIME, "1"}, {REC_TYPE_ATTR, "rewrite_context=remote"},
        {0, 0}};
    REC     ctl_rcpt[] = {GOOD_HEAD, {REC_TYPE_RCPT, "a\nb@c"}, {0, 0}};
    REC     empty_rcpt[] = {GOOD_HEAD, {REC_TYPE_RCPT, ""}, {0, 0}};
    REC     done_rcpt[] = {GOOD_HEAD, {REC_TYPE_DONE, "a@b"}, {0, 0}};
    REC     orcp_dangling[] = {GOOD_HEAD, {REC_TYPE_RCPT, "a@b"}, {REC_TYPE_ORCP, "x@y"},
        GOOD_TAIL, {0, 0}};
    REC     bad_notify[] = {GOOD_HEAD, {REC_TYPE_DSN_NOTIFY, "16"}, {0, 0}};
    REC     bad_ret[] = {GOOD_HEAD, {REC_TYPE_RCPT, "a@b"}, {REC_TYPE_DSN_RET, "3"}, {0, 0}};
    REC     size_rec[] = {{REC_TYPE_SIZE, "1 2 3 4"}, {0, 0}};

    CHECK_INT(check_list(no_time, &why), -1);
    CHECK_INT(check_list(bad_time, &why), -1);
    CHECK_INT(check_list(two_from, &why), -1);
    CHECK_INT(check_list(no_rcpt, &why), -1);
    CHECK_STR(why, "no recipients");
    CHECK_INT(check_list(spoof_attr, &why), -1);
    CHECK_INT(check_list(remote_ctx, &why), -1);
    CHECK_INT(check_list(ctl_rcpt, &why), -1);
    CHECK_INT(check_list(empty_rcpt, &why), -1);
    CHECK_INT(check_list(done_rcpt, &why), -1);
    CHECK_INT(check_list(orcp_dangling, &why), -1);
    CHECK_INT(check_list(bad_notify, &why), -1);
    CHECK_INT(check_list(bad_ret, &why), -1);
    CHECK_INT(check_list(size_rec, &why), -1);
}

UNIT_TEST(bad_content_and_end_fail)
{
    const char *why;
    REC     rcpt_in_body[] = {GOOD_HEAD, {REC_TYPE_RCPT, "a@b"}, {REC_TYPE_MESG, ""},
        {REC_TYPE_RCPT, "evil@x"}, {0, 0}};
    REC     no_end[] = {GOOD_HEAD, {REC_TYPE_RCPT, "a@b"}, {REC_TYPE_MESG, ""},
        {REC_TYPE_NORM, "x"}, {REC_TYPE_XTRA, ""}, {0, 0}};
    REC     no_xtra[] = {GOOD_HEAD, {REC_TYPE_RCPT, "a@b"}, {REC_TYPE_MESG, ""},
        {REC_TYPE_NORM, "x"}, {REC_TYPE_END, ""}, {0, 0}};
    REC     rcpt_in_xtra[] = {GOOD_HEAD, {REC_TYPE_RCPT, "a@b"}, {REC_TYPE_MESG, ""},
        {REC_TYPE_XTRA, ""}, {REC_TYPE_RCPT, "evil@x"}, {0, 0}};
    REC     after_end[] = {GOOD_HEAD, {REC_TYPE_RCPT, "a@b"}, GOOD_TAIL,
        {REC_TYPE_NORM, "x"}, {0, 0}};

    CHECK_INT(check_list(rcpt_in_body, &why), -1);
    CHECK_INT(check_list(no_end, &why), -1);
    CHECK_STR(why, "premature end of input");
    CHECK_INT(check_list(no_xtra, &why), -1);
    CHECK_INT(check_list(rcpt_in_xtra, &why), -1);
    CHECK_INT(check_list(after_end, &why), -1);
}

UNIT_TEST(record_bounds)
{
    MAILDROP_CHECK c;

    maildrop_check_init(&c, 2048);
    CHECK_INT(maildrop_record_max(&c), MAILDROP_ENV_MAX);
    CHECK_INT(maildrop_check(&c, REC_TYPE_TIME, "1", 1), 0);
    CHECK_INT(maildrop_check(&c, REC_TYPE_FROM, "x", MAILDROP_ENV_MAX + 1), -1);
    maildrop_check_init(&c, 10 * 1000 * 1000);
    CHECK_INT(maildrop_record_max(&c), MAILDROP_ENV_MAX);
    c.section = MAILDROP_SECT_CONTENT;
    CHECK_INT(maildrop_record_max(&c), REC_MAX_DEFAULT);
    CHECK_INT(maildrop_check(&c, REC_TYPE_ERROR, "", 0), -1);
}

/* The requeued queue file grammar (maildrop_check_init_queue). */
static int
qcheck_list(const REC *recs, const char **why)
{
    MAILDROP_CHECK c;
    int     ret = 0;

    maildrop_check_init_queue(&c);
    for (int i = 0; recs[i].type; i++)
        if ((ret = maildrop_check(&c, recs[i].type, recs[i].data, strlen(recs[i].data))) < 0)
            break;
    if (ret >= 0 && maildrop_check_end(&c) < 0)
        ret = -1;
    *why = c.why;
    return ret;
}

#define QSIZE "             12              99               1             200"
#define QHEAD {REC_TYPE_SIZE, QSIZE}, {REC_TYPE_TIME, "1700000000 5"}, \
    {REC_TYPE_ATTR, "rewrite_context=remote"}, {REC_TYPE_ATTR, "log_ident=OLD1"}, \
    {REC_TYPE_FROM, "me@x.test"}

UNIT_TEST(requeue_grammar)
{
    const char *why;
    REC     good[] = {QHEAD, {REC_TYPE_ORCP, "a@b"}, {REC_TYPE_DONE, "a@b"},
        {REC_TYPE_DSN_NOTIFY, "2"}, {REC_TYPE_RCPT, "c@d"}, {REC_TYPE_WARN, "1700000100"},
        {REC_TYPE_MESG, ""}, {REC_TYPE_NORM, "x"}, {REC_TYPE_XTRA, ""},
        {REC_TYPE_CONTENT_FILTER, "smtp:[127.0.0.1]:10025"}, {REC_TYPE_RCPT, "bcc@x"},
        {REC_TYPE_END, ""}, {0, 0}};
    REC     no_size[] = {{REC_TYPE_TIME, "1"}, {REC_TYPE_FROM, "x"}, {0, 0}};
    REC     bad_size[] = {{REC_TYPE_SIZE, "1 2 3 4"}, {0, 0}};
    REC     all_done[] = {QHEAD, {REC_TYPE_DONE, "a@b"}, {REC_TYPE_MESG, ""},
        {REC_TYPE_XTRA, ""}, {REC_TYPE_END, ""}, {0, 0}};
    REC     ctl_attr[] = {QHEAD, {REC_TYPE_ATTR, "x=a\nb"}, {0, 0}};
    REC     unknown[] = {QHEAD, {REC_TYPE_RCPT, "a@b"}, {'Z', "x"}, {0, 0}};
    REC     rcpt_in_body[] = {QHEAD, {REC_TYPE_RCPT, "a@b"}, {REC_TYPE_MESG, ""},
        {REC_TYPE_RCPT, "evil@x"}, {0, 0}};
    REC     after_end[] = {QHEAD, {REC_TYPE_RCPT, "a@b"}, {REC_TYPE_MESG, ""},
        {REC_TYPE_XTRA, ""}, {REC_TYPE_END, ""}, {REC_TYPE_NORM, "x"}, {0, 0}};

    CHECK_INT(qcheck_list(good, &why), 1);
    CHECK_INT(qcheck_list(no_size, &why), -1);
    CHECK_INT(qcheck_list(bad_size, &why), -1);
    CHECK_INT(qcheck_list(all_done, &why), -1);
    CHECK_STR(why, "no recipients left to deliver");
    CHECK_INT(qcheck_list(ctl_attr, &why), -1);
    CHECK_INT(qcheck_list(unknown, &why), -1);
    CHECK_INT(qcheck_list(rcpt_in_body, &why), -1);
    CHECK_INT(qcheck_list(after_end, &why), -1);
}

/* Write records into maildrop/<name> under a temp queue directory. */
static void
write_file(const char *name, const REC *recs, const char *trailer, int mode)
{
    char    path[256];
    STREAM *s;

    snprintf(path, sizeof(path), "maildrop/%s", name);
    s = stream_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    for (int i = 0; recs[i].type; i++)
        rec_puts(s, recs[i].type, recs[i].data);
    if (trailer)
        stream_puts(s, trailer);
    stream_close(s);
    chmod(path, mode);
}

static void
temp_queue(void)
{
    char    dir[] = "/tmp/test_pickup.XXXXXX";

    if (mkdtemp(dir) == NULL || chdir(dir) < 0 || mkdir("maildrop", 0700) < 0)
        abort();
}

UNIT_TEST(file_check_on_disk)
{
    PICKUP_FILE pf;
    REC     good[] = {GOOD_HEAD, {REC_TYPE_RCPT, "a@b"}, GOOD_TAIL, {0, 0}};

    temp_queue();
    write_file("AAA111", good, NULL, 0444);
    CHECK_INT(pickup_file_open(&pf, "AAA111"), -1);
    CHECK_INT(pickup_file_check(&pf, 2048), 0);
    CHECK_STR(pf.sender, "me@x.test");
    CHECK_INT(pf.time_sec, 1700000000);
    /* rewound: the first record is there again */
    VSTRING *buf = vstring_alloc(100);
    CHECK_INT(rec_get(pf.src, buf, 100), REC_TYPE_TIME);
    vstring_free(buf);
    pickup_file_close(&pf);

    write_file("AAA222", good, "garbage", 0444);
    CHECK_INT(pickup_file_open(&pf, "AAA222"), -1);
    CHECK_INT(pickup_file_check(&pf, 2048), -1);
    CHECK_STR(pf.why, "data after the end record");
    pickup_file_close(&pf);

    write_file("AAA333", good, NULL, 0600);            /* not complete yet */
    CHECK_INT(pickup_file_open(&pf, "AAA333"), PICKUP_KEEP);
    CHECK_INT(pickup_file_open(&pf, "tmp.1.2"), PICKUP_KEEP);   /* not a queue id */
    CHECK(symlink("/etc/passwd", "maildrop/LINK1") == 0);
    CHECK_INT(pickup_file_open(&pf, "LINK1"), PICKUP_CORRUPT);
    CHECK(link("maildrop/AAA111", "maildrop/HARD1") == 0);
    CHECK_INT(pickup_file_open(&pf, "HARD1"), PICKUP_CORRUPT);
}

UNIT_TEST(file_check_truncated)
{
    PICKUP_FILE pf;
    REC     good[] = {GOOD_HEAD, {REC_TYPE_RCPT, "a@b"}, GOOD_TAIL, {0, 0}};
    struct stat st;

    temp_queue();
    write_file("BBB111", good, NULL, 0644);
    CHECK(stat("maildrop/BBB111", &st) == 0);
    CHECK(truncate("maildrop/BBB111", st.st_size - 3) == 0);
    chmod("maildrop/BBB111", 0444);
    CHECK_INT(pickup_file_open(&pf, "BBB111"), -1);
    CHECK_INT(pickup_file_check(&pf, 2048), -1);
    pickup_file_close(&pf);
}

/* A requeued queue file goes through the same check loop, with its grammar. */
UNIT_TEST(requeue_file_check_on_disk)
{
    PICKUP_FILE pf;
    REC     good[] = {QHEAD, {REC_TYPE_RCPT, "c@d"}, {REC_TYPE_MESG, ""},
        {REC_TYPE_NORM, "x"}, {REC_TYPE_XTRA, ""}, {REC_TYPE_ORCP, "Gone@x"},
        {REC_TYPE_DONE, "gone@x"}, {REC_TYPE_ORCP, "Bcc@x"}, {REC_TYPE_RCPT, "bcc@x"},
        {REC_TYPE_END, ""}, {0, 0}};
    REC     bad[] = {QHEAD, {REC_TYPE_RCPT, "c@d"}, {REC_TYPE_MESG, ""},
        {REC_TYPE_XTRA, ""}, {REC_TYPE_ORCP, "a@b"}, {REC_TYPE_END, ""}, {0, 0}};

    temp_queue();
    write_file("CCC111", good, NULL, 0700);
    memset(&pf, 0, sizeof(pf));
    pf.requeue = 1;
    pf.src = stream_open("maildrop/CCC111", O_RDONLY, 0);
    CHECK_INT(pickup_file_check(&pf, 2048), 0);
    CHECK_STR(pf.sender, "me@x.test");
    CHECK_INT(pf.time_sec, 1700000000);
    CHECK_INT(pf.time_usec, 5);
    CHECK(pf.xtra != NULL && pf.xtra->argc == 2);
    CHECK_STR(pf.xtra->argv[0], "OBcc@x");
    CHECK_STR(pf.xtra->argv[1], "Rbcc@x");
    pickup_file_close(&pf);

    write_file("CCC222", bad, NULL, 0700);
    memset(&pf, 0, sizeof(pf));
    pf.requeue = 1;
    pf.src = stream_open("maildrop/CCC222", O_RDONLY, 0);
    CHECK_INT(pickup_file_check(&pf, 2048), -1);
    CHECK_STR(pf.why, "original recipient without recipient");
    pickup_file_close(&pf);
}

UNIT_TEST(received_header_format)
{
    VSTRING *l1 = vstring_alloc(200), *l2 = vstring_alloc(200);

    setenv("TZ", "UTC", 1);
    tzset();
    pickup_received(l1, l2, "mail.example.test", "Postfix", 1001, "3F2A81C0B7", 1700000000);
    CHECK_STR(STR(l1), "Received: by mail.example.test (Postfix, from userid 1001)");
    CHECK_STR(STR(l2), "\tid 3F2A81C0B7; Tue, 14 Nov 2023 22:13:20 +0000 (UTC)");
    /* the 1st to 9th: the day is padded with a space, as Postfix does */
    pickup_received(l1, l2, "mail.example.test", "Postfix", 1001, "3F2A81C0B7", 1796126400);
    CHECK_STR(STR(l2), "\tid 3F2A81C0B7; Tue,  1 Dec 2026 12:00:00 +0000 (UTC)");
    vstring_free(l1);
    vstring_free(l2);
}

static void
pickup_init(void *ctx)
{
    pickup_params_init();
}

/* Exit status of pickup_params_init() on main_cf, in a child. */
static int
params_child(const char *main_cf)
{
    return unit_config_child(main_cf, pickup_init, NULL, NULL, 0);
}

/* Read once at start; a bad ipc_timeout is fatal (it was silently 3600). */
UNIT_TEST(params_read_once_bad_value_fatal)
{
    config_reset();
    config_load_text("myhostname = host.test\nipc_timeout = 2m\n", "test");
    pickup_params_init();
    CHECK_STR(var_myhostname, "host.test");
    CHECK_STR(var_mail_name, "Postfix");
    CHECK_INT(var_ipc_timeout, 120);
    CHECK_INT(var_line_limit, 2048);
    CHECK_INT(params_child("ipc_timeout = 0\n"), 1);
    CHECK_INT(params_child("ipc_timeout = soon\n"), 1);
    CHECK_INT(params_child("line_length_limit = 10\n"), 1);
}

UNIT_TESTS {
    {"params_read_once_bad_value_fatal", params_read_once_bad_value_fatal},
    {"requeue_grammar", requeue_grammar},
    {"good_file_passes", good_file_passes},
    {"null_sender_is_fine", null_sender_is_fine},
    {"bad_envelopes_fail", bad_envelopes_fail},
    {"bad_content_and_end_fail", bad_content_and_end_fail},
    {"record_bounds", record_bounds},
    {"file_check_on_disk", file_check_on_disk},
    {"file_check_truncated", file_check_truncated},
    {"requeue_file_check_on_disk", requeue_file_check_on_disk},
    {"received_header_format", received_header_format},
    {"postfix_maildrop_file_passes", postfix_maildrop_file_passes},
    UNIT_END
};
