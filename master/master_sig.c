/*
 * master_sig.c - master's signals, delivered through a self-pipe.
 *
 * Interface: master.h. The handlers only write the signal number into a
 * non-blocking pipe; the event loop reads it and master_sig_next() hands
 * the numbers out one at a time, so all real work happens outside signal
 * context. SIGCHLD, SIGHUP (reload), SIGTERM/SIGINT (stop), SIGQUIT
 * (abort: children are killed outright). SIGPIPE is ignored.
 *
 * DIAGNOSTICS: a failed pipe() or sigaction() at start is fatal; nothing
 * else is reported.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "connect.h"
#include "events.h"
#include "master.h"
#include "msg.h"
#include "sigreset.h"

static int master_sig_pipe[2] = {-1, -1};
static const int master_sigs[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT};
#define MASTER_NSIGS (int) (sizeof(master_sigs) / sizeof(master_sigs[0]))

static void
master_sig_handler(int sig)
{
    int     saved = errno;
    unsigned char ch = (unsigned char) sig;

    (void) write(master_sig_pipe[1], &ch, 1);
    errno = saved;
}

void
master_sig_init(void)
{
    struct sigaction sa;
    int     i;

    if (pipe(master_sig_pipe) < 0)
        msg_fatal("pipe: %m");
    for (i = 0; i < 2; i++) {
        fd_nonblock(master_sig_pipe[i], 1);
        fd_cloexec(master_sig_pipe[i], 1);
    }
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = SIG_IGN;
    (void) sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = master_sig_handler;
    sa.sa_flags = SA_RESTART;
    for (i = 0; i < MASTER_NSIGS; i++)
        sigaddset(&sa.sa_mask, master_sigs[i]);
    for (i = 0; i < MASTER_NSIGS; i++)
        if (sigaction(master_sigs[i], &sa, NULL) < 0)
            msg_fatal("sigaction: %m");
}

/* Block our signals around fork() so a child never runs our handlers. */
void
master_sig_block(int block)
{
    sigset_t set;
    int     i;

    sigemptyset(&set);
    for (i = 0; i < MASTER_NSIGS; i++)
        sigaddset(&set, master_sigs[i]);
    (void) sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

/* In a new child: default dispositions (SIGPIPE too), nothing blocked. */
void
master_sig_child_reset(void)
{
    static const int child_sigs[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGPIPE};

    sigreset(child_sigs, sizeof(child_sigs) / sizeof(child_sigs[0]));
}

int
master_sig_next(void)
{
    unsigned char ch;

    if (master_sig_pipe[0] < 0 || read(master_sig_pipe[0], &ch, 1) != 1)
        return MASTER_SIG_NONE;
    return ch;
}

int
master_sig_fd(void)
{
    return master_sig_pipe[0];
}
