/*
 * file_limit.c - RLIMIT_FSIZE for sendmail and postdrop (file_limit.h).
 *
 * DIAGNOSTICS: none (pure arithmetic on the limit).
 */
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "file_limit.h"

int
file_limit_cap(long limit)
{
    struct rlimit rl;
    struct sigaction sa;

    if (limit <= 0)
        return 0;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    (void) sigaction(SIGXFSZ, &sa, NULL);
    if (getrlimit(RLIMIT_FSIZE, &rl) < 0)
        return -1;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= (rlim_t) limit)
        return 0;
    rl.rlim_cur = rl.rlim_max = (rlim_t) limit;
    return setrlimit(RLIMIT_FSIZE, &rl);
}
