/*
 * test_smtpd_data.c - unit tests for smtpd's message content reader
 * (smtpd/smtpd_data.c) and ESMTP parameter parsing (smtpd/smtpd_esmtp.c).
 *
 * The smtpd sources are compiled into this test directly; the few session
 * functions smtpd_data.c calls are stubbed below. The important cases are
 * the SMTP smuggling ones: "\n.\n", "\r.\n", "\n.\r\n" and "\r\n.\n" must
 * not end DATA in normalize or reject mode.
 */
#include <fcntl.h>
#include <unistd.h>

#include "../../smtpd/smtpd_data.c"
#include "../../smtpd/smtpd_esmtp.c"
#include "../../smtpd/smtpd_params.c"
#include "../../smtpd/smtpd_milter.c"    /* the var_*, left zero */
#include "../../smtpd/smtpd_space.c"
#include "smtpd_data_stubs.h"
#include "unit.h"

/* Collected records: "N:text" / "L:text" joined with '|'. */
static int
collect(void *ctx, int type, const char *data, size_t len)
{
    VSTRING *out = ctx;

    if (LEN(out))
        vstring_addch(out, '|');
    vstring_addch(out, type == REC_TYPE_NORM ? 'N' : 'L');
    vstring_addch(out, ':');
    vstring_ncat(out, data, len);
    return 0;
}

/* Run the reader over input; returns the status, records in out, and
 * what is left unread in rest. */
static int
run(int mode, size_t limit, const char *input, VSTRING *out, VSTRING *rest)
{
    int     fds[2];
    SMTPD_DATA_IN din;

    if (pipe(fds) != 0)
        return -99;
    if (write(fds[1], input, strlen(input)) != (ssize_t) strlen(input))
        return -98;
    close(fds[1]);
    STREAM *s = stream_fdopen(fds[0]);
    memset(&din, 0, sizeof(din));
    din.bare_lf_mode = mode;
    din.line_limit = limit;
    vstring_reset(out);
    int     st = smtpd_data_read(s, &din, collect, out);
    vstring_reset(rest);
    int     ch;
    while ((ch = stream_getc(s)) != STREAM_EOF)
        vstring_addch(rest, ch);
    stream_close(s);
    return st;
}

UNIT_TEST(test_plain)
{
    VSTRING *out = vstring_alloc(100000), *rest = vstring_alloc(100000);

    CHECK_INT(run(SMTPD_BARE_LF_NORMALIZE, 2048, "a\r\nb\r\n.\r\nQUIT\r\n", out, rest),
              SMTPD_DATA_END);
    CHECK_STR(STR(out), "N:a|N:b");
    CHECK_STR(STR(rest), "QUIT\r\n");
    CHECK_INT(run(SMTPD_BARE_LF_NORMALIZE, 2048, ".\r\n", out, rest), SMTPD_DATA_END);
    CHECK_STR(STR(out), "");
    /* dot-unstuffing */
    CHECK_INT(run(SMTPD_BARE_LF_NORMALIZE, 2048, "..x\r\n..\r\n.\r\n", out, rest),
              SMTPD_DATA_END);
    CHECK_STR(STR(out), "N:.x|N:.");
    CHECK_INT(run(SMTPD_BARE_LF_NORMALIZE, 2048, "a\r\nb", out, rest), SMTPD_DATA_EOF);
}

UNIT_TEST(test_smuggling_normalize)
{
    VSTRING *out = vstring_alloc(100000), *rest = vstring_alloc(100000);
    const int m = SMTPD_BARE_LF_NORMALIZE;

    CHECK_INT(run(m, 2048, "a\n.\nMAIL FROM:<x>\r\n.\r\n", out, rest), SMTPD_DATA_END);
    CHECK_STR(STR(out), "N:a|N:|N:MAIL FROM:<x>");
    CHECK_INT(run(m, 2048, "a\r\n.\nMAIL FROM:<x>\r\n.\r\n", out, rest), SMTPD_DATA_END);
    CHECK_STR(STR(out), "N:a|N:|N:MAIL FROM:<x>");
    CHECK_INT(run(m, 2048, "a\n.\r\nMAIL FROM:<x>\r\n.\r\n", out, rest), SMTPD_DATA_END);
    CHECK_STR(STR(out), "N:a|N:|N:MAIL FROM:<x>");
    CHECK_INT(run(m, 2048, "a\r\n\r.\nMAIL FROM:<x>\r\n.\r\n", out, rest), SMTPD_DATA_END);
    CHECK_STR(STR(out), "N:a|N:\r.|N:MAIL FROM:<x>");
    CHECK_INT(run(m, 2048, "a\r\n\r.\r\nX\r\n.\r\n", out, rest), SMTPD_DATA_END);
    CHECK_STR(STR(out), "N:a|N:\r.|N:X");
    /* nothing ends the data without a proper CRLF.CRLF */
    CHECK_INT(run(m, 2048, "a\n.\n", out, rest), SMTPD_DATA_EOF);
}

