/*
 * test_sendmail.c - sendmail's command line helpers and its input
 * handling: line endings, the "." line, long lines, the mbox From_ line,
 * header buffering and -t recipient extraction with Bcc removal
 * (sendmail/sendmail_opts.c and sendmail_input.c compiled in).
 */
#include <stdlib.h>
#include <unistd.h>

#include "mail_proto.h"
#include "record.h"
#include "unit.h"
#include "../../sendmail/sendmail_opts.c"
#include "../../sendmail/sendmail_input.c"

/* A stream reading the given text. */
static STREAM *
text_stream(const char *text)
{
    char    path[] = "/tmp/test_sendmail.XXXXXX";
    int     fd = mkstemp(path);
    STREAM *s;

    unlink(path);
    s = stream_fdopen(fd);
    stream_puts(s, text);
    stream_flush(s);
    stream_seek(s, 0);
    return s;
}

/* All pieces as "N:text|" / "L:text|". */
static char *
pieces(const char *text, long line_limit, int dot_ends)
{
    SM_INPUT inp;
    VSTRING *out = vstring_alloc(10000);
    int     type;

    sendmail_input_init(&inp, text_stream(text), line_limit, dot_ends);
    while ((type = sendmail_input_piece(&inp)) != REC_TYPE_EOF)
        vstring_sprintf_append(out, "%c:%s|", type, STR(inp.buf));
    return vstring_export(out);
}

UNIT_TEST(notify_parsing)
{
    CHECK_INT(sendmail_parse_notify("never"), DSN_NOTIFY_NEVER);
    CHECK_INT(sendmail_parse_notify("success,failure"), DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE);
    CHECK_INT(sendmail_parse_notify("DELAY"), DSN_NOTIFY_DELAY);
    CHECK_INT(sendmail_parse_notify("never,success"), -1);
    CHECK_INT(sendmail_parse_notify("bogus"), -1);
    CHECK_INT(sendmail_parse_notify(""), -1);
}

UNIT_TEST(sender_parsing)
{
    CHECK_STR(sendmail_parse_sender(""), "");
    CHECK_STR(sendmail_parse_sender("<>"), "");
    CHECK_STR(sendmail_parse_sender("a@b.test"), "a@b.test");
    CHECK_STR(sendmail_parse_sender("Joe <joe@b.test>"), "joe@b.test");
    CHECK(sendmail_parse_sender("a@b, c@d") == NULL);
}

UNIT_TEST(recipient_lists)
{
    ARGV   *r = argv_alloc();

    CHECK_INT(sendmail_add_recipients(r, "bob"), 1);
    CHECK_INT(sendmail_add_recipients(r, "C <c@d>, e@f"), 2);
    CHECK_INT(r->argc, 3);
    CHECK_STR(r->argv[0], "bob");
    CHECK_STR(r->argv[1], "c@d");
    CHECK_STR(r->argv[2], "e@f");
    argv_free(r);
}

UNIT_TEST(dot_line_ends_input)
{
    CHECK_STR(pieces("a\r\nb\n.\nc\n", 100, 1), "N:a|N:b|");
    CHECK_STR(pieces("a\n.\nc\n", 100, 0), "N:a|N:.|N:c|");
    CHECK_STR(pieces("a\n..\nlast", 100, 1), "N:a|N:..|N:last|");
    CHECK_STR(pieces(".\r\n", 100, 1), "");
}

UNIT_TEST(long_lines_are_split)
{
    CHECK_STR(pieces("abcdefghij\nxy\n", 4, 1), "L:abcd|L:efgh|N:ij|N:xy|");
    /* a "." that is only the tail of a long line does not end input */
    CHECK_STR(pieces("abcd.\nz\n", 4, 1), "L:abcd|N:.|N:z|");
}

UNIT_TEST(from_line_is_dropped)
{
    CHECK_STR(pieces("From joe Mon Jan  1\nSubject: x\n", 100, 1), "N:Subject: x|");
    CHECK_STR(pieces("Subject: x\nFrom joe\n", 100, 1), "N:Subject: x|N:From joe|");
}

UNIT_TEST(extract_and_bcc_removal)
{
    SM_INPUT inp;
    SM_HEADERS h;
    ARGV   *r = argv_alloc();
    VSTRING *kept = vstring_alloc(10000);
    int     type;

    sendmail_input_init(&inp, text_stream(
        "Subject: hi\nTo: \"Doe, J\" <jd@x.test>,\n k@y.test\nCC: cc@z.test\n"
        "Bcc: hidden@w.test\nX-Other: to@not.test\n\nTo: body@not.test\n"), 100, 1);
    sendmail_read_headers(&inp, &h, 100000);
    sendmail_extract(&h, r);
    CHECK_INT(r->argc, 4);
    CHECK_STR(r->argv[0], "jd@x.test");
    CHECK_STR(r->argv[1], "k@y.test");
    CHECK_STR(r->argv[2], "cc@z.test");
    CHECK_STR(r->argv[3], "hidden@w.test");
    for (size_t i = 0; i < h.count; i++)
        if (h.pieces[i].type)
            vstring_sprintf_append(kept, "%s|", h.pieces[i].data);
    while ((type = sendmail_input_piece(&inp)) != REC_TYPE_EOF)
        vstring_sprintf_append(kept, "%s|", STR(inp.buf));
    CHECK_STR(STR(kept), "Subject: hi|To: \"Doe, J\" <jd@x.test>,| k@y.test|CC: cc@z.test|"
              "X-Other: to@not.test||To: body@not.test|");
    sendmail_headers_free(&h);
    argv_free(r);
}

UNIT_TEST(resent_headers_win)
{
    SM_INPUT inp;
    SM_HEADERS h;
    ARGV   *r = argv_alloc();

    sendmail_input_init(&inp, text_stream(
        "To: old@x.test\nResent-To: new@x.test\nResent-Bcc: secret@x.test\n\nbody\n"), 100, 1);
    sendmail_read_headers(&inp, &h, 100000);
    sendmail_extract(&h, r);
    CHECK_INT(r->argc, 2);
    CHECK_STR(r->argv[0], "new@x.test");
    CHECK_STR(r->argv[1], "secret@x.test");
    CHECK_INT(h.pieces[2].type, 0);     /* Resent-Bcc removed */
    sendmail_headers_free(&h);
    argv_free(r);
}

UNIT_TEST(header_block_is_bounded)
{
    SM_INPUT inp;
    SM_HEADERS h;
    VSTRING *big = vstring_alloc(100000);

    for (int i = 0; i < 1000; i++)
        vstring_sprintf_append(big, "X-H%d: some value\n", i);
    vstring_cat(big, "\nbody\n");
    sendmail_input_init(&inp, text_stream(STR(big)), 100, 1);
    sendmail_read_headers(&inp, &h, 1000);
    CHECK(h.bytes <= 1000 + 100);
    CHECK(!h.ended);
    sendmail_headers_free(&h);
}

UNIT_TESTS {
    {"notify_parsing", notify_parsing},
    {"sender_parsing", sender_parsing},
    {"recipient_lists", recipient_lists},
    {"dot_line_ends_input", dot_line_ends_input},
    {"long_lines_are_split", long_lines_are_split},
    {"from_line_is_dropped", from_line_is_dropped},
    {"extract_and_bcc_removal", extract_and_bcc_removal},
    {"resent_headers_win", resent_headers_win},
    {"header_block_is_bounded", header_block_is_bounded},
    UNIT_END
};
