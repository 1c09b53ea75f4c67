/*
 * fd_link.c - give a file opened with O_TMPFILE a name. Interface and
 * diagnostics: fd_link.h.
 *
 * SECURITY: the new name is made with linkat(), which never replaces an
 * existing file (EEXIST) and does not follow a symlink at the target.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fd_link.h"

/* Is the directory part of path there? (then ENOENT was the method's) */
static int
fd_link_dir_exists(const char *path)
{
    char    dir[4096];
    const char *slash = strrchr(path, '/');
    struct stat st;

    if (slash == NULL)
        return 1;                               /* the current directory */
    if ((size_t) (slash - path) >= sizeof(dir))
        return 0;
    memcpy(dir, path, slash - path);
    dir[slash - path] = 0;
    return stat(*dir ? dir : "/", &st) == 0 && S_ISDIR(st.st_mode);
}

int
fd_link(int fd, const char *path, FD_LINK_HOW *how)
{
    char    proc[64];
    int     ret;

    while (*how != FD_LINK_NONE) {
        if (*how == FD_LINK_EMPTY_PATH) {
            ret = linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH);
        } else {
            (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
            ret = linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
        }
        if (ret == 0 || errno != ENOENT)
            return ret;
        if (!fd_link_dir_exists(path)) {
            errno = ENOENT;
            return -1;
        }
        *how = *how == FD_LINK_EMPTY_PATH ? FD_LINK_PROC : FD_LINK_NONE;
    }
    errno = EOPNOTSUPP;
    return -1;
}
