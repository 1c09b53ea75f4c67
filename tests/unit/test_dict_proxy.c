/*
 * test_dict_proxy.c - the proxy: table type against the proxymap service
 * code (proxymap/proxymap_service.c, included), run in a forked server
 * on the socket "private/proxymap" of a scratch directory.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../proxymap/proxymap_service.c"
#include "config.h"
#include "connect.h"
#include "unit.h"

static char scratch[] = "/tmp/test_dict_proxy.XXXXXX";
static char table[256], other[256];

static char wtable[256];

/* The proxymap role approving $local_recipient_maps and t, or (write)
 * the proxywrite role approving w. */
static void
proxy_serve(int lfd, int write)
{
    char    cf[1024];
    STREAM *s;
    int     fd;

    snprintf(cf, sizeof(cf), "proxy_read_maps = $local_recipient_maps %s\n"
             "local_recipient_maps = proxy:unix:passwd.byname\n"
             "proxy_write_maps = %s\n", table, wtable);
    msg_init("proxymap", MSG_STDERR | MSG_NOSYSLOG);
    config_reset();
    config_load_text(cf, "test");
    proxymap_init(write);
    while ((fd = accept(lfd, NULL, NULL)) >= 0) {
        s = stream_fdopen(fd);
        if (proxymap_greet(s) == 0)
            while (proxymap_service(s) == 0)
                 /* the next request */ ;
        stream_close(s);
    }
    _exit(0);
}

static void
write_file(const char *name, const char *text)
{
    FILE   *fp = fopen(name, "w");

    if (fp == NULL)
        abort();
    fputs(text, fp);
    fclose(fp);
}

/* Scratch directory with tables t, other and w (btree); the pid of the
 * server (write: the proxywrite service). */
static pid_t
setup_role(int write)
{
    pid_t   pid;
    int     lfd;
    char   *err;

    if (mkdtemp(scratch) == NULL || chdir(scratch) < 0 || mkdir("private", 0700) < 0)
        abort();
    snprintf(table, sizeof(table), "proxy:texthash:%s/t", scratch);
    snprintf(other, sizeof(other), "proxy:texthash:%s/other", scratch);
    snprintf(wtable, sizeof(wtable), "proxy:btree:%s/w", scratch);
    write_file("t", "known value one\nroot@example.test REJECT\n");
    write_file("other", "known secret\n");
    if (dict_commit(dict_open(wtable + 6, MAP_CREATE, &err), &err) < 0)
        abort();
    lfd = unix_listen(write ? "private/proxywrite" : "private/proxymap", 10, 0666);
    if (lfd < 0)
        abort();
    if ((pid = fork()) == 0)
        proxy_serve(lfd, write);
    close(lfd);
    return pid;
}

static pid_t
setup(void)
{
    return setup_role(0);
}

static void
teardown(pid_t pid)
{
    char    cmd[300];

    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", scratch);
    if (chdir("/") < 0 || system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", scratch);
}

UNIT_TEST(test_lookup_through_proxymap)
{
    pid_t   pid = setup();
    char   *err;
    const char *value;
    DICT   *d = dict_open(table, 0, &err);

    CHECK(d != NULL);
    CHECK_STR(dict_type(d), "proxy");
    CHECK_STR(dict_spec(d), table);
    CHECK_INT(dict_get(d, "known", &value), MAP_FOUND);
    CHECK_STR(value, "value one");
    CHECK_INT(dict_get(d, "KNOWN", &value), MAP_FOUND);        /* folded */
    CHECK_INT(dict_get(d, "ROOT@example.test", &value), MAP_FOUND);
    CHECK_STR(value, "REJECT");
    CHECK_INT(dict_get(d, "unknown", &value), MAP_NOTFOUND);
    dict_close(d);
    teardown(pid);
}

UNIT_TEST(test_unapproved_table_fails)
{
    pid_t   pid = setup();
    char   *err, want[400];
    const char *value;
    DICT   *d = dict_open(other, 0, &err);

    CHECK(d != NULL);
    CHECK_INT(dict_get(d, "known", &value), MAP_FAIL);
    snprintf(want, sizeof(want), "proxymap service is not configured for table \"%s\"",
             other + 6);
    CHECK_STR(dict_error(d), want);
    /* a read-only service refuses updates even for an approved table */
    dict_close(d);
    d = dict_open(table, 0, &err);
    CHECK(dict_put(d, "new", "x") < 0);
    dict_close(d);
    teardown(pid);
}

UNIT_TEST(test_passwd_through_proxymap)
{
    pid_t   pid = setup();
    MAPS   *m = maps_create("local_recipient_maps", "proxy:unix:passwd.byname", 0);
    const char *value;

    CHECK_INT(maps_find(m, "root", &value), MAP_FOUND);
    CHECK(value != NULL && strncmp(value, "root:", 5) == 0);
    CHECK_INT(maps_find(m, "no-such-user-here", &value), MAP_NOTFOUND);
    maps_free(m);
    teardown(pid);
}

UNIT_TEST(test_no_service_and_bad_names)
{
    char   *err;
    const char *value;
    DICT   *d;

    if (chdir("/") < 0)
        abort();
    d = dict_open("proxy:hash:/nonexistent/x", 0, &err);
    CHECK(d != NULL);
    CHECK_INT(dict_get(d, "x", &value), MAP_FAIL);     /* no private/proxymap here */
    dict_close(d);
    CHECK(dict_open("proxy:proxy:hash:/x", 0, &err) == NULL);
    mem_free(err);
    CHECK(dict_open("proxy:nocolon", 0, &err) == NULL);
    mem_free(err);
}

UNIT_TEST(test_update_through_proxywrite)
{
    pid_t   pid = setup_role(1);
    char   *err;
    const char *value;
    DICT   *d = dict_open(wtable, MAP_WRITE, &err);

    CHECK(d != NULL);
    CHECK_INT(dict_put(d, "Key", "stored"), 0);
    CHECK_INT(dict_get(d, "key", &value), MAP_FOUND);
    CHECK_STR(value, "stored");
    CHECK_INT(dict_del(d, "key"), MAP_FOUND);
    CHECK_INT(dict_del(d, "key"), MAP_NOTFOUND);
    CHECK_INT(dict_get(d, "key", &value), MAP_NOTFOUND);
    dict_close(d);
    /* t is approved for reading only, not in proxy_write_maps */
    d = dict_open(table, MAP_WRITE, &err);
    CHECK(dict_put(d, "new", "x") < 0);
    CHECK(strstr(dict_error(d), "proxywrite service is not configured for table") != NULL);
    dict_close(d);
    teardown(pid);
}

UNIT_TESTS {
    {"lookup_through_proxymap", test_lookup_through_proxymap},
    {"unapproved_table_fails", test_unapproved_table_fails},
    {"passwd_through_proxymap", test_passwd_through_proxymap},
    {"no_service_and_bad_names", test_no_service_and_bad_names},
    {"update_through_proxywrite", test_update_through_proxywrite},
    UNIT_END
};
