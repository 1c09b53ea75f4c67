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

/*
 * The last answer of each request type is reused for the same question
 * within 30 seconds (as Postfix's clients do); another question, an
 * empty address or an older answer goes to the service.
 */
UNIT_TEST(test_last_answer_kept)
{
    char    dir[] = "/tmp/test_rewrite_clnt.XXXXXX";
    char    cwd[1024];
    int     lfd;
    pid_t   pid;

    if (mkdtemp(dir) == NULL || getcwd(cwd, sizeof(cwd)) == NULL || chdir(dir) < 0)
        abort();
    mkdir(MAIL_CLASS_PRIVATE, 0755);
    if ((lfd = unix_listen(MAIL_CLASS_PRIVATE "/" SERVICE_REWRITE, 10, 0666)) < 0)
        abort();
    if ((pid = fork()) == 0)
        serve(lfd);
    close(lfd);

    CHECK_STR(rw("local", "a@x"), "local/a@x#1");
    CHECK_STR(rw("local", "a@x"), "local/a@x#1");       /* kept */
    CHECK_STR(rs("s@y", "a@x"), "s@y#2");
    CHECK_STR(rs("s@y", "a@x"), "s@y#2");               /* kept, apart from rewrite's */
    CHECK_STR(rw("local", "a@x"), "local/a@x#1");
    CHECK_STR(rw("remote", "a@x"), "remote/a@x#3");     /* another rule */
    CHECK_STR(rw("local", "a@x"), "local/a@x#4");       /* one answer kept, not two */
    CHECK_STR(rs("t@y", "a@x"), "t@y#5");               /* another sender */
    CHECK_STR(rw("local", ""), "local/#6");
    CHECK_STR(rw("local", ""), "local/#7");             /* empty: never kept */
    CHECK_STR(rw("local", "b@x"), "local/b@x#8");
    fake_now += 29;
    CHECK_STR(rw("local", "b@x"), "local/b@x#8");
    fake_now += 1;
    CHECK_STR(rw("local", "b@x"), "local/b@x#9");       /* 30 seconds: asked again */

    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(MAIL_CLASS_PRIVATE "/" SERVICE_REWRITE);
    rmdir(MAIL_CLASS_PRIVATE);
    if (chdir(cwd) < 0)
        abort();
    rmdir(dir);
}

UNIT_TESTS {
    {"last_answer_kept", test_last_answer_kept},
    UNIT_END
};
