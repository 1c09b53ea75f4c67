/*
 * pidfile.h - the locked master.pid file (shared by master and postfix).
 *
 * Format as Postfix writes it: the pid right-aligned in a 10-character
 * field, then a newline. The running master holds an fcntl() write lock on
 * the whole file for its lifetime; a file that exists but is not locked is
 * stale (the master died without cleaning up).
 *
 * DIAGNOSTICS: none; failures are -1 returns with errno for the caller to
 * report.
 */
#ifndef POSTHORN_PIDFILE_H
#define POSTHORN_PIDFILE_H

#include <sys/types.h>

/* Create/open path, lock it, write our pid. Returns the fd (keep it open),
 * or -1 with errno (EAGAIN/EACCES: another process holds the lock). */
int     pidfile_lock(const char *path);
/* Pid of the process that holds the lock on path, or 0 (missing/stale). */
pid_t   pidfile_holder(const char *path);

#endif
