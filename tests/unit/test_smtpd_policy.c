/*
 * test_smtpd_policy.c - unit tests for smtpd_policy.c: endpoint names,
 * the request text, reply parsing (bounded, strict), and whole queries
 * against a small policy server in a child process: connection reuse, a
 * server that closed the kept connection, an unreachable server (the
 * default action), a server that answers nonsense.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "connect.h"
#include "unit.h"
#include "../../smtpd/smtpd_policy.c"
#include "../../smtpd/smtpd_params.c"
#include "../../smtpd/smtpd_milter.c"
void smtpd_chat_log_action(SMTPD_STATE *s, const char *a, const char *t) { (void) s; (void) a; (void) t; }

UNIT_TEST(test_endpoint)
{
    int     is_unix = -1;

    CHECK_STR(smtpd_policy_endpoint("inet:127.0.0.1:9998", &is_unix), "127.0.0.1:9998");
    CHECK_INT(is_unix, 0);
    CHECK_STR(smtpd_policy_endpoint("unix:private/policy", &is_unix), "private/policy");
    CHECK_INT(is_unix, 1);
    CHECK_STR(smtpd_policy_endpoint("unix:/run/p.sock", &is_unix), "/run/p.sock");
    CHECK_INT(is_unix, 1);
    CHECK_STR(smtpd_policy_endpoint("localhost:10040", &is_unix), "localhost:10040");
    CHECK_INT(is_unix, 0);
    CHECK_STR(smtpd_policy_endpoint("private/policy", &is_unix), "private/policy");
    CHECK_INT(is_unix, 1);
}

/* The parameters as smtpd reads them at start (after any config_load_text). */
static void
fill_state(SMTPD_STATE *state)
{
    smtpd_params_init();
    memset(state, 0, sizeof(*state));
    state->where = "RCPT";
    state->protocol = "ESMTP";
    state->helo_name = "client.example";
    state->sender = "a@example.com";
    state->cur_rcpt = "b@example.net";
    state->rcpt_count = 1;
    state->addr = "192.0.2.7";
    state->name = "unknown";
    state->reverse_name = "host.example";
    state->port = "40000";
    state->msg_size = -1;
}

UNIT_TEST(test_request)
{
    SMTPD_STATE state;
    VSTRING *req = vstring_alloc(VSTRING_UNLIMITED);

    fill_state(&state);
    smtpd_policy_request(&state, "1.2.3.4", req);
    CHECK_STR(STR(req),
              "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
              "helo_name=client.example\nqueue_id=\nsender=a@example.com\n"
              "recipient=b@example.net\nrecipient_count=1\nclient_address=192.0.2.7\n"
              "client_name=unknown\nreverse_client_name=host.example\ninstance=1.2.3.4\n"
              "sasl_method=\nsasl_username=\nsasl_sender=\nsize=0\nccert_subject=\n"
              "ccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n"
              "encryption_protocol=\nencryption_cipher=\nencryption_keysize=0\n"
              "etrn_domain=\nstress=\nclient_port=40000\npolicy_context=\n"
              "server_address=\nserver_port=\n\n");
    /* a newline in a client value cannot start a new attribute */
    state.helo_name = "x\nrequest=evil";
    state.where = "END-OF-MESSAGE";
    state.act_size = 1234;
    smtpd_policy_request(&state, "1", req);
    CHECK(strstr(STR(req), "\nhelo_name=x request=evil\n") != NULL);
    CHECK(strstr(STR(req), "\nsize=1234\n") != NULL);
    CHECK(strstr(STR(req), "\nrequest=evil") == NULL);
    vstring_free(req);
}

/* Feed text to smtpd_policy_read_reply through a socket pair. */
static int
read_reply_from(const char *text, VSTRING *action, int *err)
{
    int     sv[2], ret;
    STREAM *s;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return -2;
    if (write(sv[1], text, strlen(text)) != (ssize_t) strlen(text))
        return -2;
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 5);
    ret = smtpd_policy_read_reply(s, action);
    *err = errno;
    stream_close(s);
    return ret;
}

UNIT_TEST(test_reply)
{
    VSTRING *action = vstring_alloc(1024);
    VSTRING *big = vstring_alloc(VSTRING_UNLIMITED);
    int     err;

    CHECK_INT(read_reply_from("action=REJECT go away\n\n", action, &err), 0);
    CHECK_STR(STR(action), "REJECT go away");
    CHECK_INT(read_reply_from("foo=bar\r\naction=DUNNO\r\n\r\n", action, &err), 0);
    CHECK_STR(STR(action), "DUNNO");
    CHECK_INT(read_reply_from("foo=bar\n\n", action, &err), -1);     /* no action */
    CHECK_INT(err, EPROTO);
    CHECK_INT(read_reply_from("action=OK\n", action, &err), -1);     /* no empty line */
    CHECK_INT(err, ECONNRESET);
    CHECK_INT(read_reply_from("", action, &err), -1);
    vstring_strcpy(big, "action=");
    for (int i = 0; i < SMTPD_POLICY_LINE_MAX; i++)
        vstring_addch(big, 'x');
    vstring_cat(big, "\n\n");
    CHECK_INT(read_reply_from(STR(big), action, &err), -1);          /* overlong */
    CHECK_INT(err, EPROTO);
    vstring_reset(big);
    for (int i = 0; i < SMTPD_POLICY_ATTR_MAX + 5; i++)
        vstring_cat(big, "a=b\n");
    vstring_cat(big, "action=OK\n\n");
    CHECK_INT(read_reply_from(STR(big), action, &err), -1);          /* too many lines */
    vstring_free(big);
    vstring_free(action);
}

