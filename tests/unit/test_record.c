/*
 * test_record.c - queue file records: round trip, long lengths, and the
 * errors rec_get() must report (truncated, oversize, bad length).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "record.h"
#include "unit.h"

/* A stream on a fresh temp file. */
static STREAM *
temp_stream(void)
{
    char    path[] = "/tmp/test_record.XXXXXX";
    int     fd = mkstemp(path);

    unlink(path);
    return stream_fdopen(fd);
}

/* A stream reading exactly the given bytes. */
static STREAM *
bytes_stream(const char *data, size_t len)
{
    STREAM *s = temp_stream();

    stream_write(s, data, len);
    stream_flush(s);
    stream_seek(s, 0);
    return s;
}

UNIT_TEST(round_trip)
{
    STREAM *s = temp_stream();
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);

    CHECK_INT(rec_puts(s, REC_TYPE_FROM, "a@b.example"), 0);
    CHECK_INT(rec_put(s, REC_TYPE_NORM, "", 0), 0);
    CHECK_INT(rec_size_put(s, 2L, 3L, 3L, 4L), 0);
    CHECK_INT(rec_put(s, REC_TYPE_CONT, "x\0y", 3), 0);
    CHECK_INT(stream_flush(s), 0);
    stream_seek(s, 0);
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_FROM);
    CHECK_STR(STR(buf), "a@b.example");
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_NORM);
    CHECK_INT(LEN(buf), 0);
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_SIZE);
    CHECK_INT(LEN(buf), REC_SIZE_WIDTH);
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_CONT);
    CHECK_INT(LEN(buf), 3);
    CHECK(memcmp(STR(buf), "x\0y", 3) == 0);
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_EOF);
    stream_close(s);
    vstring_free(buf);
}

UNIT_TEST(long_lengths)
{
    static const size_t sizes[] = {127, 128, 16383, 16384, 300000};
    STREAM *s = temp_stream();
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    char   *data = malloc(300000);

    memset(data, 'q', 300000);
    for (size_t i = 0; i < 5; i++)
        CHECK_INT(rec_put(s, REC_TYPE_NORM, data, sizes[i]), 0);
    stream_flush(s);
    /* 127 needs one length byte, 128 two: 1+1+127 then 1+2+128. */
    CHECK_INT(stream_tell(s), (1 + 1 + 127) + (1 + 2 + 128) + (1 + 2 + 16383)
              + (1 + 3 + 16384) + (1 + 3 + 300000));
    stream_seek(s, 0);
    for (size_t i = 0; i < 5; i++) {
        CHECK_INT(rec_get(s, buf, REC_MAX_DEFAULT), REC_TYPE_NORM);
        CHECK_INT(LEN(buf), sizes[i]);
    }
    CHECK_INT(rec_get(s, buf, REC_MAX_DEFAULT), REC_TYPE_EOF);
    free(data);
    stream_close(s);
    vstring_free(buf);
}

UNIT_TEST(truncated)
{
    VSTRING *buf = vstring_alloc(4096);
    STREAM *s = bytes_stream("N\005abc", 5);        /* says 5, has 3 */

    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_ERROR);
    stream_close(s);
    s = bytes_stream("N", 1);                       /* no length at all */
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_ERROR);
    stream_close(s);
    s = bytes_stream("N\x85", 2);                   /* length continues, then EOF */
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_ERROR);
    stream_close(s);
    vstring_free(buf);
}

UNIT_TEST(oversize)
{
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    STREAM *s = temp_stream();
    char    data[200];

    memset(data, 'z', sizeof(data));
    rec_put(s, REC_TYPE_NORM, data, sizeof(data));
    stream_flush(s);
    stream_seek(s, 0);
    CHECK_INT(rec_get(s, buf, 100), REC_TYPE_ERROR);
    stream_close(s);
    /* A huge declared length never allocates: 0xffffffff. */
    s = bytes_stream("N\xff\xff\xff\xff\x0f", 6);
    CHECK_INT(rec_get(s, buf, REC_MAX_DEFAULT), REC_TYPE_ERROR);
    stream_close(s);
    vstring_free(buf);
}

UNIT_TEST(bad_length)
{
    VSTRING *buf = vstring_alloc(4096);
    STREAM *s = bytes_stream("N\x80\x80\x80\x80\x80\x00", 7);   /* 6 length bytes */

    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_ERROR);
    stream_close(s);
    vstring_free(buf);
}

UNIT_TEST(names)
{
    CHECK(rec_type_known(REC_TYPE_RCPT));
    CHECK(!rec_type_known('?'));
    CHECK_STR(rec_type_name(REC_TYPE_FROM), "sender");
    CHECK_STR(rec_type_name(REC_TYPE_RCPT), "recipient");
}

/*
 * The content of a Postfix file, walked with rec_get_walk(), must be the
 * records Postfix's own "postcat -v" printed for it (postcat/<id>.txt:
 * "regular_text: ..." / "unterminated_text: ..." in order, pointer
 * records followed). Returns the number of content records.
 */
