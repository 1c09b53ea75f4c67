/*
 * test_rewrite_clnt.c - unit tests for lib/global/rewrite_clnt.c against a
 * small forked trivial-rewrite (private/rewrite in a temporary directory)
 * whose answers carry a request counter, under a clock the test sets.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "connect.h"
#include "mail_proto.h"
#include "rewrite_clnt.h"
#include "unit.h"

/* The clock rewrite_clnt.c sees: this replaces libc's time(). */
static time_t fake_now = 1000000;

time_t
time(time_t *t)
{
    if (t != NULL)
        *t = fake_now;
    return fake_now;
}

/* Answer every request with the request number in it, until killed. */
static void
serve(int lfd)
{
    ATTR_LIST *req = attr_list_alloc(), *rep = attr_list_alloc();
    int     fd, n = 0;

    while ((fd = accept(lfd, NULL, NULL)) >= 0) {
        STREAM *s = stream_fdopen(fd);

        stream_set_timeout(s, 5);
        attr_send_protocol(s, PROTO_REWRITE);
        while (attr_read(s, req) == 1) {
            attr_list_reset(rep);
            attr_add(rep, ATTR_FLAGS, "0");
            if (strcmp(attr_get(req, ATTR_REQUEST), "rewrite") == 0) {
                attr_addf(rep, ATTR_ADDRESS, "%s/%s#%d", attr_get(req, ATTR_RULE),
                          attr_get(req, ATTR_ADDRESS), ++n);
            } else {
                attr_add(rep, ATTR_TRANSPORT, "smtp");
                attr_addf(rep, ATTR_NEXTHOP, "%s#%d", attr_get(req, ATTR_SENDER), ++n);
                attr_add(rep, ATTR_RECIPIENT, attr_get(req, ATTR_ADDRESS));
            }
            attr_write(s, rep);
        }
        stream_close(s);
    }
    _exit(0);
}

/* rewrite_clnt(rule, addr) */
static const char *
rw(const char *rule, const char *addr)
{
    static VSTRING *out;

    if (out == NULL)
        out = vstring_alloc(100);
    if (rewrite_clnt(rule, addr, out) != 0)
        return "(failed)";
    return STR(out);
}

/* resolve_clnt(sender, addr): the nexthop */
static const char *
rs(const char *sender, const char *addr)
{
    static RESOLVE_REPLY reply;

    if (reply.transport == NULL)
        resolve_reply_init(&reply);
    if (resolve_clnt(sender, addr, &reply) != 0)
        return "(failed)";
    return STR(reply.nexthop);
}

static char test_dir[64];               /* mkdtemp() fills in the template */
static char test_cwd[1024];
static pid_t server_pid;

/* A fresh service in a temporary directory (its counter starts at 1). */
static void
service_start(void)
{
    int     lfd;

    snprintf(test_dir, sizeof(test_dir), "/tmp/test_rewrite_clnt.%s", "XXXXXX");
    if (mkdtemp(test_dir) == NULL || getcwd(test_cwd, sizeof(test_cwd)) == NULL
        || chdir(test_dir) < 0)
        abort();
    mkdir(MAIL_CLASS_PRIVATE, 0755);
    if ((lfd = unix_listen(MAIL_CLASS_PRIVATE "/" SERVICE_REWRITE, 10, 0666)) < 0)
        abort();
    if ((server_pid = fork()) == 0)
        serve(lfd);
    close(lfd);
}

static void
service_stop(void)
{
    kill(server_pid, SIGTERM);
    waitpid(server_pid, NULL, 0);
    unlink(MAIL_CLASS_PRIVATE "/" SERVICE_REWRITE);
    rmdir(MAIL_CLASS_PRIVATE);
    if (chdir(test_cwd) < 0)
        abort();
    rmdir(test_dir);
}

/*
 * Answers are reused for the same question within 30 seconds (as
 * Postfix's clients do, but more than the last one of each request
 * type); an empty address or an older answer goes to the service.
 */
UNIT_TEST(test_answers_kept)
{
    service_start();
    CHECK_STR(rw("local", "a@x"), "local/a@x#1");
    CHECK_STR(rw("local", "a@x"), "local/a@x#1");       /* kept */
    CHECK_STR(rs("s@y", "a@x"), "s@y#2");
    CHECK_STR(rs("s@y", "a@x"), "s@y#2");               /* kept, apart from rewrite's */
    CHECK_STR(rw("local", "a@x"), "local/a@x#1");
    CHECK_STR(rw("remote", "a@x"), "remote/a@x#3");     /* another rule */
    CHECK_STR(rw("local", "a@x"), "local/a@x#1");       /* both kept (cleanup's sender */
    CHECK_STR(rw("remote", "a@x"), "remote/a@x#3");     /* and recipient, alternately) */
    CHECK_STR(rs("t@y", "a@x"), "t@y#4");               /* another sender */
    CHECK_STR(rs("s@y", "a@x"), "s@y#2");
    CHECK_STR(rw("local", ""), "local/#5");
    CHECK_STR(rw("local", ""), "local/#6");             /* empty: never kept */
    CHECK_STR(rw("local", "b@x"), "local/b@x#7");
    fake_now += 29;
    CHECK_STR(rw("local", "b@x"), "local/b@x#7");
    fake_now += 1;
    CHECK_STR(rw("local", "b@x"), "local/b@x#8");       /* 30 seconds: asked again */
    CHECK_STR(rw("local", "a@x"), "local/a@x#9");
    service_stop();
}

/* Eight answers per request type; a ninth question makes room by
 * dropping the least recently used one. */
UNIT_TEST(test_least_recently_used_dropped)
{
    char    addr[32], want[64];
    int     i;

    fake_now += 100;                                    /* all older answers expired */
    service_start();
    for (i = 0; i < 8; i++) {
        snprintf(addr, sizeof(addr), "c%d@z", i);
        snprintf(want, sizeof(want), "local/%s#%d", addr, i + 1);
        CHECK_STR(rw("local", addr), want);
    }
    CHECK_STR(rw("local", "c0@z"), "local/c0@z#1");     /* c0 used again: c1 is the oldest */
    CHECK_STR(rw("local", "c8@z"), "local/c8@z#9");
    for (i = 2; i < 9; i++) {
        snprintf(addr, sizeof(addr), "c%d@z", i);
        snprintf(want, sizeof(want), "local/%s#%d", addr, i + 1);
        CHECK_STR(rw("local", addr), want);             /* still kept */
    }
    CHECK_STR(rw("local", "c0@z"), "local/c0@z#1");
    CHECK_STR(rw("local", "c1@z"), "local/c1@z#10");    /* dropped: asked again */
    CHECK_STR(rs("s@y", "c1@z"), "s@y#11");             /* resolve has its own eight */
    service_stop();
}

UNIT_TESTS {
    {"answers_kept", test_answers_kept},
    {"least_recently_used_dropped", test_least_recently_used_dropped},
    UNIT_END
};
