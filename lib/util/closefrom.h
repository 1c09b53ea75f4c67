/*
 * closefrom.h - close the descriptors a process must not hand on, before
 * it executes another program or changes its user id.
 *
 * closefrom_keep(low, keep, nkeep, flags) closes every descriptor from
 * low up except those listed in keep (any order, duplicates and values
 * below low allowed). With CLOSEFROM_CLOEXEC the descriptors are marked
 * close-on-exec instead (so a log socket stays usable until exec).
 * Returns 0, or -1 with errno set; callers check it and do not exec or
 * change ids after a failure.
 *
 * It uses close_range(2); where the kernel lacks it (ENOSYS; EPERM from
 * a seccomp filter; EINVAL for CLOSE_RANGE_CLOEXEC before Linux 5.11) it
 * closes (or marks) each descriptor up to the RLIMIT_NOFILE soft limit
 * (at most CLOSEFROM_FALLBACK_MAX).
 *
 * DIAGNOSTICS: none; a failure is a -1 return with errno.
 */
#ifndef POSTHORN_CLOSEFROM_H
#define POSTHORN_CLOSEFROM_H

#include <stddef.h>

#define CLOSEFROM_CLOEXEC       (1 << 0)
#define CLOSEFROM_FALLBACK_MAX  (1 << 20)

int     closefrom_keep(int low, const int *keep, size_t nkeep, int flags);

/*
 * How many times this process (or its parent before fork) ran
 * closefrom_keep(): a descriptor number kept from before may since have
 * been closed and reused (msg.c checks its log socket again then).
 */
unsigned closefrom_epoch(void);

#endif
