/*
 * test_local.c - unit tests for the local delivery agent's pure parts:
 * alias/.forward list splitting, Maildir file names, the mbox "From "
 * line and message copy (>From quoting, added headers, final blank
 * line), the quoted sender in the From line and Return-Path:, $name
 * expansion with the command filter, address splitting, the bounded wait
 * for a delivery child and that it is reaped when it exits (no sleep-poll),
 * that commands and files never run as root, and Maildir delivery through
 * an unnamed file with its fallbacks.
 *
 * The local/ sources are compiled in here (main() stays in local.c).
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../local/local_service.c"
#include "../../local/local_recipient.c"
#include "../../local/local_token.c"
#include "../../local/local_expand.c"
#include "../../local/local_child.c"
#include "../../local/local_mbox.c"
#include "../../local/local_command.c"
#include "../../local/local_forward.c"
#include "../../local/local_params.c"
#include "record.h"
#include "unit.h"

UNIT_TEST(test_split_list)
{
    ARGV   *a = local_split_list(" user1, \"|/usr/bin/cmd -a, b\" ,/var/log/x,"
                                 ":include:/etc/list , \\root,,", 100);

    CHECK_INT(a->argc, 5);
    CHECK_STR(a->argv[0], "user1");
    CHECK_STR(a->argv[1], "|/usr/bin/cmd -a, b");
    CHECK_STR(a->argv[2], "/var/log/x");
    CHECK_STR(a->argv[3], ":include:/etc/list");
    CHECK_STR(a->argv[4], "\\root");
    argv_free(a);
    a = local_split_list("a,b,c,d", 2);
    CHECK_INT(a->argc, 2);
    argv_free(a);
}

UNIT_TEST(test_maildir_name)
{
    VSTRING *v = vstring_alloc(200);

    maildir_name(v, 1700000000, 123456, 4242, 7, "mail.example.com");
    CHECK_STR(STR(v), "1700000000.M123456P4242Q7.mail.example.com");
    maildir_name(v, 1, 2, 3, 4, "a/b:c");
    CHECK_STR(STR(v), "1.M2P3Q4.a\\057b\\072c");
    vstring_free(v);
}

UNIT_TEST(test_from_line)
{
    VSTRING *v = vstring_alloc(200);

    setenv("TZ", "UTC", 1);
    mbox_from_line(v, "a@b.example", 0);
    CHECK_STR(STR(v), "From a@b.example  Thu Jan  1 00:00:00 1970\n");     /* two spaces, as Postfix */
    mbox_from_line(v, "", 86400 * 40);
    CHECK_STR(STR(v), "From MAILER-DAEMON  Tue Feb 10 00:00:00 1970\n");
    vstring_free(v);
}

UNIT_TEST(test_quoted_sender)
{
    VSTRING *v = vstring_alloc(4096);

    setenv("TZ", "UTC", 1);
    /* a sender with spaces cannot pass for another From line */
    mbox_from_line(v, "Mon Jan  1 x@b.example", 0);
    CHECK_STR(STR(v), "From \"Mon Jan  1 x\"@b.example  Thu Jan  1 00:00:00 1970\n");
    mbox_quote_sender(v, "a\"b\\c@b.example");
    CHECK_STR(STR(v), "\"a\\\"b\\\\c\"@b.example");
    mbox_quote_sender(v, "x\nFrom: forged@b.example");
    CHECK_STR(STR(v), "\"x?From: forged\"@b.example");
    mbox_quote_sender(v, "plain.user@b.example");
    CHECK_STR(STR(v), "plain.user@b.example");
    mbox_quote_sender(v, "");
    CHECK_STR(STR(v), "");
    vstring_free(v);
}

