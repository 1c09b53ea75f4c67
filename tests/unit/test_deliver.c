/*
 * test_deliver.c - unit tests for lib/deliver.c: the qmgr <-> agent
 * request and reply over a socketpair (qmgr side in a forked child), the
 * content walk, bad requests, and the delay formatting of the to= line.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "deliver.h"
#include "mail_params.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "record.h"
#include "unit.h"

/* A queue file active/ABC123 in a temp directory (we chdir there). */
static long
make_queue_file(void)
{
    char    dir[] = "/tmp/test_deliver.XXXXXX";
    STREAM *s;
    long    offset;

    if (mkdtemp(dir) == NULL || chdir(dir) < 0 || mkdir("active", 0700) < 0)
        return -1;
    s = stream_open("active/ABC123", O_CREAT | O_RDWR | O_TRUNC, 0600);
    unit_put_records(s, "S:sender@example.com\nR:user@example.com\nM:\n");
    offset = stream_tell(s);
    unit_put_records(s, "N:Subject: hi\nN:\nL:long \nN:line\nX:\nE:\n");
    stream_close(s);
    return offset;
}

static void
fill_request(DELIVER_REQUEST *req, long offset)
{
    memset(req, 0, sizeof(*req));
    req->queue_name = "active";
    req->queue_id = "ABC123";
    req->offset = offset;
    req->size = 40;
    req->sender = "sender@example.com";
    req->nexthop = "example.com";
    req->transport = "local";
    req->arrival_time = 1000.5;
    req->active_time = 1001.25;
    req->encoding = "";
    req->dsn_envid = "";
    req->client_name = "localhost";
    req->client_addr = "127.0.0.1";
    req->rcpt_count = 2;
    req->rcpt = mem_array(2, sizeof(DELIVER_RCPT));
    req->rcpt[0].address = "user@example.com";
    req->rcpt[0].orig_rcpt = "alias@example.com";
    req->rcpt[0].offset = 20;
    req->rcpt[0].dsn_orcpt = "";
    req->rcpt[1].address = "other@example.com";
    req->rcpt[1].orig_rcpt = "";
    req->rcpt[1].offset = 30;
    req->rcpt[1].dsn_orcpt = "rfc822;other@example.com";
    req->rcpt[1].dsn_notify = 6;
}

/* qmgr side, in a child: exit 0 when the replies are as expected. */
static int
qmgr_side(int fd, long offset)
{
    STREAM *s = stream_fdopen(fd);
    DELIVER_REQUEST req;
    int     more = -1;

    stream_set_timeout(s, 10);
    fill_request(&req, offset);
    if (deliver_request_write(s, &req) < 0)
        return 1;
    if (deliver_reply_read(s, &req, &more) < 0 || more != 0)
        return 2;
    if (req.rcpt[0].status != DELIVER_SENT || strcmp(req.rcpt[0].dsn, "2.0.0")
        || strcmp(req.rcpt[0].reason, "delivered to mailbox"))
        return 3;
    if (req.rcpt[1].status != DELIVER_DEFER || strcmp(req.rcpt[1].dsn, "4.2.0"))
        return 4;
    return 0;
}

/* The agent's end of a socketpair whose qmgr end fn(fd, offset) drives
 * in a forked child (*pid; its exit status is fn's result). */
static STREAM *
start_qmgr_side(int (*fn)(int, long), long offset, pid_t *pid)
{
    int     sv[2];
    STREAM *s;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        perror("socketpair");
        exit(1);
    }
    if ((*pid = fork()) == 0) {
        close(sv[0]);
        _exit(fn(sv[1], offset));
    }
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 10);
    return s;
}

typedef struct LINES {
    VSTRING *text;
} LINES;

static int
collect(const char *data, size_t len, int is_eol, void *ctx)
{
    LINES  *l = ctx;

    vstring_ncat(l->text, data, len);
    vstring_cat(l->text, is_eol ? "|" : "+");
    return 0;
}

