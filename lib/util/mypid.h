/*
 * mypid.h - this process's id without a system call per use.
 *
 * my_pid() asks the kernel once and keeps the answer; a child made with
 * fork() asks again (a pthread_atfork() handler forgets the kept value).
 * A process made with vfork()/clone() that runs code of ours before it
 * executes a program must not call it.
 *
 * DIAGNOSTICS: none.
 */
#ifndef POSTHORN_MYPID_H
#define POSTHORN_MYPID_H

#include <sys/types.h>

pid_t   my_pid(void);

#endif
