/*
 * test_bounce.c - the bounce daemon's log reader and notice composer
 * (bounce/bounce_log.c, bounce/bounce_notify.c) on files in a temporary
 * directory: log parsing with damaged entries, the NOTIFY filter, and
 * the notice layout (parts, DSN fields, Remote-MTA from an smtp reason,
 * headers-only return, bounce_size_limit).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "config.h"
#include "mail_params.h"
#include "mail_proto.h"
#include "record.h"
#include "../../bounce/bounce_log.c"
#include "../../bounce/bounce_notify.c"

static char tmpdir[] = "/tmp/test_bounce.XXXXXX";

static void
setup(void)
{
    if (mkdtemp(tmpdir) == 0 || chdir(tmpdir) < 0)
        abort();
    mkdir("bounce", 0700);
    mkdir("active", 0700);
    config_reset();
    config_load_text("hash_queue_names =\n", "test");    /* flat queues here */
    mail_params_init();
}

static void
write_file(const char *path, const char *text)
{
    int     fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
        abort();
    close(fd);
}

/* A queue file with the given content lines. */
static void
write_queue_file(const char *path, const char **lines, int n)
{
    STREAM *s = stream_open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    long    data_off, xtra_off;

    rec_size_put(s, 0L, 0L, 0L, 0L);
    rec_puts(s, REC_TYPE_TIME, "1700000000 0");
    rec_puts(s, REC_TYPE_FROM, "s@x.test");
    rec_puts(s, REC_TYPE_RCPT, "u@x.test");
    rec_puts(s, REC_TYPE_MESG, "");
    data_off = (long) stream_tell(s);
    for (int i = 0; i < n; i++)
        rec_puts(s, REC_TYPE_NORM, lines[i]);
    xtra_off = (long) stream_tell(s);
    rec_puts(s, REC_TYPE_XTRA, "");
    rec_puts(s, REC_TYPE_END, "");
    stream_seek(s, 0);
    rec_size_put(s, data_off, xtra_off, 1L, 0L);
    stream_close(s);
}

static int
collect(const char *line, size_t len, void *ctx)
{
    VSTRING *out = ctx;

    vstring_ncat(out, line, len);
    vstring_addch(out, '\n');
    return 0;
}

UNIT_TEST(log_parse_and_filter)
{
    BOUNCE_LOG *log;

    setup();
    write_file("bounce/L1",
               "recipient=a@x.test\norig_rcpt=A@x.test\noffset=10\nnotify_flags=0\n"
               "status=5.1.1\naction=failed\nreason=unknown user: \"a\"\n\n"
               "recipient=b@x.test\nstatus=bogus\nreason=x\n\n"
               "recipient=c@x.test\nnotify_flags=1\nstatus=5.0.0\nreason=never\n\n"
               "recipient=d@x.test\nnotify_flags=4\nstatus=5.2.2\nreason=full\n");
    log = bounce_log_read("bounce", "L1");
    CHECK(log != 0);
    if (log == 0)
        return;
    CHECK_INT(log->count, 3);           /* b is malformed */
    CHECK_STR(log->rcpt[0].orig_rcpt, "A@x.test");
    CHECK_STR(log->rcpt[0].action, "failed");
    CHECK_STR(log->rcpt[2].recipient, "d@x.test");
    CHECK_STR(log->rcpt[2].action, "failed");       /* default from 5.x.x */
    bounce_log_filter(log, bounce_rcpt_wanted);
    CHECK_INT(log->count, 2);           /* c said NOTIFY=NEVER */
    CHECK_STR(log->rcpt[1].recipient, "d@x.test");
    bounce_log_free(log);
    CHECK(bounce_log_read("bounce", "NONE") == 0);
}

static void
compose(BOUNCE_LOG *log, int ret, long limit, VSTRING *out)
{
    BOUNCE_ORIG orig = {"active", "Q1", "s@x.test", "", "env1", 0, 0, 0, 0};
    BOUNCE_NOTICE n = {BOUNCE_NOTICE_SENDER, "s@x.test", "N1", ret, 1700000100,
                       "mx.x.test", "Postfix", limit, 0, 0, 0};

    CHECK_INT(bounce_orig_open(&orig), 0);
    CHECK_INT(orig.arrival, 1700000000);
    CHECK_INT(bounce_notify_write(&n, &orig, log, collect, out), 0);
    bounce_orig_close(&orig);
}