static int
postfix_content_check(STREAM *s, const char *path, REC_WALK *walk)
{
    char    txt[1024];
    const char *id = strrchr(path, '/') + 1;
    FILE   *fp;
    static char want[1 << 16];
    size_t  n;
    const char *at;
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    VSTRING *line = vstring_alloc(REC_MAX_DEFAULT);
    int     type, count = 0;

    snprintf(txt, sizeof(txt), "tests/data/postfix-queue/postcat/%s.txt", id);
    CHECK((fp = fopen(txt, "rb")) != NULL);
    n = fp ? fread(want, 1, sizeof(want) - 1, fp) : 0;
    want[n] = 0;
    if (fp)
        fclose(fp);
    at = strstr(want, "*** MESSAGE CONTENTS");
    CHECK(at != NULL);
    while (at && (type = rec_get_walk(s, buf, REC_MAX_DEFAULT, walk)) != REC_TYPE_XTRA) {
        CHECK(type == REC_TYPE_NORM || type == REC_TYPE_CONT);
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT)
            break;
        vstring_sprintf(line, "\n%s: ", type == REC_TYPE_NORM ? "regular_text" : "unterminated_text");
        vstring_ncat(line, STR(buf), LEN(buf));
        vstring_addch(line, '\n');
        at = strstr(at, STR(line));
        CHECK(at != NULL);
        count++;
    }
    vstring_free(buf);
    vstring_free(line);
    return count;
}

/*
 * The files Postfix 3.7 wrote (tests/data/postfix-queue, make.sh): the
 * SIZE record parses, its offsets lead to MESG and XTRA, the DSN named
 * attributes come back as pseudo types, the recipient count matches, and
 * the content is what Postfix's postcat shows (pointer records of the
 * milter-edited message followed).
 */
static void
postfix_file_check(const char *path)
{
    STREAM *s = stream_open(path, O_RDONLY, 0);
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    REC_WALK walk = {0, 0};
    REC_SIZE sz;
    long    rcpts = 0;
    int     type, notify = 0;

    CHECK(s != NULL);
    if (s == NULL)
        return;
    CHECK_INT(rec_get(s, buf, REC_MAX_DEFAULT), REC_TYPE_SIZE);
    CHECK_INT(LEN(buf), REC_SIZE_WIDTH);
    CHECK_INT(rec_size_parse(STR(buf), &sz), 0);
    CHECK_INT(sz.cont_length, sz.data_size);
    while ((type = rec_get_walk(s, buf, REC_MAX_DEFAULT, &walk)) != REC_TYPE_MESG && type >= 0) {
        CHECK(rec_type_known(type));
        rcpts += (type == REC_TYPE_RCPT || type == REC_TYPE_DONE);
        if (type == REC_TYPE_DSN_NOTIFY)
            notify |= atoi(STR(buf));
        if (type == REC_TYPE_ATTR)      /* the mapped ones never show as ATTR */
            CHECK(strncmp(STR(buf), "notify_flags=", 13) != 0
                  && strncmp(STR(buf), "dsn_orig_rcpt=", 14) != 0);
    }
    CHECK_INT(type, REC_TYPE_MESG);
    CHECK_INT(stream_tell(s), sz.data_offset);
    CHECK_INT(sz.rcpt_count, rcpts);
    CHECK_INT(sz.qmgr_opts, REC_QMGR_OPTS(notify));
    CHECK(postfix_content_check(s, path, &walk) > 0);
    CHECK(stream_seek(s, REC_SIZE_XTRA(&sz)) == 0);
    CHECK_INT(rec_get(s, buf, REC_MAX_DEFAULT), REC_TYPE_XTRA);
    while ((type = rec_get_walk(s, buf, REC_MAX_DEFAULT, &walk)) != REC_TYPE_END && type >= 0)
        CHECK(rec_type_known(type));
    CHECK_INT(type, REC_TYPE_END);
    if (walk.jumps == 0)                /* appended records follow END otherwise */
        CHECK_INT(rec_get(s, buf, REC_MAX_DEFAULT), REC_TYPE_EOF);
    stream_close(s);
    vstring_free(buf);
}

