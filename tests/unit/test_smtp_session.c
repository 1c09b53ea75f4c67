/*
 * test_smtp_session.c - the SMTP/LMTP client end to end against a
 * scripted server: a forked child listens on 127.0.0.1, answers each
 * command from a per-test table, and writes what it received (commands,
 * then the raw DATA bytes) to a file that the test compares. The
 * delivery runs through smtp_deliver() with a real queue file, so the
 * results, reasons and the dot-stuffed CRLF content are all checked.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../smtp/smtp_nexthop.c"
#include "../../smtp/smtp_reply.c"
#include "../../smtp/smtp_dns.c"
#include "../../smtp/smtp_param.c"
#include "../../smtp/smtp_connect.c"
#include "../../smtp/smtp_proto.c"
#include "../../smtp/smtp_xforward.c"
#include "../../smtp/smtp_service.c"
#include "../../smtp/smtp_tls.c"
#include "../../smtp/smtp_dane.c"
#include "../../smtp/smtp_sasl.c"
#include "../../smtp/smtp_generic.c"
#include "config.h"
#include "record.h"
#include "mail_params.h"
#include "unit.h"

typedef struct SCRIPT {
    const char *greeting;
    const char *ehlo;               /* full reply, lines joined by \r\n */
    const char *mail;
    const char *rcpt[4];
    const char *data;
    const char *dot[4];             /* SMTP: dot[0]; LMTP: one per accepted rcpt */
} SCRIPT;

static char trace_path[256];

static void
srv_send(int fd, const char *text)
{
    char    buf[2048];
    int     n = snprintf(buf, sizeof(buf), "%s\r\n", text);

    if (write(fd, buf, (size_t) n) < 0)
        _exit(2);
}

/* Read one line up to \n from fd into buf (with the CRLF). */
static ssize_t
srv_line(int fd, char *buf, size_t max)
{
    size_t  n = 0;
    char    c;

    while (n + 1 < max && read(fd, &c, 1) == 1) {
        buf[n++] = c;
        if (c == '\n')
            break;
    }
    buf[n] = 0;
    return (ssize_t) n;
}

static void
srv_session(int fd, const SCRIPT *s)
{
    FILE   *trace = fopen(trace_path, "w");
    char    line[4096];
    int     nrcpt = 0, ndot;

    srv_send(fd, s->greeting);
    while (srv_line(fd, line, sizeof(line)) > 0) {
        fputs(line, trace);
        if (strncasecmp(line, "EHLO", 4) == 0 || strncasecmp(line, "LHLO", 4) == 0)
            srv_send(fd, s->ehlo);
        else if (strncasecmp(line, "HELO", 4) == 0)
            srv_send(fd, "250 server.test");
        else if (strncasecmp(line, "MAIL", 4) == 0)
            srv_send(fd, s->mail);
        else if (strncasecmp(line, "RCPT", 4) == 0)
            srv_send(fd, s->rcpt[nrcpt < 4 ? nrcpt++ : 3]);
        else if (strncasecmp(line, "DATA", 4) == 0) {
            srv_send(fd, s->data);
            if (strncmp(s->data, "354", 3) != 0)
                continue;
            fputs("--DATA--\n", trace);
            while (srv_line(fd, line, sizeof(line)) > 0 && strcmp(line, ".\r\n") != 0)
                fputs(line, trace);
            if (s->dot[0] == NULL)
                break;                  /* hang up instead of answering */
            for (ndot = 0; ndot < 4 && s->dot[ndot]; ndot++)
                srv_send(fd, s->dot[ndot]);
            fputs("--END--\n", trace);
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            srv_send(fd, "221 2.0.0 Bye");
            break;
        } else
            srv_send(fd, "502 5.5.2 Error: command not recognized");
    }
    fclose(trace);
}