UNIT_TEST(notice_layout)
{
    const char *lines[] = {"Subject: hi", "From: s@x.test", "", "body line 1", "body line 2"};
    VSTRING *out = vstring_alloc(VSTRING_UNLIMITED);
    BOUNCE_LOG *log;

    setup();
    write_queue_file("active/Q1", lines, 5);
    write_file("bounce/Q1",
               "recipient=r@y.test\ndsn_orig_rcpt=rfc822;R@y.test\nstatus=5.1.1\n"
               "action=failed\nreason=host mx.y.test[192.0.2.1] said: 550 5.1.1 no such user "
               "(in reply to RCPT TO command)\n\n");
    log = bounce_log_read("bounce", "Q1");
    compose(log, DSN_RET_FULL, 50000, out);
    CHECK(strstr(STR(out), "Received: by mx.x.test (Postfix)\n\tid N1; ") != 0);
    CHECK(strstr(STR(out), "\nFrom: Mail Delivery System <MAILER-DAEMON@mx.x.test>\n") != 0);
    /* Postfix 3.7's failure template text; us-ascii without smtputf8_enable */
    CHECK(strstr(STR(out), "\nContent-Type: text/plain; charset=us-ascii\n\n"
                 "This is the mail system at host mx.x.test.\n\n"
                 "I'm sorry to have to inform you that your message could not\n"
                 "be delivered to one or more recipients. It's attached below.\n\n"
                 "For further assistance, please send mail to postmaster.\n\n"
                 "If you do so, please include this problem report. You can\n"
                 "delete your own text from the attached returned message.\n\n"
                 "                   The mail system\n") != 0);
    /* the returned message keeps its Return-Path */
    CHECK(strstr(STR(out), "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n"
                 "Return-Path: <s@x.test>\nSubject: hi\n") != 0);
    CHECK(strstr(STR(out), "\nSubject: Undelivered Mail Returned to Sender\n") != 0);
    CHECK(strstr(STR(out), "boundary=\"Q1.1700000100/mx.x.test\"\n") != 0);
    CHECK(strstr(STR(out), "\nThis is the mail system at host mx.x.test.\n") != 0);
    CHECK(strstr(STR(out), "\nX-Postfix-Queue-ID: Q1\nX-Postfix-Sender: rfc822; s@x.test\n"
                 "Original-Envelope-Id: env1\nArrival-Date: ") != 0);
    CHECK(strstr(STR(out), "\nFinal-Recipient: rfc822; r@y.test\n"
                 "Original-Recipient: rfc822;R@y.test\nAction: failed\nStatus: 5.1.1\n"
                 "Remote-MTA: dns; mx.y.test\n"
                 "Diagnostic-Code: smtp; 550 5.1.1 no such user\n") != 0);
    CHECK(strstr(STR(out), "Content-Type: message/rfc822\n") != 0);
    CHECK(strstr(STR(out), "\nSubject: hi\n") != 0);
    CHECK(strstr(STR(out), "\nbody line 2\n") != 0);
    CHECK(strstr(STR(out), "\n--Q1.1700000100/mx.x.test--\n") != 0);

    /* headers only: no body; and a tiny size limit cuts the body */
    vstring_reset(out);
    compose(log, DSN_RET_HDRS, 50000, out);
    CHECK(strstr(STR(out), "Content-Type: text/rfc822-headers\n") != 0);
    CHECK(strstr(STR(out), "\nSubject: hi\n") != 0);
    CHECK(strstr(STR(out), "body line") == 0);
    vstring_reset(out);
    compose(log, DSN_RET_FULL, 15, out);
    CHECK(strstr(STR(out), "\nbody line 1\n") != 0);
    CHECK(strstr(STR(out), "body line 2") == 0);
    bounce_log_free(log);
    vstring_free(out);
}

UNIT_TEST(long_reason_is_folded)
{
    const char *lines[] = {"Subject: x", "", "b"};
    VSTRING *out = vstring_alloc(VSTRING_UNLIMITED);
    VSTRING *log_text = vstring_alloc(VSTRING_UNLIMITED);
    BOUNCE_LOG *log;
    char   *line;
    size_t  longest = 0;

    setup();
    write_queue_file("active/Q1", lines, 3);
    vstring_strcpy(log_text, "recipient=r@y.test\nstatus=5.0.0\nreason=");
    for (int i = 0; i < 300; i++)
        vstring_cat(log_text, "word ");
    vstring_cat(log_text, "\n\n");
    write_file("bounce/Q1", STR(log_text));
    log = bounce_log_read("bounce", "Q1");
    compose(log, DSN_RET_FULL, 50000, out);
    for (line = strtok(STR(out), "\n"); line; line = strtok(0, "\n"))
        if (strlen(line) > longest)
            longest = strlen(line);
    CHECK(longest <= 80);
    bounce_log_free(log);
    vstring_free(out);
    vstring_free(log_text);
}

UNIT_TESTS {
    {"log_parse_and_filter", log_parse_and_filter},
    {"notice_layout", notice_layout},
    {"long_reason_is_folded", long_reason_is_folded},
    UNIT_END
};
