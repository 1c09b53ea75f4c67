/*
 * sigreset.c - default signal dispositions, nothing blocked (sigreset.h).
 *
 * Errors are ignored: an invalid or uncatchable signal number (SIGKILL,
 * SIGSTOP, the ones the C library keeps) cannot be reset and needs not be.
 *
 * DIAGNOSTICS: none; errors are ignored on purpose (see above).
 */
#include <signal.h>
#include <string.h>

#include "sigreset.h"

void
sigreset(const int *sigs, size_t count)
{
    struct sigaction sa;
    sigset_t none;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_DFL;
    if (sigs == NULL) {
        for (int sig = 1; sig < NSIG; sig++)
            (void) sigaction(sig, &sa, NULL);
    } else {
        for (size_t i = 0; i < count; i++)
            (void) sigaction(sigs[i], &sa, NULL);
    }
    sigemptyset(&none);
    (void) sigprocmask(SIG_SETMASK, &none, NULL);
}
