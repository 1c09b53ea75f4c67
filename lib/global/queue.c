/*
 * queue.c - queue directory names, queue ids, queue file creation,
 * readiness and moves.
 *
 * Interface: queue.h. Paths are relative to $queue_directory (the caller
 * has chdir'ed there).
 *
 * A new queue file is created under a temporary name that can never be
 * a queue id ("tmp.<pid>.<n>": it has dots), with O_CREAT|O_EXCL|
 * O_NOFOLLOW and mode 0600. Its id is then made from the microseconds of
 * the current time and its inode number, and the file is link()ed to
 * that name; link() never replaces an existing file, so an id collision
 * just means "try again with a new time". The temporary name is removed.
 *
 * SECURITY: queue ids come from clients; queue_id_ok() accepts only
 * [0-9A-Za-z]{1,QUEUE_ID_MAX}, so no id can hold '/' or "..". Queue names
 * are checked against the fixed list before they become part of a path.
 *
 * DIAGNOSTICS: none; a bad queue id or name is a 0 (not ok) or -1 return;
 * system call failures are -1 with errno for the caller to log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "queue.h"

#define QUEUE_CREATE_TRIES 1000

static const char *queue_names[] = {
    QUEUE_MAILDROP, QUEUE_INCOMING, QUEUE_ACTIVE, QUEUE_DEFERRED,
    QUEUE_HOLD, QUEUE_CORRUPT, QUEUE_BOUNCE, QUEUE_DEFER, QUEUE_TRACE, 0,
};

int
queue_name_ok(const char *queue)
{
    if (queue == NULL)
        return 0;
    for (const char **q = queue_names; *q; q++)
        if (strcmp(*q, queue) == 0)
            return 1;
    return 0;
}

int
queue_id_ok(const char *id)
{
    size_t  n;

    if (id == NULL)
        return 0;
    for (n = 0; id[n]; n++) {
        unsigned char ch = id[n];

        if (n >= QUEUE_ID_MAX)
            return 0;
        if (!((ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')))
            return 0;
    }
    return n > 0;
}

const char *
queue_path(VSTRING *path, const char *queue, const char *id)
{
    vstring_sprintf(path, "%s/%s", queue, id);
    return STR(path);
}

int
queue_file_ready(int fd)
{
    if (fchmod(fd, QUEUE_MODE_READY) < 0)
        return -1;
    return fsync(fd);
}

int
queue_file_is_ready(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -1;
    return (st.st_mode & S_IXUSR) ? 1 : 0;
}

/* Open a fresh temporary file in queue; fd or -1. */
static int
queue_temp_open(const char *queue, VSTRING *temp)
{
    static unsigned long serial;
    int     fd;

    for (int tries = 0; tries < QUEUE_CREATE_TRIES; tries++) {
        vstring_sprintf(temp, "%s/tmp.%ld.%lu", queue, (long) getpid(), serial++);
        fd = open(STR(temp), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  QUEUE_MODE_NEW);
        if (fd >= 0 || errno != EEXIST)
            return fd;
        /* A leftover of an earlier process with our pid: it is garbage. */
        (void) unlink(STR(temp));
    }
    errno = EEXIST;
    return -1;
}

/* Link the temporary file to its queue id name; 0 or -1. */
static int
queue_temp_publish(const char *queue, int fd, const char *temp, VSTRING *id)
{
    VSTRING *path = vstring_alloc(1024);
    struct stat st;
    struct timeval tv;
    int     ret = -1;

    if (fstat(fd, &st) < 0) {
        vstring_free(path);
        return -1;
    }
    for (int tries = 0; tries < QUEUE_CREATE_TRIES; tries++) {
        gettimeofday(&tv, NULL);
        vstring_sprintf(id, "%05lX%lX", (unsigned long) tv.tv_usec & 0xfffff,
                        (unsigned long) st.st_ino);
        queue_path(path, queue, STR(id));
        if (link(temp, STR(path)) == 0) {
            ret = 0;
            break;
        }
        if (errno != EEXIST)
            break;
        usleep(10);
    }
    vstring_free(path);
    return ret;
}

STREAM *
queue_file_create(const char *queue, VSTRING *id)
{
    VSTRING *temp;
    STREAM *s;
    int     fd;
    int     saved;

    if (!queue_name_ok(queue)) {
        errno = EINVAL;
        return NULL;
    }
    temp = vstring_alloc(1024);
    if ((fd = queue_temp_open(queue, temp)) < 0) {
        vstring_free(temp);
        return NULL;
    }
    if (queue_temp_publish(queue, fd, STR(temp), id) < 0) {
        saved = errno;
        (void) unlink(STR(temp));
        (void) close(fd);
        vstring_free(temp);
        errno = saved;
        return NULL;
    }
    (void) unlink(STR(temp));
    vstring_free(temp);
    if ((s = stream_fdopen(fd)) == NULL) {
        saved = errno;
        (void) close(fd);
        errno = saved;
    }
    return s;
}

int
queue_sync_dir(const char *dir)
{
    int     fd;
    int     ret;

    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return -1;
    ret = fsync(fd);
    (void) close(fd);
    return ret;
}

int
queue_file_move(const char *from_queue, const char *to_queue, const char *id, int durable)
{
    char    from[256];
    char    to[256];

    if (!queue_name_ok(from_queue) || !queue_name_ok(to_queue) || !queue_id_ok(id)) {
        errno = EINVAL;
        return -1;
    }
    snprintf(from, sizeof(from), "%s/%s", from_queue, id);
    snprintf(to, sizeof(to), "%s/%s", to_queue, id);
    if (rename(from, to) < 0)
        return -1;
    if (durable && queue_sync_dir(to_queue) < 0)
        return -1;
    return 0;
}