/* Start the scripted server; returns its port, *pid the child. */
static int
srv_start(const SCRIPT *s, pid_t *pid)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int     lfd = socket(AF_INET, SOCK_STREAM, 0), fd;
    static char dir[64];

    snprintf(dir, sizeof(dir), "/tmp/test_smtp.XXXXXX");
    if (mkdtemp(dir) == NULL || chdir(dir) < 0)
        return -1;
    snprintf(trace_path, sizeof(trace_path), "%s/trace", dir);

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *) &sin, sizeof(sin)) < 0 || listen(lfd, 5) < 0)
        return -1;
    getsockname(lfd, (struct sockaddr *) &sin, &len);
    if ((*pid = fork()) == 0) {
        alarm(20);
        if ((fd = accept(lfd, NULL, NULL)) >= 0)
            srv_session(fd, s);
        _exit(0);
    }
    close(lfd);
    return ntohs(sin.sin_port);
}

static char *
slurp(const char *path)
{
    static char buf[65536];
    int     fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

    buf[n > 0 ? n : 0] = 0;
    if (fd >= 0)
        close(fd);
    return buf;
}

/* A queue file with the given content lines; fills req. */
static void
setup(DELIVER_REQUEST *req, DELIVER_RCPT *rcpt, int nrcpt, const char *nexthop, int lmtp)
{
    STREAM *s;
    static const char *body[] = {"Subject: test", "", "line one", ".", "..two dots",
                                 "8bit: \xc3\xa4\xc3\xb6", ".end", NULL};
    int     i;

    s = stream_open("qf", O_CREAT | O_RDWR | O_TRUNC, 0600);
    for (i = 0; body[i]; i++)
        rec_puts(s, REC_TYPE_NORM, body[i]);
    rec_puts(s, REC_TYPE_CONT, "piece");
    rec_puts(s, REC_TYPE_NORM, "s");
    rec_puts(s, REC_TYPE_XTRA, "");
    rec_puts(s, REC_TYPE_END, "");
    stream_close(s);

    memset(req, 0, sizeof(*req));
    req->queue_name = "active";
    req->queue_id = "ABC123";
    req->offset = 0;
    req->size = 120;
    req->sender = "sender@example.org";
    req->nexthop = (char *) nexthop;
    req->encoding = "8bitmime";
    req->dsn_envid = "env+id";
    req->dsn_ret = DSN_RET_HDRS;
    req->rcpt_count = nrcpt;
    req->rcpt = rcpt;
    req->arrival_time = req->active_time = req->agent_time = deliver_now();
    req->fp = stream_open("qf", O_RDONLY, 0);
    for (i = 0; i < nrcpt; i++)
        rcpt[i].status = -1;

    config_reset();
    config_load_text("myhostname = client.example.test\ninet_interfaces = 127.0.0.1\n"
                     "smtp_connect_timeout = 5s\nsmtp_helo_timeout = 5s\n", "test");
    mail_params_init();
    msg_init("smtp", MSG_STDERR | MSG_NOSYSLOG);
    smtp_params_init(lmtp);
}

/*
 * Deliver the nrcpt recipients in rcpt (lmtp as in setup()) to a server
 * that follows script s; kill_server: stop it then (it would wait for
 * more), else it ends by itself.
 */
