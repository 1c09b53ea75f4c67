/*
 * fd_link.h - give a file opened with O_TMPFILE (no name yet) a name.
 *
 * There are two ways for a program to link an open file, and which one a
 * kernel allows depends on the kernel and on the caller's privileges:
 * linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH before Linux
 * 6.10 (since then the process that opened the file may use it), and
 * linkat("/proc/self/fd/N", AT_SYMLINK_FOLLOW) works for anyone where
 * /proc is mounted (not in a chroot without it). The caller keeps the
 * method in an FD_LINK_HOW that starts at FD_LINK_EMPTY_PATH; fd_link()
 * steps it down when the kernel refuses one (ENOENT although the target's
 * directory is there) and keeps it there for later calls.
 *
 * DIAGNOSTICS: 0, or -1 with errno; EOPNOTSUPP: no way left to link an
 * open file here (*how is FD_LINK_NONE; the caller creates named files
 * from now on); ENOENT: the target's directory is missing.
 */
#ifndef POSTHORN_FD_LINK_H
#define POSTHORN_FD_LINK_H

typedef enum { FD_LINK_EMPTY_PATH, FD_LINK_PROC, FD_LINK_NONE } FD_LINK_HOW;

int     fd_link(int fd, const char *path, FD_LINK_HOW *how);

#endif