UNIT_TEST(test_copy_mbox)
{
    char    path[64] = "/tmp/test_local.XXXXXX";   /* room for ".out" */
    int     fd = mkstemp(path);
    STREAM *s = stream_open(path, O_RDWR, 0);
    DELIVER_REQUEST req;
    STREAM *out;
    char    buf[2000];
    ssize_t n;
    int     ofd;

    setenv("TZ", "UTC", 1);
    close(fd);
    memset(&req, 0, sizeof(req));
    unit_put_records(s, "M:\n");
    req.offset = (long) stream_tell(s);
    unit_put_records(s, "N:Subject: From here\nN:\nN:From the start\nL:a long From \n"
                     "N:line\nN: From indented\nX:\n");
    stream_flush(s);
    req.fp = s;
    req.queue_id = "X";
    req.sender = "s p@example.com";
    strcat(path, ".out");
    ofd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    out = stream_fdopen(ofd);
    CHECK_INT(mbox_copy_message(&req, out, MBOX_COPY_MBOX, "alias@example.com",
                                 "user@example.com"), 0);
    stream_free_keep_fd(out);
    lseek(ofd, 0, SEEK_SET);
    n = read(ofd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    /* the From line has the current date: check the rest */
    CHECK(strncmp(buf, "From \"s p\"@example.com ", 23) == 0);
    CHECK_STR(strchr(buf, '\n') + 1,
              "Return-Path: <\"s p\"@example.com>\n"
              "X-Original-To: alias@example.com\n"
              "Delivered-To: user@example.com\n"
              "Subject: From here\n"
              "\n"
              ">From the start\n"
              "a long From line\n"
              " From indented\n"
              "\n");
    /* Maildir style: no From line, no quoting, no blank line */
    ftruncate(ofd, 0);
    lseek(ofd, 0, SEEK_SET);
    out = stream_fdopen(ofd);
    CHECK_INT(mbox_copy_message(&req, out, MBOX_COPY_RETURN_PATH, NULL, NULL), 0);
    stream_free_keep_fd(out);
    lseek(ofd, 0, SEEK_SET);
    n = read(ofd, buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    CHECK_STR(buf, "Return-Path: <\"s p\"@example.com>\nSubject: From here\n\n"
              "From the start\na long From line\n From indented\n");
    close(ofd);
    unlink(path);
    path[strlen(path) - 4] = 0;
    unlink(path);
    stream_close(s);
}

UNIT_TEST(test_addr_split)
{
    LOCAL_ADDR a;

    local_addr_split(&a, "John.Doe+Lists@Example.COM", "+-");
    CHECK_STR(a.local, "john.doe+lists");
    CHECK_STR(a.user, "john.doe");
    CHECK_STR(a.extension, "lists");
    CHECK_STR(a.delim, "+");
    CHECK_STR(a.domain, "Example.COM");
    local_addr_free(&a);
    local_addr_split(&a, "+plain", "+");
    CHECK_STR(a.user, "+plain");
    CHECK_STR(a.extension, "");
    local_addr_free(&a);
}

UNIT_TEST(test_expand)
{
    LOCAL_ADDR a;
    LOCAL_PRIV pw = {1000, 1000, "joe", "/home/joe", "/bin/sh"};
    char   *s;

    config_reset();
    local_params_init();
    local_addr_split(&a, "joe+x;rm -rf /@example.com", "+");
    s = local_expand("$home/.forward${recipient_delimiter}${extension}, $home/.forward",
                     &a, &pw, var_forward_expansion_filter, 0);
    CHECK_STR(s, "/home/joe/.forward+x_rm_-rf_/, /home/joe/.forward");
    mem_free(s);
    s = local_expand("procmail -a \"$EXTENSION\" ${extension?yes}${extension:no} $$",
                     &a, &pw, var_command_expansion_filter, LOCAL_EXP_KEEP_UNKNOWN);
    CHECK_STR(s, "procmail -a \"$EXTENSION\" yes $");
    mem_free(s);
    local_addr_free(&a);
    local_addr_split(&a, "joe@example.com", "+");
    s = local_expand("$home/.forward${recipient_delimiter}${extension}", &a, &pw,
                     var_forward_expansion_filter, 0);
    CHECK_STR(s, "/home/joe/.forward");
    mem_free(s);
    local_addr_free(&a);
}

/* The filter is the parameter's value: another set, or none at all. */
UNIT_TEST(test_expand_filter)
{
    LOCAL_ADDR a;
    LOCAL_PRIV pw = {1000, 1000, "joe", "/home/joe", "/bin/sh"};
    char   *s;

    config_reset();
    config_load_text("forward_expansion_filter = /.abcdefghijklmnopqrstuvwxyz\n"
                     "command_expansion_filter =\n", "test");
    local_params_init();
    local_addr_split(&a, "joe+x-1@example.com", "+");
    s = local_expand("$home/.forward+$extension", &a, &pw, var_forward_expansion_filter, 0);
    CHECK_STR(s, "/home/joe/.forward+x__");
    mem_free(s);
    s = local_expand("cmd $extension", &a, &pw, var_command_expansion_filter, 0);
    CHECK_STR(s, "cmd ___");
    mem_free(s);
    local_addr_free(&a);
}

/* $names that are main.cf parameters: looked up at start, values as they were then. */
UNIT_TEST(test_expand_params)
{
    LOCAL_ADDR a;
    LOCAL_PRIV pw = {1000, 1000, "joe", "/home/joe", "/bin/sh"};
    char   *s, *text;

    config_reset();
    config_load_text("forward_path = ${fwd_dir}/$user/${fwd_flag?on}${nothere:off}\n"
                     "fwd_dir = /srv/fwd\nfwd_flag = 1\n", "test");
    local_params_init();
    text = mem_strdup(var_forward_path);
    config_reset();                             /* values were taken at start */
    local_addr_split(&a, "joe@example.com", "+");
    s = local_expand(text, &a, &pw, "abcdefghijklmnopqrstuvwxyz/", 0);
    CHECK_STR(s, "/srv/fwd/joe/onoff");
    mem_free(s);
    mem_free(text);
    local_addr_free(&a);
    config_reset();
    local_params_init();
}

/* Run local_params_init() on main.cf text in a child: its exit status. */
static int
params_status(const char *text)
{
    pid_t   pid;
    int     status;

    if ((pid = fork()) == 0) {
        int     fd = open("/dev/null", O_WRONLY);

        if (fd >= 0)
            dup2(fd, 2);
        msg_init("local", MSG_STDERR | MSG_NOSYSLOG);
        config_reset();
        config_load_text(text, "test");
        local_params_init();
        _exit(0);
    }
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A bad value is fatal at start-up, with no private default behind it. */
UNIT_TEST(test_params_bad_values_fatal)
{
    CHECK_INT(params_status("deliver_lock_delay = 2s\ncommand_time_limit = 10m\n"), 0);
    CHECK(params_status("deliver_lock_delay = 1x\n") > 0);
    CHECK(params_status("command_time_limit = soon\n") > 0);
    CHECK(params_status("mailbox_size_limit = -5\n") > 0);
    CHECK(params_status("deliver_lock_attempts = 0\n") > 0);
}

UNIT_TEST(test_shell_meta)
{
    CHECK(local_shell_meta("/usr/bin/procmail -a \"$EXTENSION\""));
    CHECK(!local_shell_meta("/usr/lib/dovecot/deliver -d joe"));
    CHECK(local_shell_meta("cat > /tmp/x"));
}

/* A delivery child that is stopped (as a recipient could do to it before
 * the child kept root as its real uid) must not hold up the parent. */
static int
stop_myself(void *ctx, VSTRING *dsn, VSTRING *why)
{
    kill(getpid(), SIGSTOP);
    return DELIVER_SENT;
}

/* A delivery request on a scratch queue file, for local_child_run(). */
typedef struct CHILD_FIXTURE {
    char    path[32];
    int     fd;
    DELIVER_REQUEST req;
    LOCAL_STATE st;
    LOCAL_PRIV me;
    VSTRING *dsn;
    VSTRING *why;
} CHILD_FIXTURE;

static void
child_fixture_open(CHILD_FIXTURE *f, const char *time_limit)
{
    LOCAL_PRIV me = {getuid(), getgid(), "me", "/", "/bin/sh"};

    memset(f, 0, sizeof(*f));
    strcpy(f->path, "/tmp/test_local.XXXXXX");
    f->fd = mkstemp(f->path);
    f->me = me;
    f->dsn = vstring_alloc(16);
    f->why = vstring_alloc(LOCAL_REASON_MAX);
    alarm(30);                                  /* an unbounded wait fails the test */
    config_override("command_time_limit", time_limit);
    local_params_init();
    f->req.fp = stream_open(f->path, O_RDONLY, 0);
    f->req.queue_id = "X";
    f->st.req = &f->req;
}

static void
child_fixture_close(CHILD_FIXTURE *f)
{
    stream_close(f->req.fp);
    close(f->fd);
    unlink(f->path);
    vstring_free(f->dsn);
    vstring_free(f->why);
    alarm(0);
}

UNIT_TEST(test_child_wait_is_bounded)
{
    CHILD_FIXTURE f;
    time_t  start = time(NULL);

    child_fixture_open(&f, "1s");
    CHECK_INT(local_child_run(&f.st, &f.me, stop_myself, NULL, f.dsn, f.why), DELIVER_DEFER);
    CHECK_STR(STR(f.dsn), "4.3.0");
    CHECK(strstr(STR(f.why), "did not finish within 3 seconds") != NULL);
    CHECK(time(NULL) - start < 10);
    child_fixture_close(&f);
}

/*
 * local_child.c's only sleep was the 10 ms poll for the child's exit; this
 * usleep() (the executable's, so local_child.c calls it) counts the calls.
 */
static int usleep_calls;

int
usleep(useconds_t usec)
{
    struct timespec ts = {usec / 1000000, (long) (usec % 1000000) * 1000};

    usleep_calls++;
    return nanosleep(&ts, NULL);
}

/* The child's answer pipe reaches EOF while the child is still there (as
 * when a child's exit takes a while): close it, linger 50 ms, go. */
static int
close_then_linger(void *ctx, VSTRING *dsn, VSTRING *why)
{
    struct timespec ts = {0, 50 * 1000 * 1000};

    closefrom_keep(3, NULL, 0, 0);
    nanosleep(&ts, NULL);
    _exit(DELIVER_SENT);
}

UNIT_TEST(test_child_reaped_when_it_exits)
{
    CHILD_FIXTURE f;
    double  start = local_child_now();

    child_fixture_open(&f, "10s");
    usleep_calls = 0;
    /* no answer on the pipe, exit status 0: sent, once the child is gone */
    CHECK_INT(local_child_run(&f.st, &f.me, close_then_linger, NULL, f.dsn, f.why),
              DELIVER_SENT);
    CHECK(local_child_now() - start >= 0.05);
    CHECK_INT(usleep_calls, 0);                 /* woken by its exit, not by polling */
    child_fixture_close(&f);
}

/* What local_euid_run()'s fn saw: its ids, groups and pending alarm. */
typedef struct EUID_SEEN {
    uid_t   ruid, euid, suid;
    gid_t   rgid, egid, sgid, groups[4];
    int     ngroups;
    unsigned alarm_left;
} EUID_SEEN;

static int
euid_look(void *ctx, VSTRING *dsn, VSTRING *why)
{
    EUID_SEEN *s = ctx;

    getresuid(&s->ruid, &s->euid, &s->suid);
    getresgid(&s->rgid, &s->egid, &s->sgid);
    s->ngroups = getgroups(4, s->groups);
    s->alarm_left = alarm(0);
    alarm(s->alarm_left);
    vstring_strcpy(dsn, "4.2.0");
    vstring_strcpy(why, "an error, as the recipient");
    return DELIVER_DEFER;
}

UNIT_TEST(test_euid_run_in_process_and_back_to_root)
{
    CHILD_FIXTURE f;
    LOCAL_PRIV user = {4242, 4343, "user", "/", "/bin/sh"};
    EUID_SEEN s;
    uid_t   r, e, sv;
    gid_t   rg, eg, sg;
    unsigned left;

    if (geteuid() != 0)
        return;                                 /* needs root to switch */
    child_fixture_open(&f, "100s");
    alarm(1000);                                /* the server's watchdog */
    memset(&s, 0, sizeof(s));
    CHECK_INT(local_euid_run(&f.st, &user, euid_look, &s, f.dsn, f.why), DELIVER_DEFER);
    CHECK_STR(STR(f.why), "an error, as the recipient");
    /* effective ids only: real and saved uid root, so the user cannot signal it */
    CHECK(s.ruid == 0 && s.euid == 4242 && s.suid == 0);
    CHECK(s.egid == 4343 && s.ngroups == 1 && s.groups[0] == 4343);
    CHECK(s.alarm_left > 90 && s.alarm_left <= 100);     /* command_time_limit */
    getresuid(&r, &e, &sv);
    getresgid(&rg, &eg, &sg);
    CHECK(r == 0 && e == 0 && sv == 0 && eg == 0);
    left = alarm(0);
    CHECK(left > 990 && left <= 1000);          /* the watchdog is back */
    child_fixture_close(&f);
}

UNIT_TEST(test_priv_run_never_root)
{
    LOCAL_PRIV root = {0, 0, "root", "/root", "/bin/sh"};
    LOCAL_PRIV gid0 = {4242, 0, "odd", "/", "/bin/sh"};
    LOCAL_PRIV user = {4242, 4242, "user", "/", "/bin/sh"};
    LOCAL_PRIV *p;

    config_override("default_privs", "nobody");
    local_params_init();
    p = local_priv_run(&root);
    CHECK(p != NULL && p->uid != 0 && p->gid != 0 && strcmp(p->name, "nobody") == 0);
    local_priv_free(p);
    p = local_priv_run(&gid0);
    CHECK(p != NULL && p->uid == 4242 && p->gid != 0);
    local_priv_free(p);
    p = local_priv_run(&user);
    CHECK(p != NULL && p->uid == 4242 && p->gid == 4242);
    local_priv_free(p);
    config_override("default_privs", "root");
    local_params_init();
    CHECK(local_priv_run(&root) == NULL);
}

/*
 * Maildir delivery: the message is written to an unnamed file and gets
 * its only name in new/ once it is on disk, so no open ever creates a
 * name (O_CREAT refused here) and tmp/ stays empty; and the fallbacks,
 * with the kernel made to refuse like an older one or another file
 * system: no O_TMPFILE -> a named tmp/ file renamed into new/;
 * linkat(AT_EMPTY_PATH) refused -> through /proc/self/fd, and in a chroot
 * without /proc as well -> a named tmp/ file. Each case delivers two
 * messages (the second with the method the first one settled on).
 * maildir_refused(): in a child; 0 when both are in new/, whole, and
 * tmp/ is empty.
 */
static int
maildir_refused(const char *top, int what, int in_chroot)
{
    pid_t   pid;
    int     status = -1;

    if ((pid = fork()) == 0) {
        char    qpath[] = "/tmp/test_local_q.XXXXXX";
        int     qfd = mkstemp(qpath);
        STREAM *q = stream_open(qpath, O_RDWR, 0);
        VSTRING *dsn = vstring_alloc(16), *why = vstring_alloc(100);
        DELIVER_REQUEST req;
        char    buf[512];
        int     files = 0, bad = 0;
        DIR    *dp;
        struct dirent *de;

        unlink(qpath);
        close(qfd);
        memset(&req, 0, sizeof(req));
        unit_put_records(q, "M:\n");
        req.offset = (long) stream_tell(q);
        unit_put_records(q, "N:Subject: hello\nN:\nN:body\nX:\n");
        stream_flush(q);
        req.fp = q;
        req.queue_id = "X";
        req.sender = "s@example.com";
        if (chdir(top) < 0 || (in_chroot && chroot(".") < 0))
            _exit(2);
        unit_refuse(what);
        for (int i = 0; i < 2; i++)
            if (maildir_deliver(&req, in_chroot ? "/Maildir/" : "Maildir/", MBOX_COPY_MAILDIR,
                                0, 0, dsn, why) != DELIVER_SENT) {
                fprintf(stderr, "maildir_deliver: %s %s\n", STR(dsn), STR(why));
                _exit(1);
            }
        if ((dp = opendir(in_chroot ? "/Maildir/new" : "Maildir/new")) == NULL)
            _exit(1);
        while ((de = readdir(dp)) != NULL) {
            int     fd;
            ssize_t n = 0;

            if (de->d_name[0] == '.')
                continue;
            files++;
            snprintf(buf, sizeof(buf), "%s/new/%s", in_chroot ? "/Maildir" : "Maildir", de->d_name);
            if ((fd = open(buf, O_RDONLY)) >= 0) {
                n = read(fd, buf, sizeof(buf) - 1);
                close(fd);
            }
            buf[n > 0 ? n : 0] = 0;
            bad += strcmp(buf, "Return-Path: <s@example.com>\nSubject: hello\n\nbody\n") != 0;
        }
        closedir(dp);
        if ((dp = opendir(in_chroot ? "/Maildir/tmp" : "Maildir/tmp")) == NULL)
            _exit(1);
        while ((de = readdir(dp)) != NULL)
            bad += de->d_name[0] != '.';
        _exit(files == 2 && bad == 0 ? 0 : 1);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

UNIT_TEST(test_maildir_unnamed_and_fallbacks)
{
    static const int cases[][2] = {
        {UNIT_REFUSE_CREAT, 0}, {UNIT_REFUSE_TMPFILE, 0},
        {UNIT_REFUSE_EMPTY_PATH | UNIT_REFUSE_CREAT, 0}, {UNIT_REFUSE_EMPTY_PATH, 1},
    };
    char    top[] = "/tmp/test_local_md.XXXXXX";
    char    cmd[100];

    CHECK(mkdtemp(top) != NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s/Maildir", top);
        CHECK(system(cmd) == 0);
        CHECK_INT(maildir_refused(top, cases[i][0], cases[i][1]), 0);
    }
    snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
    CHECK(system(cmd) == 0);
}

UNIT_TESTS {
    {"test_split_list", test_split_list},
    {"test_maildir_name", test_maildir_name},
    {"test_from_line", test_from_line},
    {"test_quoted_sender", test_quoted_sender},
    {"test_copy_mbox", test_copy_mbox},
    {"test_maildir_unnamed_and_fallbacks", test_maildir_unnamed_and_fallbacks},
    {"test_addr_split", test_addr_split},
    {"test_expand", test_expand},
    {"test_expand_filter", test_expand_filter},
    {"test_expand_params", test_expand_params},
    {"test_params_bad_values_fatal", test_params_bad_values_fatal},
    {"test_shell_meta", test_shell_meta},
    {"test_child_wait_is_bounded", test_child_wait_is_bounded},
    {"test_child_reaped_when_it_exits", test_child_reaped_when_it_exits},
    {"test_priv_run_never_root", test_priv_run_never_root},
    {"test_euid_run_in_process_and_back_to_root", test_euid_run_in_process_and_back_to_root},
    UNIT_END
};