static void
deliver_to(const SCRIPT *s, DELIVER_RCPT *rcpt, int nrcpt, int lmtp, int kill_server)
{
    DELIVER_REQUEST req;
    char    nexthop[64];
    pid_t   pid;
    int     port = srv_start(s, &pid);

    snprintf(nexthop, sizeof(nexthop), "[127.0.0.1]:%d", port);
    setup(&req, rcpt, nrcpt, nexthop, lmtp);
    smtp_deliver(&req);
    if (kill_server)
        kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

static const char *content =
    "Subject: test\r\n\r\nline one\r\n..\r\n...two dots\r\n8bit: \xc3\xa4\xc3\xb6\r\n"
    "..end\r\npieces\r\n";

UNIT_TEST(test_session_pipelining)
{
    SCRIPT  s = {"220 server.test ESMTP",
        "250-server.test\r\n250-PIPELINING\r\n250-SIZE 100000\r\n250-8BITMIME\r\n250 DSN",
        "250 2.1.0 Ok", {"250 2.1.5 Ok", "250 2.1.5 Ok"}, "354 End data with <CR><LF>.<CR><LF>",
        {"250 2.0.0 Ok: queued as XYZ"}};
    DELIVER_RCPT rcpt[2] = {{.address = "a@remote.test", .orig_rcpt = "",
                             .dsn_notify = DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE,
                             .dsn_orcpt = "rfc822;A+x@remote.test"},
                            {.address = "b@remote.test", .orig_rcpt = "", .dsn_orcpt = ""}};
    char   *trace;

    deliver_to(&s, rcpt, 2, 0, 0);
    CHECK_INT(rcpt[0].status, DELIVER_SENT);
    CHECK_INT(rcpt[1].status, DELIVER_SENT);
    CHECK_STR(rcpt[0].dsn, "2.0.0");
    CHECK_STR(rcpt[0].reason, "250 2.0.0 Ok: queued as XYZ");
    trace = slurp(trace_path);
    CHECK(strstr(trace, "EHLO client.example.test\r\n") != NULL);
    CHECK(strstr(trace, "MAIL FROM:<sender@example.org> SIZE=120 BODY=8BITMIME RET=HDRS ENVID=env+2Bid\r\n") != NULL);
    CHECK(strstr(trace, "RCPT TO:<a@remote.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;A+2Bx@remote.test\r\n") != NULL);
    CHECK(strstr(trace, "RCPT TO:<b@remote.test>\r\nDATA\r\n") != NULL);
    CHECK(strstr(trace, "--DATA--\n") != NULL);
    if (strstr(trace, "--DATA--\n"))
        CHECK(strncmp(strstr(trace, "--DATA--\n") + 9, content, strlen(content)) == 0);
    CHECK(strstr(trace, "pieces\r\n--END--\nQUIT\r\n") != NULL);
}

UNIT_TEST(test_session_rcpt_reject)
{
    SCRIPT  s = {"220 server.test ESMTP", "250-server.test\r\n250 8BITMIME",
        "250 2.1.0 Ok", {"550 5.1.1 <a@remote.test>: Recipient address rejected: User unknown",
                         "452 4.2.2 Mailbox full", "250 Ok"},
        "354 go", {"250 2.0.0 Ok: queued as Q1"}};
    DELIVER_RCPT rcpt[3] = {{.address = "a@remote.test"}, {.address = "b@remote.test"},
                            {.address = "c@remote.test"}};
    char   *trace;

    deliver_to(&s, rcpt, 3, 0, 0);
    CHECK_INT(rcpt[0].status, DELIVER_BOUNCE);
    CHECK_STR(rcpt[0].dsn, "5.1.1");
    CHECK_STR(rcpt[0].reason, "host 127.0.0.1[127.0.0.1] said: 550 5.1.1 <a@remote.test>: "
              "Recipient address rejected: User unknown (in reply to RCPT TO command)");
    CHECK_INT(rcpt[1].status, DELIVER_DEFER);
    CHECK_STR(rcpt[1].dsn, "4.2.2");
    CHECK_INT(rcpt[2].status, DELIVER_SENT);
    trace = slurp(trace_path);
    /* no PIPELINING, no SIZE, no DSN: plain commands */
    CHECK(strstr(trace, "MAIL FROM:<sender@example.org> BODY=8BITMIME\r\n") != NULL);
    CHECK(strstr(trace, "RCPT TO:<c@remote.test>\r\nDATA\r\n") != NULL);
}

UNIT_TEST(test_session_all_rejected)
{
    SCRIPT  s = {"220 server.test ESMTP", "250 server.test", "250 2.1.0 Ok",
        {"554 5.7.1 <a@remote.test>: Relay access denied"}, "503 5.5.1 no valid recipients", {0}};
    DELIVER_RCPT rcpt[1] = {{.address = "a@remote.test"}};
    char   *trace;

    deliver_to(&s, rcpt, 1, 0, 0);
    CHECK_INT(rcpt[0].status, DELIVER_BOUNCE);
    CHECK_STR(rcpt[0].dsn, "5.7.1");
    trace = slurp(trace_path);
    CHECK(strstr(trace, "DATA") == NULL);
    CHECK(strstr(trace, "QUIT") != NULL);
}

UNIT_TEST(test_session_greeting_4xx)
{
    SCRIPT  s = {"421 4.3.2 Service shutting down", "", "", {0}, "", {0}};
    DELIVER_RCPT rcpt[1] = {{.address = "a@remote.test"}};

    deliver_to(&s, rcpt, 1, 0, 1);
    CHECK_INT(rcpt[0].status, DELIVER_DEFER);
    CHECK_STR(rcpt[0].dsn, "4.3.2");
    CHECK_STR(rcpt[0].reason, "host 127.0.0.1[127.0.0.1] refused to talk to me: "
              "421 4.3.2 Service shutting down");
}

UNIT_TEST(test_session_refused)
{
    DELIVER_RCPT rcpt[1] = {{.address = "a@remote.test"}};
    DELIVER_REQUEST req;
    char    nexthop[64], want[128];
    int     port, fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    /* a port nobody listens on: bind, read the port, close */
    CHECK(chdir("/tmp") == 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *) &sin, sizeof(sin));
    getsockname(fd, (struct sockaddr *) &sin, &len);
    port = ntohs(sin.sin_port);
    close(fd);
    snprintf(nexthop, sizeof(nexthop), "[127.0.0.1]:%d", port);
    setup(&req, rcpt, 1, nexthop, 0);
    smtp_deliver(&req);
    CHECK_INT(rcpt[0].status, DELIVER_DEFER);
    CHECK_STR(rcpt[0].dsn, "4.4.1");
    snprintf(want, sizeof(want), "connect to 127.0.0.1[127.0.0.1]:%d: Connection refused", port);
    CHECK_STR(rcpt[0].reason, want);
}

