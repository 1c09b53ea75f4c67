/*
 * test_sigreset.c - unit tests for lib/util/sigreset.c (each test runs in
 * its own forked child, so changing the signal state is harmless).
 */
#include <signal.h>
#include <string.h>

#include "sigreset.h"
#include "unit.h"

static void
handler(int sig)
{
    (void) sig;
}

static void
set_state(void)
{
    struct sigaction sa;
    sigset_t set;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

typedef void (*HANDLER)(int);

static HANDLER
disposition(int sig)
{
    struct sigaction sa;

    sigaction(sig, NULL, &sa);
    return sa.sa_handler;
}

static int
blocked(int sig)
{
    sigset_t set;

    sigprocmask(SIG_BLOCK, NULL, &set);
    return sigismember(&set, sig);
}

UNIT_TEST(test_listed_signals)
{
    static const int sigs[] = {SIGUSR1, SIGPIPE};

    set_state();
    sigreset(sigs, 2);
    CHECK(disposition(SIGUSR1) == SIG_DFL);
    CHECK(disposition(SIGPIPE) == SIG_DFL);
    CHECK(disposition(SIGUSR2) == handler);     /* not listed: kept */
    CHECK(!blocked(SIGHUP));
}

UNIT_TEST(test_all_signals)
{
    set_state();
    sigreset(NULL, 0);
    CHECK(disposition(SIGUSR1) == SIG_DFL);
    CHECK(disposition(SIGUSR2) == SIG_DFL);
    CHECK(disposition(SIGPIPE) == SIG_DFL);
    CHECK(!blocked(SIGHUP));
}

UNIT_TESTS {
    {"test_listed_signals", test_listed_signals},
    {"test_all_signals", test_all_signals},
    UNIT_END
};