/* main.cf text, and the parameters of the lib/global modules read from it. */
static void
load(const char *text)
{
    config_reset();
    config_load_text(text, "test");
    mail_params_init();
}

static void
mail_init(void *ctx)
{
    mail_params_init();
}

/* Load text in a child; returns its exit status (-1 if it crashed). */
static int
load_status(const char *text)
{
    return unit_config_child(text, mail_init, NULL, NULL, 0);
}

UNIT_TEST(test_round_trip)
{
    long    offset = make_queue_file();
    int     status;
    pid_t   pid;
    STREAM *s;
    DELIVER_REQUEST *req;
    LINES   l;

    msg_init("test_deliver", MSG_STDERR | MSG_NOSYSLOG);
    load("");
    CHECK(offset > 0);
    s = start_qmgr_side(qmgr_side, offset, &pid);
    req = deliver_request_read(s);
    CHECK(req != NULL);
    if (req == NULL)
        return;
    CHECK_STR(req->queue_id, "ABC123");
    CHECK_STR(req->sender, "sender@example.com");
    CHECK_INT(req->rcpt_count, 2);
    CHECK_STR(req->rcpt[0].orig_rcpt, "alias@example.com");
    CHECK_STR(req->rcpt[1].dsn_orcpt, "rfc822;other@example.com");
    CHECK_INT(req->rcpt[1].dsn_notify, 6);
    CHECK_INT(req->rcpt[1].offset, 30);
    CHECK(req->arrival_time > 1000.49 && req->arrival_time < 1000.51);
    CHECK_INT(req->rcpt[0].status, -1);

    l.text = vstring_alloc(1000);
    CHECK_INT(deliver_read_content(req, collect, &l), 0);
    CHECK_STR(STR(l.text), "Subject: hi||long +line|");

    deliver_result(req, 0, DELIVER_SENT, "2.0.0", "local", 0, 0.01, "delivered to mailbox");
    deliver_result_to(req, 1, "x@example.com", DELIVER_SENT, "2.0.0", "local", 0, 0, "ok");
    deliver_result_to(req, 1, "y@example.com", DELIVER_DEFER, "4.2.0", "local", 0, 0, "later");
    deliver_result_to(req, 1, "z@example.com", DELIVER_BOUNCE, "5.1.1", "local", 0, 0, "no");
    CHECK_INT(req->rcpt[1].status, DELIVER_DEFER);      /* the worst result wins */
    CHECK_STR(req->rcpt[1].reason, "later");
    CHECK_INT(deliver_request_reply(s, req, 0), 0);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
    deliver_request_free(req);
    stream_close(s);
    vstring_free(l.text);
}

/* Bad queue ids and offsets are refused before any file is opened. */
UNIT_TEST(test_bad_request)
{
    long    offset = make_queue_file();
    int     sv[2], status;
    pid_t   pid;
    STREAM *s;

    msg_init("test_deliver", MSG_NOSYSLOG);
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    if ((pid = fork()) == 0) {
        DELIVER_REQUEST req;
        STREAM *c = stream_fdopen(sv[1]);

        close(sv[0]);
        fill_request(&req, offset);
        req.queue_id = "../../etc/passwd";
        stream_set_timeout(c, 10);
        _exit(deliver_request_write(c, &req) < 0);
    }
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 10);
    CHECK(deliver_request_read(s) == NULL);
    waitpid(pid, &status, 0);
    stream_close(s);
}

/* The agent's delivery function for test_two_requests: the first
 * recipient is delivered, the second deferred, per request. */
static void
serve_fn(DELIVER_REQUEST *req, void *ctx)
{
    (*(int *) ctx)++;
    deliver_result(req, 0, DELIVER_SENT, "2.0.0", "local", 0, 0, "delivered to mailbox");
    deliver_result(req, 1, DELIVER_DEFER, "4.2.0", "local", 0, 0, "later");
}

/* qmgr side of test_two_requests: both requests written before either
 * reply is read (the second waits in the socket), then the connection
 * closed: exit 0 when both replies came, each saying "more". */