/* The milter-edited message: its header as Postfix's postcat shows it. */
UNIT_TEST(postfix_pointer_records)
{
    STREAM *s = NULL;
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    VSTRING *text = vstring_alloc(REC_MAX_DEFAULT);
    REC_WALK walk = {0, 0};
    REC_SIZE sz;
    FILE   *p = popen("grep -rl 'X-Milter-Added' tests/data/postfix-queue/queue/deferred", "r");
    char    path[1024] = "";
    int     type;

    CHECK(p && fgets(path, sizeof(path), p) != NULL);
    if (p)
        pclose(p);
    path[strcspn(path, "\n")] = 0;
    CHECK((s = stream_open(path, O_RDONLY, 0)) != NULL);
    if (s == NULL)
        return;
    CHECK_INT(rec_get(s, buf, REC_MAX_DEFAULT), REC_TYPE_SIZE);
    CHECK_INT(rec_size_parse(STR(buf), &sz), 0);
    CHECK(stream_seek(s, sz.data_offset) == 0);
    while ((type = rec_get_walk(s, buf, REC_MAX_DEFAULT, &walk)) == REC_TYPE_NORM) {
        vstring_ncat(text, STR(buf), LEN(buf));
        vstring_addch(text, '\n');
    }
    CHECK_INT(type, REC_TYPE_XTRA);
    CHECK(walk.jumps >= 4);
    CHECK(strstr(STR(text), ")\nX-Milter-First: yes\nFrom: Sender <sender@remote.example>\n"
                 "Subject: milter edited\nMessage-ID: <m12@client.example>\n") != NULL);
    CHECK(strstr(STR(text), "\nX-Milter-Added: yes\n\nbody twelve\n") != NULL);
    CHECK(strstr(STR(text), "Subject: milter\n") == NULL);
    /* A zero pointer goes on; a pointer loop is an error, not a hang. */
    stream_close(s);
    s = temp_stream();
    rec_puts(s, REC_TYPE_NORM, "a");                    /* offset 0 */
    rec_printf(s, REC_TYPE_PTR, "%15ld", 0L);           /* offset 3 */
    rec_printf(s, REC_TYPE_PTR, "%15ld", 20L);          /* offset 20: to itself */
    stream_flush(s);
    stream_seek(s, 0);
    memset(&walk, 0, sizeof(walk));
    CHECK_INT(rec_get_walk(s, buf, 4096, &walk), REC_TYPE_NORM);
    CHECK_INT(rec_get_walk(s, buf, 4096, &walk), REC_TYPE_ERROR);
    CHECK_INT(walk.jumps, REC_PTR_JUMPS_MAX + 1);
    stream_close(s);
    vstring_free(buf);
    vstring_free(text);
}

/* Every queue file in one directory; returns how many. */
static int
postfix_dir_check(const char *dir)
{
    char    path[1024];
    DIR    *dp = opendir(dir);
    struct dirent *de;
    int     files = 0;

    while (dp && (de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (de->d_name[1] == 0)         /* a hash subdirectory */
            files += postfix_dir_check(path);
        else {
            postfix_file_check(path);
            files++;
        }
    }
    if (dp)
        closedir(dp);
    return files;
}

UNIT_TEST(postfix_files)
{
    CHECK(postfix_dir_check("tests/data/postfix-queue/queue/deferred") >= 7);
    CHECK(postfix_dir_check("tests/data/postfix-queue/queue/hold") >= 2);
}

UNIT_TEST(size_and_attrs)
{
    STREAM *s = temp_stream();
    VSTRING *buf = vstring_alloc(REC_MAX_DEFAULT);
    REC_SIZE sz;

    /* Postfix's older writers: 3 or 4 fields. */
    CHECK_INT(rec_size_parse("  10  20  1", &sz), 0);
    CHECK_INT(sz.cont_length, 10);
    CHECK_INT(REC_SIZE_XTRA(&sz), 30);
    CHECK_INT(rec_size_parse("10 20", &sz), -1);
    CHECK_INT(rec_size_parse("10 20 1 0 10 0 7", &sz), -1);
    CHECK_INT(rec_size_parse("-1 20 1", &sz), -1);
    /* Pseudo types are Postfix's named attributes on disk. */
    CHECK_INT(rec_puts(s, REC_TYPE_DSN_NOTIFY, "6"), 0);
    CHECK_INT(rec_puts(s, REC_TYPE_DSN_ORCPT, "rfc822;a@b"), 0);
    CHECK_INT(rec_puts(s, REC_TYPE_DSN_ENVID, "e1"), 0);
    CHECK_INT(rec_puts(s, REC_TYPE_DSN_RET, "2"), 0);
    CHECK_INT(rec_puts(s, REC_TYPE_ATTR, "notify_flagsX=1"), 0);
    CHECK_INT(stream_flush(s), 0);
    stream_seek(s, 0);
    CHECK_INT(rec_get_raw(s, buf, 4096), REC_TYPE_ATTR);
    CHECK_STR(STR(buf), "notify_flags=6");
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_DSN_ORCPT);
    CHECK_STR(STR(buf), "rfc822;a@b");
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_DSN_ENVID);
    CHECK_STR(STR(buf), "e1");
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_DSN_RET);
    CHECK_INT(LEN(buf), 1);
    CHECK_INT(rec_get(s, buf, 4096), REC_TYPE_ATTR);
    CHECK_STR(STR(buf), "notify_flagsX=1");
    stream_close(s);
    vstring_free(buf);
}

UNIT_TESTS {
    {"round_trip", round_trip},
    {"long_lengths", long_lengths},
    {"truncated", truncated},
    {"oversize", oversize},
    {"bad_length", bad_length},
    {"names", names},
    {"postfix_files", postfix_files},
    {"size_and_attrs", size_and_attrs},
    {"postfix_pointer_records", postfix_pointer_records},
    UNIT_END
};