UNIT_TEST(test_session_lost)
{
    SCRIPT  s = {"220 server.test ESMTP", "250 server.test", "250 2.1.0 Ok",
        {"250 Ok"}, "354 go", {0}};     /* no reply after the dot: EOF */
    DELIVER_RCPT rcpt[1] = {{.address = "a@remote.test"}};

    deliver_to(&s, rcpt, 1, 0, 0);
    CHECK_INT(rcpt[0].status, DELIVER_DEFER);
    CHECK_STR(rcpt[0].reason, "lost connection with 127.0.0.1[127.0.0.1] while sending end "
              "of data -- message may be sent more than once");
}

UNIT_TEST(test_session_helo_loop)
{
    SCRIPT  s = {"220 x ESMTP", "250 client.example.test", "", {0}, "", {0}};
    DELIVER_RCPT rcpt[1] = {{.address = "a@remote.test"}};

    deliver_to(&s, rcpt, 1, 0, 1);
    CHECK_INT(rcpt[0].status, DELIVER_BOUNCE);
    CHECK_STR(rcpt[0].dsn, "5.4.6");
}

UNIT_TEST(test_session_lmtp)
{
    SCRIPT  s = {"220 lmtp.test LMTP", "250-lmtp.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES",
        "250 2.1.0 Ok", {"250 2.1.5 Ok", "550 5.1.1 <b@x.test> User doesn't exist", "250 2.1.5 Ok"},
        "354 go", {"250 2.0.0 <a@x.test> Saved", "452 4.2.2 <c@x.test> Quota exceeded"}};
    DELIVER_RCPT rcpt[3] = {{.address = "a@x.test"}, {.address = "b@x.test"},
                            {.address = "c@x.test"}};
    DELIVER_REQUEST req;
    char    nexthop[64];
    pid_t   pid;
    int     port;
    char   *trace;

    port = srv_start(&s, &pid);
    snprintf(nexthop, sizeof(nexthop), "inet:127.0.0.1:%d", port);
    setup(&req, rcpt, 3, nexthop, 1);
    smtp_deliver(&req);
    waitpid(pid, NULL, 0);
    CHECK_INT(rcpt[0].status, DELIVER_SENT);
    CHECK_STR(rcpt[0].reason, "250 2.0.0 <a@x.test> Saved");
    CHECK_INT(rcpt[1].status, DELIVER_BOUNCE);
    CHECK_INT(rcpt[2].status, DELIVER_DEFER);
    CHECK_STR(rcpt[2].reason, "host 127.0.0.1[127.0.0.1] said: 452 4.2.2 <c@x.test> Quota "
              "exceeded (in reply to end of DATA command)");
    trace = slurp(trace_path);
    CHECK(strstr(trace, "LHLO client.example.test\r\n") != NULL);
    CHECK(strstr(trace, "QUIT\r\n") != NULL);
}