/*
 * A policy server for one test: answers "REJECT <conn#>" for
 * sender=bad@example.com, "DUNNO <conn#>" otherwise; with close_after,
 * it closes each connection after that many replies; with junk, it
 * answers without an action.
 */
static void
policy_server(int lfd, int close_after, int junk)
{
    int     conn = 0;

    for (;;) {
        int     fd = accept(lfd, NULL, NULL);
        STREAM *s;
        VSTRING *line = vstring_alloc(4096);
        int     bad = 0, replies = 0;

        if (fd < 0)
            _exit(1);
        conn++;
        s = stream_fdopen(fd);
        while (stream_gets(s, line, 4096) > 0) {
            if (strcmp(STR(line), "sender=bad@example.com\n") == 0)
                bad = 1;
            if (strcmp(STR(line), "\n") != 0)
                continue;
            if (junk)
                stream_printf(s, "hello=world\n\n");
            else
                stream_printf(s, "action=%s %d\n\n", bad ? "REJECT" : "DUNNO", conn);
            stream_flush(s);
            bad = 0;
            if (close_after && ++replies >= close_after)
                break;
        }
        stream_close(s);
        vstring_free(line);
    }
}

static pid_t
start_server(const char *path, int close_after, int junk)
{
    int     lfd;
    pid_t   pid;

    unlink(path);
    lfd = unix_listen(path, 10, 0600);
    if (lfd < 0)
        return -1;
    if ((pid = fork()) == 0)
        policy_server(lfd, close_after, junk);
    close(lfd);
    return pid;
}

static void
stop_server(pid_t pid, const char *path)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    unlink(path);
}

/* One policy query test: a socket path of this process, its endpoint, a
 * session, and the action buffer. */
typedef struct QUERY {
    char    path[64];
    char   *endpoint;
    SMTPD_STATE state;
    VSTRING *action;
} QUERY;

static void
query_init(QUERY *q)
{
    snprintf(q->path, sizeof(q->path), "/tmp/test_policy.%ld", (long) getpid());
    q->endpoint = mem_printf("unix:%s", q->path);
    q->action = vstring_alloc(1024);
    fill_state(&q->state);
}

static void
query_free(QUERY *q)
{
    mem_free(q->endpoint);
    vstring_free(q->action);
}

UNIT_TEST(test_query_reuse)
{
    QUERY   q;
    pid_t   pid;

    query_init(&q);
    CHECK((pid = start_server(q.path, 0, 0)) > 0);
    CHECK_INT(smtpd_policy_query(&q.state, q.endpoint, q.action), 0);
    CHECK_STR(STR(q.action), "DUNNO 1");
    q.state.sender = "bad@example.com";
    CHECK_INT(smtpd_policy_query(&q.state, q.endpoint, q.action), 0);
    CHECK_STR(STR(q.action), "REJECT 1");       /* the same connection */
    stop_server(pid, q.path);
    query_free(&q);
}

UNIT_TEST(test_query_server_closed)
{
    QUERY   q;
    pid_t   pid;

    config_load_text("smtpd_policy_service_retry_delay = 0s\n", "test");
    query_init(&q);
    CHECK((pid = start_server(q.path, 1, 0)) > 0);
    CHECK_INT(smtpd_policy_query(&q.state, q.endpoint, q.action), 0);
    CHECK_STR(STR(q.action), "DUNNO 1");
    usleep(100000);
    CHECK_INT(smtpd_policy_query(&q.state, q.endpoint, q.action), 0);
    CHECK_STR(STR(q.action), "DUNNO 2");        /* reconnected */
    stop_server(pid, q.path);
    query_free(&q);
}

UNIT_TEST(test_query_failures)
{
    QUERY   q;
    pid_t   pid;

    config_load_text("smtpd_policy_service_retry_delay = 0s\n"
                     "smtpd_policy_service_default_action = DEFER_IF_PERMIT no policy\n", "test");
    query_init(&q);
    unlink(q.path);
    CHECK_INT(smtpd_policy_query(&q.state, q.endpoint, q.action), -1);
    CHECK_STR(STR(q.action), "DEFER_IF_PERMIT no policy");
    CHECK((pid = start_server(q.path, 0, 1)) > 0);
    CHECK_INT(smtpd_policy_query(&q.state, q.endpoint, q.action), -1);
    CHECK_STR(STR(q.action), "DEFER_IF_PERMIT no policy");
    stop_server(pid, q.path);
    query_free(&q);
}

UNIT_TEST(test_instance)
{
    SMTPD_STATE a, b;
    char    first[64];

    fill_state(&a);
    fill_state(&b);
    smtpd_policy_reset(&a);
    snprintf(first, sizeof(first), "%s", policy_instance_id(&a));
    CHECK_STR(policy_instance_id(&a), first);   /* same message */
    CHECK(strcmp(policy_instance_id(&b), first) != 0);      /* another session */
    smtpd_policy_reset(&b);
    CHECK_STR(policy_instance_id(&a), first);   /* b's reset is not a's */
    smtpd_policy_reset(&a);
    CHECK(strcmp(policy_instance_id(&a), first) != 0);
}

UNIT_TESTS {
    {"endpoint", test_endpoint},
    {"request", test_request},
    {"reply", test_reply},
    {"query_reuse", test_query_reuse},
    {"query_server_closed", test_query_server_closed},
    {"query_failures", test_query_failures},
    {"instance", test_instance},
    UNIT_END
};