static int
qmgr_two(int fd, long offset)
{
    STREAM *s = stream_fdopen(fd);
    DELIVER_REQUEST req;
    int     more;

    stream_set_timeout(s, 10);
    fill_request(&req, offset);
    if (deliver_request_send(s, &req) < 0 || deliver_request_send(s, &req) < 0
        || deliver_greeting_read(s) < 0)
        return 1;
    for (int i = 0; i < 2; i++) {
        more = -1;
        if (deliver_reply_read(s, &req, &more) < 0 || more != 1
            || req.rcpt[0].status != DELIVER_SENT || req.rcpt[1].status != DELIVER_DEFER)
            return 2 + i;
    }
    stream_close(s);
    return 0;
}

/* Two requests on one connection: deliver_request_serve() takes the
 * second after answering the first and returns when qmgr closes. */
UNIT_TEST(test_two_requests)
{
    long    offset = make_queue_file();
    int     status, served = 0;
    pid_t   pid;
    STREAM *s;

    msg_init("test_deliver", MSG_STDERR | MSG_NOSYSLOG);
    load("");
    s = start_qmgr_side(qmgr_two, offset, &pid);
    deliver_request_serve(s, serve_fn, &served);
    CHECK_INT(served, 2);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_INT(WEXITSTATUS(status), 0);
    stream_close(s);
}

static const char *
delays(double arrival, double active, double agent, double conn, double xfer, double now)
{
    static VSTRING *out;

    if (out == NULL)
        out = vstring_alloc(200);
    vstring_reset(out);
    deliver_format_delays(out, arrival, active, agent, conn, xfer, now);
    return STR(out);
}

UNIT_TEST(test_delays)
{
    load("");
    CHECK_STR(delays(100, 100.01, 100.01, 0, 0.01, 100.02),
              "delay=0.02, delays=0.01/0/0/0.01");
    CHECK_STR(delays(100, 100.5, 100.6, 0, 0.1, 101.2),
              "delay=1.2, delays=0.5/0.1/0/0.1");
    CHECK_STR(delays(100, 110, 111, 0.25, 0.75, 112),
              "delay=12, delays=10/1/0.25/0.75");
    CHECK_STR(delays(100, 100.001, 100.002, 0, 0.004, 100.009),
              "delay=0, delays=0/0/0/0");
    CHECK_STR(delays(100, 100.048, 100.048, 0, 0, 100.48),
              "delay=0.48, delays=0.04/0/0/0");
    CHECK_STR(delays(0, 0, 0, 0, 0, 356.4), "delay=356, delays=0/0/0/0");
    /* clock skew never gives negative numbers */
    CHECK_STR(delays(100, 99, 98, 0, 0, 100.1), "delay=0.1, delays=0/0/0/0");
}

/* The resolution comes from the parameter table, read once; a value
 * outside 0..6 is fatal, as any bad value (it used to be clamped). */
UNIT_TEST(test_delay_resolution)
{
    load("delay_logging_resolution_limit = 4\n");
    CHECK_STR(delays(100, 100.0015, 100.0015, 0, 0.0002, 100.0031),
              "delay=0.0031, delays=0.0015/0/0/0.0002");
    load("delay_logging_resolution_limit = 0\n");
    CHECK_STR(delays(100, 100.5, 100.5, 0, 0.5, 101.5), "delay=1, delays=0/0/0/0");
    CHECK_INT(load_status("delay_logging_resolution_limit = 6\n"), 0);
    CHECK(load_status("delay_logging_resolution_limit = 7\n") > 0);
    CHECK(load_status("delay_logging_resolution_limit = -1\n") > 0);
    CHECK(load_status("delay_logging_resolution_limit =\n") > 0);
    CHECK(load_status("ipc_timeout = 10x\n") > 0);
}

UNIT_TESTS {
    {"test_round_trip", test_round_trip},
    {"test_bad_request", test_bad_request},
    {"test_two_requests", test_two_requests},
    {"test_delays", test_delays},
    {"test_delay_resolution", test_delay_resolution},
    UNIT_END
};