/* XFORWARD commands: Postfix's grouping, xtext, IPv6:, unknown left out,
 * only offered attributes, 512 bytes at most per command. */
UNIT_TEST(test_xforward_cmds)
{
    DELIVER_REQUEST req;
    ARGV   *cmds = argv_alloc(), *what = argv_alloc();
    char    helo[300];
    SMTP_REPLY *r = smtp_reply_alloc();
    int     all;

    smtp_reply_add_line(r, "250-sink.test", 13);
    smtp_reply_add_line(r, "250 XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT", 51);
    all = smtp_xforward_attrs(r);
    CHECK_INT(all, 0x7f);
    memset(&req, 0, sizeof(req));
    req.client_name = "unknown";
    req.client_addr = "2001:db8::5";
    req.client_port = "";
    req.client_proto = "ESMTP";
    req.client_helo = "h+x=y z";
    req.log_ident = "ABCDEF";
    req.rewrite_context = "remote";
    smtp_xforward_cmds(&req, all, cmds, what);
    CHECK_INT((int) cmds->argc, 2);
    CHECK_STR(cmds->argv[0], "XFORWARD ADDR=IPv6:2001:db8::5");
    CHECK_STR(what->argv[0], "XFORWARD name/address command");
    CHECK_STR(cmds->argv[1], "XFORWARD PROTO=ESMTP HELO=h+2Bx+3Dy+20z IDENT=ABCDEF SOURCE=REMOTE");
    CHECK_STR(what->argv[1], "XFORWARD helo/protocol command");
    /* a long HELO goes in a command of its own; none is over 512 bytes */
    argv_free(cmds);
    argv_free(what);
    cmds = argv_alloc();
    what = argv_alloc();
    memset(helo, 'h', 255);
    helo[255] = 0;
    req.client_helo = helo;
    req.client_proto = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    smtp_xforward_cmds(&req, all & ~SMTP_XFWD_ADDR, cmds, what);
    CHECK_INT((int) cmds->argc, 2);
    for (size_t i = 0; i < cmds->argc; i++)
        CHECK(strlen(cmds->argv[i]) + 2 <= 512);
    CHECK_STR(what->argv[1], "XFORWARD helo/protocol command");
    argv_free(cmds);
    argv_free(what);
    smtp_reply_free(r);
}

UNIT_TESTS {
    {"test_session_pipelining", test_session_pipelining},
    {"test_session_rcpt_reject", test_session_rcpt_reject},
    {"test_session_all_rejected", test_session_all_rejected},
    {"test_session_greeting_4xx", test_session_greeting_4xx},
    {"test_session_refused", test_session_refused},
    {"test_session_lost", test_session_lost},
    {"test_session_helo_loop", test_session_helo_loop},
    {"test_session_lmtp", test_session_lmtp},
    {"test_xforward_cmds", test_xforward_cmds},
    UNIT_END
};
