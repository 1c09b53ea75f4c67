/*
 * mypid.c - this process's id, asked of the kernel once per process.
 *
 * Interface: mypid.h. glibc no longer caches getpid(); the logging code
 * and the server skeleton want the pid for every log line and status
 * update. The kept value is forgotten in the child of every fork()
 * (pthread_atfork(), registered on first use), so a child never reports
 * its parent's pid.
 *
 * DIAGNOSTICS: none.
 */
#include <pthread.h>
#include <unistd.h>

#include "mypid.h"

static pid_t mypid_value;
static int mypid_hooked;

static void
mypid_forget(void)
{
    mypid_value = 0;
}

pid_t
my_pid(void)
{
    if (!mypid_hooked) {
        (void) pthread_atfork(NULL, NULL, mypid_forget);
        mypid_hooked = 1;
    }
    if (mypid_value == 0)
        mypid_value = getpid();
    return mypid_value;
}
