/*
 * pidfile.c - the locked master.pid file.
 *
 * Interface: pidfile.h. pidfile_lock() opens the file without following
 * symlinks, takes an fcntl() write lock and rewrites the content;
 * pidfile_holder() asks the kernel (F_GETLK) who holds the lock, which is
 * right even when the file content is stale or damaged.
 *
 * SECURITY: the file lives in $queue_directory/pid, a root-owned
 * directory; O_NOFOLLOW keeps a planted symlink from redirecting the write.
 *
 * DIAGNOSTICS: none; a lock or write failure is a -1 return with errno
 * (master turns it into a fatal error).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pidfile.h"

int
pidfile_lock(const char *path)
{
    struct flock fl;
    char    buf[32];
    int     fd, saved, len;

    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    len = snprintf(buf, sizeof(buf), "%10lu\n", (unsigned long) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) len, 0) != len) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

pid_t
pidfile_holder(const char *path)
{
    struct flock fl;
    int     fd;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return 0;
    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK) {
        close(fd);
        return 0;
    }
    close(fd);
    return fl.l_pid > 0 ? fl.l_pid : 1;
}
