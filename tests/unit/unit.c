/*
 * unit.c - runs the UNIT_TESTS of one test program; see unit.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"

int unit_failures;

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
