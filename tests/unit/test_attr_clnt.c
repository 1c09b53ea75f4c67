/*
 * test_attr_clnt.c - unit tests for lib/util/attr_clnt.c: a kept-open
 * client connection against a small forked service on a UNIX socket in
 * /tmp (greets with {protocol=test}, echoes "value", hangs up on "bye").
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attr_clnt.h"
#include "connect.h"
#include "unit.h"

static char dir[64];
static char path[128];

/* Serve connections one at a time until killed. */
static void
serve(int lfd)
{
    ATTR_LIST *req = attr_list_alloc(), *rep = attr_list_alloc();
    int     fd;

    while ((fd = accept(lfd, NULL, NULL)) >= 0) {
        STREAM *s = stream_fdopen(fd);

        stream_set_timeout(s, 5);
        attr_send_protocol(s, "test");
        while (attr_read(s, req) == 1 && attr_get(req, "value") != NULL
               && strcmp(attr_get(req, "value"), "bye") != 0) {
            attr_list_reset(rep);
            attr_add(rep, "echo", attr_get(req, "value"));
            attr_write(s, rep);
        }
        stream_close(s);
    }
    _exit(0);
}

static pid_t
start_service(void)
{
    pid_t   pid;
    int     lfd;

    snprintf(dir, sizeof(dir), "/tmp/test_attr_clnt.XXXXXX");
    if (mkdtemp(dir) == NULL)
        abort();
    snprintf(path, sizeof(path), "%s/sock", dir);
    if ((lfd = unix_listen(path, 10, 0666)) < 0)
        abort();
    if ((pid = fork()) == 0)
        serve(lfd);
    close(lfd);
    return pid;
}

static void
stop_service(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(path);
    rmdir(dir);
}

/* One request with value; the echo, or NULL when the exchange failed. */
static const char *
ask(ATTR_CLNT *c, const char *value, ATTR_LIST *rep)
{
    ATTR_LIST *req = attr_list_alloc();
    int     rc;

    attr_add(req, "value", value);
    rc = attr_clnt_exchange(c, req, rep);
    attr_list_free(req);
    return rc == 0 ? attr_get(rep, "echo") : NULL;
}

UNIT_TEST(test_exchange_and_reconnect)
{
    pid_t   pid = start_service();
    ATTR_CLNT c = ATTR_CLNT_INIT(path, "test");
    ATTR_LIST *rep = attr_list_alloc();

    CHECK(ask(&c, "early", rep) == NULL);               /* not connected */
    CHECK_INT(attr_clnt_open(&c, 5), 0);
    CHECK(c.fresh);
    CHECK_STR(ask(&c, "one", rep), "one");             /* greeting checked */
    CHECK(!c.fresh);
    CHECK_STR(ask(&c, "two", rep), "two");             /* same connection */
    CHECK(ask(&c, "bye", rep) == NULL);                 /* service hung up */
    CHECK(c.stream == NULL);
    CHECK_INT(attr_clnt_open(&c, 5), 0);
    CHECK_STR(ask(&c, "three", rep), "three");
    attr_clnt_close(&c);
    CHECK(c.stream == NULL);
    attr_clnt_close(&c);                                /* closing twice is fine */
    attr_list_free(rep);
    stop_service(pid);
}

UNIT_TEST(test_wrong_protocol_and_no_service)
{
    pid_t   pid = start_service();
    ATTR_CLNT c = ATTR_CLNT_INIT(path, "other");
    ATTR_LIST *rep = attr_list_alloc();

    CHECK_INT(attr_clnt_open(&c, 5), 0);
    CHECK(ask(&c, "one", rep) == NULL);                 /* {protocol=test}: refused */
    CHECK(c.stream == NULL);
    stop_service(pid);
    CHECK_INT(attr_clnt_open(&c, 1), -1);               /* nobody listens */
    CHECK(c.stream == NULL);
    attr_list_free(rep);
}

UNIT_TESTS {
    {"test_exchange_and_reconnect", test_exchange_and_reconnect},
    {"test_wrong_protocol_and_no_service", test_wrong_protocol_and_no_service},
    UNIT_END
};
