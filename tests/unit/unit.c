/*
 * unit.c - runs the UNIT_TESTS of one test program; see unit.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "record.h"
#include "unit.h"

int unit_failures;
const char *unit_case;

void
unit_check_pairs(long (*fn)(void *, const char *, const char *), void *ctx,
                 const UNIT_PAIR *rows, size_t n)
{
    char    row[512];

    for (size_t i = 0; i < n; i++) {
        snprintf(row, sizeof(row), "%s, %s", rows[i].a ? rows[i].a : "(null)",
                 rows[i].b ? rows[i].b : "(null)");
        unit_case = row;
        CHECK_INT(fn(ctx, rows[i].a, rows[i].b), rows[i].want);
    }
    unit_case = 0;
}

void
unit_each_record(const char *text, void (*fn)(void *, int, const char *), void *ctx)
{
    while (*text) {
        size_t  len = strcspn(text, "\n");
        char   *data;

        if (len < 2 || text[1] != ':')
            abort();                            /* a broken test table */
        data = mem_strndup(text + 2, len - 2);
        fn(ctx, text[0], data);
        mem_free(data);
        text += len + (text[len] == '\n');
    }
}

static void
put_record(void *stream, int type, const char *data)
{
    rec_puts(stream, type, data);
}

void
unit_put_records(STREAM *s, const char *text)
{
    unit_each_record(text, put_record, s);
}

int
unit_config_child(const char *cf, void (*fn)(void *), void *ctx, char *err, size_t errlen)
{
    char    buf[4096];
    int     fds[2], status;
    ssize_t n, got = 0;
    pid_t   pid;

    if (pipe(fds) < 0)
        return -1;
    if ((pid = fork()) == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        msg_init("test", MSG_STDERR | MSG_NOSYSLOG);
        config_reset();
        config_load_text(cf, "test");
        fn(ctx);
        _exit(0);
    }
    close(fds[1]);
    while ((n = read(fds[0], buf, sizeof(buf))) > 0) {     /* to EOF: never block the child */
        size_t  take = err && (size_t) got + 1 < errlen ? errlen - 1 - (size_t) got : 0;

        if (take > (size_t) n)
            take = (size_t) n;
        if (take)
            memcpy(err + got, buf, take);
        got += (ssize_t) take;
    }
    if (err)
        err[got] = 0;
    close(fds[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
main(int argc, char **argv)
{
    int passed = 0, failed = 0;

    for (const UNIT_CASE *t = unit_tests; t->name; t++) {
        if (argc > 1 && strcmp(argv[1], t->name) != 0)
            continue;
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            unit_failures = 0;
            t->fn();
            _exit(unit_failures ? 1 : 0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            printf("ok   %s\n", t->name);
            passed++;
        } else {
            printf("FAIL %s%s\n", t->name, WIFSIGNALED(status) ? " (crashed)" : "");
            failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

void
unit_refuse(int what)
{
    unsigned tmpfile = (what & UNIT_REFUSE_TMPFILE) ? (O_TMPFILE & ~O_DIRECTORY) : 0;
    unsigned creat = (what & UNIT_REFUSE_CREAT) ? O_CREAT : 0;
    unsigned empty = (what & UNIT_REFUSE_EMPTY_PATH) ? AT_EMPTY_PATH : 0;
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 0, 4),         /* else 6 */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, tmpfile, 7, 0),            /* 11 */
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, creat, 7, 0),              /* 12 */
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_linkat, 0, 2),         /* else 9 */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[4])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, empty, 1, 0),              /* 10 */
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOENT),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EOPNOTSUPP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
    };
    struct sock_fprog prog = {sizeof(f) / sizeof(f[0]), f};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0
        || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        _exit(3);
}
