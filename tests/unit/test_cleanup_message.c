/*
 * test_cleanup_message.c - cleanup's record processing on a temp file:
 * the queue file layout, added Message-Id:/Date:/From: headers, removed
 * Return-Path:, long lines split into CONT records, stray CR/LF, the
 * size and hop limits, duplicate recipients and protocol errors.
 *
 * The cleanup sources are compiled into this test directly (the program
 * directories are not a library).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "unit.h"
#include "cleanup_fixture.h"

static CLEANUP_STATE *
setup(const char *extra)
{
    return cleanup_test_setup("myhostname = mail.example.com\nmydomain = example.com\n"
                              "myorigin = $mydomain\n", extra, 0);
}

/* Envelope for "from" to "u@x.example" with default time. */
static void
envelope(CLEANUP_STATE *state, const char *from)
{
    CHECK_INT(put(state, REC_TYPE_TIME, "1795000000 123"), 0);
    CHECK_INT(put(state, REC_TYPE_FROM, from), 0);
    CHECK_INT(put(state, REC_TYPE_RCPT, "u@x.example"), 0);
    CHECK_INT(put(state, REC_TYPE_MESG, ""), 0);
}

static int
finish(CLEANUP_STATE *state)
{
    CHECK_INT(put(state, REC_TYPE_XTRA, ""), 0);
    CHECK_INT(put(state, REC_TYPE_END, ""), 1);
    return cleanup_finish(state);
}

/* envelope(from), the NORM lines (up to a null), finish() with status 0;
 * returns the file as text (dump()). */
static char *
message(CLEANUP_STATE *state, const char *from, const char *const *lines)
{
    envelope(state, from);
    for (; *lines; lines++)
        put(state, REC_TYPE_NORM, *lines);
    CHECK_INT(finish(state), 0);
    return dump(state);
}

static void
done(CLEANUP_STATE *state)
{
    stream_close(state->dst);
    cleanup_state_free(state);
}

UNIT_TEST(adds_missing_headers)
{
    CLEANUP_STATE *state = setup(NULL);
    char   *text;

    text = message(state, "sender", (const char *const[]) {
        "Subject: hi",
        "Return-Path: <evil@example>",
        "",
        "body",
        0});
    CHECK(strstr(text, "S:sender@example.com\n") != NULL);
    CHECK(strstr(text, "R:u@x.example\n") != NULL);
    CHECK(strstr(text, "O:") == NULL);          /* recipient unchanged */
    CHECK(strstr(text, "N:Subject: hi\nN:Message-Id: <20261118") != NULL);
    CHECK(strstr(text, ".3F2A81C0B7@mail.example.com>\nN:Date: ") != NULL);
    CHECK(strstr(text, "\nN:From: sender@example.com\nN:\nN:body\nX:\nE:\n") != NULL);
    CHECK(strstr(text, "Return-Path") == NULL);
    /* SIZE (Postfix's): content size, data offset, 1 recipient, qmgr
     * options, content length, SMTPUTF8 flags. */
    long    size, data, nrcpt, xtra, opts, clen, utf8;
    CHECK(sscanf(text, "C:%ld %ld %ld %ld %ld %ld", &size, &data, &nrcpt, &opts, &clen, &utf8) == 6);
    CHECK_INT(clen, size);
    xtra = data + size;
    CHECK_INT(nrcpt, 1);
    CHECK_INT(size, xtra - data);
    CHECK_INT(state->data_offset, data);
    free(text);
    done(state);
}

UNIT_TEST(keeps_present_headers)
{
    CLEANUP_STATE *state = setup(NULL);
    char   *text;

    text = message(state, "a@b.example", (const char *const[]) {
        "Message-ID: <x@y>",
        "Date: Sun, 22 Nov 2026 07:17:53 +0000",
        "From: A <a@b.example>",
        "",
        0});
    CHECK(strstr(text, "Message-Id:") == NULL);
    CHECK(strstr(text, "N:Date:") != NULL && strstr(strstr(text, "N:Date:") + 1, "N:Date:") == NULL);
    CHECK(strstr(text, "N:From: A <a@b.example>\nN:\nX:") != NULL);
    free(text);
    done(state);
}

UNIT_TEST(remote_context_adds_nothing)
{
    CLEANUP_STATE *state = setup(NULL);
    char   *text;

    put(state, REC_TYPE_ATTR, "rewrite_context=remote");
    text = message(state, "a@b.example", (const char *const[]) {
        "Subject: x",
        0});
    CHECK(strstr(text, "A:rewrite_context=remote\n") != NULL);
    CHECK(strstr(text, "Message-Id") == NULL && strstr(text, "Date:") == NULL);
    CHECK(strstr(text, "N:Subject: x\nX:") != NULL);
    free(text);
    done(state);
}