UNIT_TEST(test_smuggling_reject)
{
    VSTRING *out = vstring_alloc(100000), *rest = vstring_alloc(100000);
    const int m = SMTPD_BARE_LF_REJECT;

    CHECK_INT(run(m, 2048, "a\n.\nMAIL FROM:<x>\r\n.\r\n", out, rest), SMTPD_DATA_BARE_LF);
    CHECK_INT(run(m, 2048, "a\r\n.\nX\r\n.\r\n", out, rest), SMTPD_DATA_BARE_LF);
    CHECK_STR(STR(out), "N:a");
    CHECK_INT(run(m, 2048, "a\r\n\r.\r\n.\r\n", out, rest), SMTPD_DATA_END);
    CHECK_STR(STR(out), "N:a|N:\r.");
}

UNIT_TEST(test_legacy)
{
    VSTRING *out = vstring_alloc(100000), *rest = vstring_alloc(100000);

    CHECK_INT(run(SMTPD_BARE_LF_NO, 2048, "a\n.\nQUIT\r\n", out, rest), SMTPD_DATA_END);
    CHECK_STR(STR(out), "N:a");
    CHECK_STR(STR(rest), "QUIT\r\n");
}

UNIT_TEST(test_long_lines)
{
    VSTRING *out = vstring_alloc(100000), *rest = vstring_alloc(100000);

    /* a long line is split into CONT pieces; a "." inside it is no end */
    CHECK_INT(run(SMTPD_BARE_LF_NORMALIZE, 4, "abcd.\r\nxy\r\n.\r\n", out, rest),
              SMTPD_DATA_END);
    CHECK_STR(STR(out), "L:abcd|N:.|N:xy");
    /* CRLF split across two pieces */
    CHECK_INT(run(SMTPD_BARE_LF_NORMALIZE, 4, "abc\r\n.\r\n", out, rest), SMTPD_DATA_END);
    CHECK_STR(STR(out), "N:abc");
    CHECK_INT(run(SMTPD_BARE_LF_NORMALIZE, 4, "abc\rz\r\n.\r\n", out, rest), SMTPD_DATA_END);
    CHECK_STR(STR(out), "L:abc\r|N:z");
}

UNIT_TEST(test_bdat)
{
    VSTRING *out = vstring_alloc(100000);
    SMTPD_BDAT_IN bin;

    smtpd_data_bdat_init(&bin, SMTPD_BARE_LF_NORMALIZE, 2048);
    smtpd_data_bdat_feed(&bin, "ab\r", 3, collect, out);
    smtpd_data_bdat_feed(&bin, "\n.\r\ncd", 6, collect, out);
    smtpd_data_bdat_finish(&bin, collect, out);
    CHECK_STR(STR(out), "N:ab|N:.|N:cd");
    CHECK_INT(bin.bare_lf_seen, 0);
    smtpd_data_bdat_free(&bin);
    smtpd_data_bdat_init(&bin, SMTPD_BARE_LF_REJECT, 2048);
    CHECK_INT(smtpd_data_bdat_feed(&bin, "x\ny", 3, collect, out), -1);
    smtpd_data_bdat_free(&bin);
}