UNIT_TEST(folded_and_long_lines)
{
    CLEANUP_STATE *state = setup("line_length_limit = 100\n");
    char    longline[250];
    char   *text;

    memset(longline, 'a', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = 0;
    envelope(state, "a@b.example");
    put_records(state, "N:Subject: one\nN:\ttwo\nL:X-Long: \nN:value\nN:\n");
    put(state, REC_TYPE_NORM, longline);
    CHECK_INT(finish(state), 0);
    text = dump(state);
    CHECK(strstr(text, "N:Subject: one\nN:\ttwo\nN:X-Long: value\n") != NULL);
    /* Body records are copied as they came; a long header line is split. */
    CHECK(strstr(text, "N:\nN:aaaa") != NULL);
    free(text);
    done(state);

    state = setup("line_length_limit = 100\n");
    envelope(state, "a@b.example");
    vstring_sprintf(state->scratch, "X-Big: %s", longline);
    char   *hdr = mem_strdup(STR(state->scratch));
    put(state, REC_TYPE_NORM, hdr);
    put(state, REC_TYPE_NORM, "");
    CHECK_INT(finish(state), 0);
    text = dump(state);
    CHECK(strstr(text, "L:X-Big: aaa") != NULL);
    CHECK(strstr(text, "\nL:aaaa") != NULL);
    free(text);
    mem_free(hdr);
    done(state);
}

UNIT_TEST(stray_cr_lf)
{
    CLEANUP_STATE *state = setup(NULL);
    char   *text;

    text = message(state, "a@b.example", (const char *const[]) {
        "Subject: a\rb",
        "",
        "x\ny\r",
        0});
    CHECK(strstr(text, "N:Subject: a b\n") != NULL);
    CHECK(strstr(text, "N:x y \n") != NULL);
    free(text);
    done(state);
}

UNIT_TEST(size_limit)
{
    CLEANUP_STATE *state = setup("message_size_limit = 1000\n");
    char    line[100];

    memset(line, 'b', sizeof(line) - 1);
    line[sizeof(line) - 1] = 0;
    envelope(state, "a@b.example");
    put(state, REC_TYPE_NORM, "");
    for (int i = 0; i < 20; i++)
        CHECK_INT(put(state, REC_TYPE_NORM, line), 0);
    CHECK(finish(state) & CLEANUP_STAT_SIZE);
    done(state);
}

UNIT_TEST(hop_limit)
{
    CLEANUP_STATE *state = setup("hopcount_limit = 3\n");

    envelope(state, "a@b.example");
    for (int i = 0; i < 4; i++)
        put(state, REC_TYPE_NORM, i & 1 ? "Received: from x" : "Delivered-To: y");
    put(state, REC_TYPE_NORM, "");
    CHECK(finish(state) & CLEANUP_STAT_HOPS);
    done(state);
}

UNIT_TEST(recipients)
{
    CLEANUP_STATE *state = setup(NULL);
    char   *text;

    CHECK_INT(put(state, REC_TYPE_FROM, ""), 0);
    CHECK_INT(put(state, REC_TYPE_RCPT, "joe"), 0);
    CHECK_INT(put(state, REC_TYPE_RCPT, "joe"), 0);     /* duplicate */
    CHECK_INT(put(state, REC_TYPE_DSN_NOTIFY, "6"), 0);
    CHECK_INT(put(state, REC_TYPE_ORCP, "Other@x.example"), 0);
    CHECK_INT(put(state, REC_TYPE_RCPT, "other@x.example"), 0);
    CHECK_INT(put(state, REC_TYPE_MESG, ""), 0);
    put(state, REC_TYPE_NORM, "Subject: x");
    CHECK_INT(finish(state), 0);
    text = dump(state);
    CHECK(strstr(text, "\nS:\n") != NULL);
    CHECK(strstr(text, "O:joe\nR:joe@example.com\nn:6\nO:Other@x.example\nR:other@x.example\nM:")
          != NULL);
    CHECK(strstr(text, "N:From:") == NULL);            /* null sender: no From: */
    CHECK_INT(state->rcpt_count, 2);
    free(text);
    done(state);
}

/* The filter remembers at most duplicate_filter_limit recipients; 0: none. */
static long
count_recipients(const char *extra, const char *const *rcpts)
{
    CLEANUP_STATE *state = setup(extra);
    long    count;

    CHECK_INT(put(state, REC_TYPE_FROM, "a@b.example"), 0);
    for (int i = 0; rcpts[i]; i++)
        CHECK_INT(put(state, REC_TYPE_RCPT, rcpts[i]), 0);
    CHECK_INT(put(state, REC_TYPE_MESG, ""), 0);
    put(state, REC_TYPE_NORM, "Subject: x");
    CHECK_INT(finish(state), 0);
    count = state->rcpt_count;
    done(state);
    return count;
}

UNIT_TEST(duplicate_filter_limit)
{
    static const char *const rcpts[] = {
        "a@x.example", "b@x.example", "a@x.example", "c@x.example", "c@x.example",
        "b@x.example", 0,
    };

    CHECK_INT(count_recipients(NULL, rcpts), 3);
    /* a and b are remembered, c is not: its repeat passes */
    CHECK_INT(count_recipients("duplicate_filter_limit = 2\n", rcpts), 4);
    CHECK_INT(count_recipients("duplicate_filter_limit = 0\n", rcpts), 6);
}

UNIT_TEST(protocol_errors)
{
    CLEANUP_STATE *state = setup(NULL);

    CHECK_INT(put(state, REC_TYPE_RCPT, "a@b"), -1);   /* before FROM */
    CHECK(state->errs & CLEANUP_STAT_BAD);
    done(state);

    state = setup(NULL);
    envelope(state, "a@b.example");
    CHECK_INT(put(state, REC_TYPE_RCPT, "x@y"), -1);   /* envelope in content */
    done(state);

    state = setup(NULL);
    CHECK_INT(put(state, REC_TYPE_ATTR, "novalue"), -1);
    done(state);

    state = setup(NULL);
    CHECK_INT(put(state, REC_TYPE_FROM, "a@b.example"), 0);
    CHECK_INT(put(state, REC_TYPE_MESG, ""), 0);
    CHECK_INT(finish(state), CLEANUP_STAT_RCPT);
    done(state);

    state = setup(NULL);                                /* no END */
    envelope(state, "a@b.example");
    CHECK(cleanup_finish(state) & CLEANUP_STAT_BAD);
    done(state);
}

UNIT_TEST(resent_and_fullname)
{
    CLEANUP_STATE *state = setup(NULL);
    char   *text;

    CHECK_INT(put(state, REC_TYPE_FULL, "Joe Q. Public"), 0);
    text = message(state, "joe", (const char *const[]) {
        "Message-Id: <orig@x>",
        "Resent-To: someone@x.example",
        "",
        0});
    CHECK(strstr(text, "N:Resent-Message-Id: <") != NULL);
    CHECK(strstr(text, "N:Resent-Date: ") != NULL);
    CHECK(strstr(text, "N:Resent-From: \"Joe Q. Public\" <joe@example.com>\nN:\n") != NULL);
    CHECK(strstr(text, "N:Message-Id: <orig@x>\n") != NULL);
    free(text);
    done(state);

    state = setup("header_from_format = obsolete\n");
    CHECK_INT(put(state, REC_TYPE_FULL, "Joe (Q) Public"), 0);
    text = message(state, "joe", (const char *const[]) {
        "",
        0});
    CHECK(strstr(text, "N:From: joe@example.com (Joe Q Public)\n") != NULL);
    free(text);
    done(state);
}

UNIT_TEST(header_size_limit)
{
    CLEANUP_STATE *state = setup("header_size_limit = 64\n");
    char   *text;

    text = message(state, "a@b.example", (const char *const[]) {
        "Subject: 0123456789012345678901234567890123456789",
        " 0123456789012345678901234567890123456789",
        "",
        0});
    /* The logical header is cut at 64 bytes; the excess is dropped. */
    CHECK(strstr(text, "N:Subject: 0123456789012345678901234567890123456789\nN: 0123456789012\n")
          != NULL);
    free(text);
    done(state);
}

/* Read a small file into a string (caller frees), or NULL. */
static char *
slurp(const char *path)
{
    STREAM *s = stream_open(path, O_RDONLY, 0);
    VSTRING *out = vstring_alloc(VSTRING_UNLIMITED);
    char    buf[4096];
    ssize_t n;

    if (s == NULL) {
        vstring_free(out);
        return NULL;
    }
    while ((n = stream_read(s, buf, sizeof(buf))) > 0)
        vstring_ncat(out, buf, (size_t) n);
    stream_close(s);
    return vstring_export(out);
}

/* CLEANUP_FLAG_BOUNCE: a too-large local submission becomes a bounce. */
UNIT_TEST(bounce_on_size_limit)
{
    char    dir[] = "/tmp/test_cleanup_q.XXXXXX";
    CLEANUP_STATE *state;
    char    line[100];
    char   *text, *log;

    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(chdir(dir), 0);
    CHECK_INT(mkdir("bounce", 0700), 0);
    state = setup("message_size_limit = 1000\n");
    state->flags = CLEANUP_FLAG_BOUNCE;
    memset(line, 'b', sizeof(line) - 1);
    line[sizeof(line) - 1] = 0;
    CHECK_INT(put(state, REC_TYPE_TIME, "1795000000 123"), 0);
    CHECK_INT(put(state, REC_TYPE_FROM, "a@b.example"), 0);
    CHECK_INT(put(state, REC_TYPE_DSN_NOTIFY, "4"), 0);
    CHECK_INT(put(state, REC_TYPE_RCPT, "u@x.example"), 0);
    CHECK_INT(put(state, REC_TYPE_RCPT, "v"), 0);
    CHECK_INT(put(state, REC_TYPE_MESG, ""), 0);
    put(state, REC_TYPE_NORM, "Subject: big");
    put(state, REC_TYPE_NORM, "");
    for (int i = 0; i < 20; i++)
        CHECK_INT(put(state, REC_TYPE_NORM, line), 0);
    CHECK_INT(finish(state), 0);                /* queued, as a bounce */
    CHECK_INT(state->bounced, 1);
    text = dump(state);
    CHECK(strstr(text, "D:u@x.example\n") != NULL);
    CHECK(strstr(text, "O:v\nD:v@example.com\n") != NULL);
    CHECK(strstr(text, "R:") == NULL);
    CHECK(strstr(text, "N:Subject: big\n") != NULL);
    CHECK(strstr(text, "\nX:\n<:2\nE:\n") != NULL);
    long    size, data, nrcpt, xtra, opts, clen, utf8;
    CHECK(sscanf(text, "C:%ld %ld %ld %ld %ld %ld", &size, &data, &nrcpt, &opts, &clen, &utf8) == 6);
    CHECK_INT(clen, size);
    xtra = data + size;
    CHECK_INT(size, xtra - data);
    CHECK(size <= 1100);
    log = slurp("bounce/3F2A81C0B7");
    CHECK(log != NULL);
    CHECK(strstr(log, "recipient=u@x.example\noffset=") != NULL);
    CHECK(strstr(log, "\nnotify_flags=4\nstatus=5.3.4\naction=failed\n"
                 "reason=message file too big\n\n\n<v@example.com>: message file too big\n"
                 "original_recipient=v\nrecipient=v@example.com\noffset=") != NULL);
    free(log);
    free(text);
    done(state);
    unlink("bounce/3F2A81C0B7");
    rmdir("bounce");
    rmdir(dir);
}

/* Not for protocol errors, and not without the flag. */
UNIT_TEST(bounce_only_when_asked)
{
    CLEANUP_STATE *state = setup("hopcount_limit = 1\n");

    envelope(state, "a@b.example");
    put(state, REC_TYPE_NORM, "Received: from x");
    put(state, REC_TYPE_NORM, "Received: from y");
    put(state, REC_TYPE_NORM, "");
    CHECK(!cleanup_bounce_wanted(state));       /* not finished yet */
    CHECK(finish(state) & CLEANUP_STAT_HOPS);
    CHECK_INT(state->bounced, 0);
    state->flags = CLEANUP_FLAG_BOUNCE;
    CHECK(cleanup_bounce_wanted(state));
    state->errs |= CLEANUP_STAT_DEFER;
    CHECK(!cleanup_bounce_wanted(state));
    done(state);
}

UNIT_TESTS {
    {"adds_missing_headers", adds_missing_headers},
    {"keeps_present_headers", keeps_present_headers},
    {"remote_context_adds_nothing", remote_context_adds_nothing},
    {"folded_and_long_lines", folded_and_long_lines},
    {"stray_cr_lf", stray_cr_lf},
    {"size_limit", size_limit},
    {"hop_limit", hop_limit},
    {"recipients", recipients},
    {"duplicate_filter_limit", duplicate_filter_limit},
    {"protocol_errors", protocol_errors},
    {"resent_and_fullname", resent_and_fullname},
    {"header_size_limit", header_size_limit},
    {"bounce_on_size_limit", bounce_on_size_limit},
    {"bounce_only_when_asked", bounce_only_when_asked},
    UNIT_END
};