UNIT_TEST(test_mail_args)
{
    VSTRING *reply = vstring_alloc(1000);
    SMTPD_MAIL_ARGS m;

    CHECK_INT(smtpd_esmtp_mail_args("SIZE=100 BODY=8BITMIME RET=HDRS ENVID=a+2Bb SMTPUTF8",
                                    &m, 1000, reply), 0);
    CHECK_INT(m.size, 100);
    CHECK_STR(m.body, "8bit");                  /* Postfix's encoding=8bit */
    CHECK_INT(m.ret, DSN_RET_HDRS);
    CHECK_STR(m.envid, "a+b");
    CHECK_INT(m.smtputf8, 1);
    smtpd_esmtp_mail_args_free(&m);
    CHECK_INT(smtpd_esmtp_mail_args("SIZE=1001", &m, 1000, reply), -1);
    CHECK_STR(STR(reply), "552 5.3.4 Message size exceeds fixed limit");
    CHECK_INT(smtpd_esmtp_mail_args("SIZE=x", &m, 1000, reply), -1);
    CHECK_STR(STR(reply), "501 5.5.4 Bad message size syntax");
    CHECK_INT(smtpd_esmtp_mail_args("FOO=bar", &m, 1000, reply), -1);
    CHECK_STR(STR(reply), "555 5.5.4 Unsupported option: FOO=bar");
    CHECK_INT(smtpd_esmtp_mail_args("ENVID=a+zz", &m, 1000, reply), -1);
    CHECK_INT(smtpd_esmtp_mail_args("SIZE=99999999999999999999999", &m, 1000, reply), -1);
}

UNIT_TEST(test_rcpt_args)
{
    VSTRING *reply = vstring_alloc(1000);
    SMTPD_RCPT_ARGS r;

    CHECK_INT(smtpd_esmtp_rcpt_args("NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b", &r, reply), 0);
    CHECK_INT(r.notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE);
    CHECK_STR(r.orcpt, "rfc822;a@b");
    smtpd_esmtp_rcpt_args_free(&r);
    CHECK_INT(smtpd_esmtp_rcpt_args("NOTIFY=NEVER,DELAY", &r, reply), -1);
    CHECK_STR(STR(reply), "501 5.5.4 Error: Bad NOTIFY parameter syntax");
    CHECK_INT(smtpd_esmtp_rcpt_args("ORCPT=rfc822", &r, reply), -1);
    /* the address type is a plain word: no raw control characters */
    CHECK_INT(smtpd_esmtp_rcpt_args("ORCPT=rfc\r822;a@b", &r, reply), -1);
    CHECK_STR(STR(reply), "501 5.5.4 Error: Bad ORCPT parameter syntax");
    CHECK_INT(smtpd_esmtp_rcpt_args("ORCPT=;a@b", &r, reply), -1);
    CHECK_INT(smtpd_esmtp_rcpt_args("ORCPT=utf-8;a@b", &r, reply), 0);
    smtpd_esmtp_rcpt_args_free(&r);
    CHECK_INT(smtpd_esmtp_rcpt_args("NOTIFY=", &r, reply), -1);
    CHECK_STR(smtpd_esmtp_keyword("MAIL FROM:<a@b>", "FROM:"), "<a@b>");
    CHECK_STR(smtpd_esmtp_keyword("mail from: jonas", "FROM:"), " jonas");
    CHECK(smtpd_esmtp_keyword("MAIL TO:<a@b>", "FROM:") == NULL);
}

/* Postfix's free-space rule at MAIL FROM (1 KiB blocks in these cases). */
UNIT_TEST(test_space_rule)
{
    CHECK_INT(smtpd_space_ok(1024, 1000, 0, 0, 0), 1);
    CHECK_INT(smtpd_space_ok(1024, 0, 0, 0, 0), 0);                 /* full */
    CHECK_INT(smtpd_space_ok(1024, 1000, 1000 * 1024, 0, 0), 0);    /* queue_minfree */
    CHECK_INT(smtpd_space_ok(1024, 1000, 999 * 1024, 0, 0), 1);
    CHECK_INT(smtpd_space_ok(1024, 1500, 0, 1000 * 1024, 0), 0);    /* 1.5 x limit */
    CHECK_INT(smtpd_space_ok(1024, 1501, 0, 1000 * 1024, 0), 1);
    CHECK_INT(smtpd_space_ok(1024, 1500, 0, 0, 1000 * 1024), 0);    /* 1.5 x SIZE= */
    CHECK_INT(smtpd_space_ok(1024, 1501, 0, 0, 1000 * 1024), 1);
}

UNIT_TESTS {
    {"space_rule", test_space_rule},
    {"plain", test_plain},
    {"smuggling_normalize", test_smuggling_normalize},
    {"smuggling_reject", test_smuggling_reject},
    {"legacy", test_legacy},
    {"long_lines", test_long_lines},
    {"bdat", test_bdat},
    {"mail_args", test_mail_args},
    {"rcpt_args", test_rcpt_args},
    UNIT_END
};
